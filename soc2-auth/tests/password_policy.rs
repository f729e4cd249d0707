#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! scratch
use std::time::{Duration, Instant};

use soc2_auth::password::*;
use soc2_core::Preset;

fn time(checker: &PasswordChecker, pw: &str) -> Duration {
    let user = UserContext::default()
        .with_username("alice")
        .with_email("alice@example.com")
        .with_app_name("Acme");
    let start = Instant::now();
    let _ = checker.check_offline(pw, &user);
    start.elapsed()
}

#[test]
#[ignore]
fn scratch_search() {
    let checker =
        PasswordChecker::new(PasswordPolicy::from_preset(Preset::Soc2Strict).with_min_score(4));
    let base = "4@8({[</369&#!1/|0$5+7%2/";
    let mut named: Vec<(String, String)> = vec![
        ("acsploit".into(), base.repeat(4)),
        (
            "punct".into(),
            " .,?!'-/_:;+()@$\"#&*<>=[]\\~%^{}|1234567890".repeat(3),
        ),
        ("a100".into(), "a".repeat(100)),
        ("digits".into(), "1234567890".repeat(10)),
        ("c4".into(), "({[<".repeat(25)),
        ("ag".into(), "4@69".repeat(25)),
        ("ag2".into(), "a4b@c6d9".repeat(13)),
        ("single".into(), "830%2".repeat(20)),
        ("single2".into(), "8x3y0z%w2v".repeat(10)),
        ("dates".into(), "19/02/2012".repeat(10)),
        (
            "rand".into(),
            "xK9#mQ2$vL7!pR4@nT6&wB8*zC3%hJ5^fG1(dS0)".repeat(3),
        ),
        (
            "words".into(),
            "passwordqwertydragonmonkeyletmein".repeat(3),
        ),
        ("l33twords".into(), "p4ssw0rdm0nk3yl3tm31n".repeat(5)),
        ("uni".into(), "é字🙂".repeat(34)),
        ("seq".into(), "abcdefghijklmnopqrstuvwxyz".repeat(4)),
        ("kbd".into(), "qazwsxedcrfvtgbyhnujmikolp".repeat(4)),
        ("aab".into(), "aab".repeat(34)),
        ("abab_b".into(), format!("{}b", "ab".repeat(49))),
    ];
    // crafted: pick chars to keep tables t with n at budget
    for t_chars in [
        "4@", "({[<", "4@69", "({[<4@", "1|7", "1|", "!1|", "$5+7", "69$5",
    ] {
        let mut s = String::new();
        let fillers = ["a", "s", "i", "l", "e", "o", "p", "w", "r", "d"];
        let mut k = 0;
        while s.chars().count() < 100 {
            for c in t_chars.chars() {
                s.push(c);
                s.push_str(fillers[k % fillers.len()]);
                k += 1;
            }
        }
        named.push((format!("mix {t_chars}"), s.chars().take(100).collect()));
    }
    for (name, pw) in &named {
        let mut best = Duration::ZERO;
        for _ in 0..2 {
            best = best.max(time(&checker, pw));
        }
        println!("{name:>14}: {best:?}");
    }
    // random search
    let alphabet: Vec<char> = "4@8({[<3691!|7 0$5+%2asilteogbczxpwrdASILTEOG.-_/#&*^"
        .chars()
        .collect();
    let mut seed: u64 = 0x1234_5678;
    let mut worst = (Duration::ZERO, String::new());
    for _ in 0..300 {
        let len = 20 + (seed % 81) as usize;
        let mut s = String::new();
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let t = time(&checker, &s);
        if t > worst.0 {
            worst = (t, s);
        }
    }
    println!("random worst: {:?} {:?}", worst.0, worst.1);
}
