#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Password policy behaviour: presets, configuration, normalisation, every violation code,
//! bounded cost, and the offline Have I Been Pwned lookup.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use soc2_auth::password::{
    BreachedCheckError, BreachedPasswordCheck, CharClass, HibpFile, MAX_PASSWORD_BYTES,
    PasswordCheckError, PasswordChecker, PasswordInputError, PasswordPolicy, PasswordPolicyError,
    PasswordRejected, UserContext, ViolationCode, normalize_password,
};
use soc2_core::Preset;

const DAY: Duration = Duration::from_secs(86_400);
const STRONG: &str = "plinth quasar tundra 42";

use ViolationCode::{
    Breached, Common, Composition, ContainsUserContext, Empty, InvalidCharacter, TooLong, TooShort,
    TooWeak,
};

fn checker(preset: Preset) -> PasswordChecker {
    PasswordChecker::new(PasswordPolicy::from_preset(preset))
}

fn listed(rejected: &PasswordRejected) -> Vec<ViolationCode> {
    rejected.violations().iter().map(|v| v.code()).collect()
}

fn codes<T>(result: Result<T, PasswordRejected>) -> Vec<ViolationCode> {
    result.err().as_ref().map(listed).unwrap_or_default()
}

fn offline(checker: &PasswordChecker, candidate: &str) -> Vec<ViolationCode> {
    codes(checker.check_offline(candidate, &UserContext::default()))
}

// --- Presets and configuration --------------------------------------------------------------

#[test]
fn presets_carry_their_sources_values() {
    type Row = (
        Preset,
        usize,
        usize,
        u8,
        &'static [CharClass],
        usize,
        Option<Duration>,
        Option<Duration>,
    );
    let rows: [Row; 4] = [
        (Preset::Nist80063bAal2, 8, 64, 2, &[], 0, None, None),
        (Preset::AsvsL2, 12, 128, 3, &[], 0, None, None),
        (
            Preset::Pci4,
            12,
            128,
            2,
            &[CharClass::Alphabetic, CharClass::Numeric],
            4,
            Some(DAY),
            Some(90 * DAY),
        ),
        (Preset::Soc2Strict, 15, 128, 3, &[], 4, Some(DAY), None),
    ];
    for (preset, min, max, score, composition, history, min_age, max_age) in rows {
        let policy = PasswordPolicy::from_preset(preset);
        assert_eq!(policy.min_length(), min, "{preset:?}");
        assert_eq!(policy.max_length(), max, "{preset:?}");
        assert_eq!(policy.max_input_bytes(), MAX_PASSWORD_BYTES, "{preset:?}");
        assert_eq!(policy.min_score(), score, "{preset:?}");
        assert!(policy.blocklist(), "{preset:?}");
        assert_eq!(policy.composition(), composition, "{preset:?}");
        assert_eq!(policy.min_classes(), 0, "{preset:?}");
        assert_eq!(policy.history_depth(), history, "{preset:?}");
        assert_eq!(policy.min_age(), min_age, "{preset:?}");
        assert_eq!(policy.max_age(), max_age, "{preset:?}");
        assert_eq!(policy.clone().validate(), Ok(policy), "{preset:?}");
    }
}

#[test]
fn toml_overrides_a_preset() {
    let policy = PasswordPolicy::from_toml(
        r#"
        preset = "soc2-strict"
        min_length = 14
        max_length = 100
        max_input_bytes = 2048
        min_score = 4
        blocklist = false
        composition = ["numeric", "alphabetic", "numeric"]
        min_classes = 2
        history_depth = 6
        min_age = "2d"
        max_age = "90d"
        "#,
    )
    .unwrap();
    assert_eq!(
        policy,
        PasswordPolicy::from_preset(Preset::Soc2Strict)
            .with_min_length(14)
            .with_max_length(100)
            .with_max_input_bytes(2048)
            .with_min_score(4)
            .with_blocklist(false)
            .with_composition([CharClass::Alphabetic, CharClass::Numeric])
            .with_min_classes(2)
            .with_history_depth(6)
            .with_min_age(Some(2 * DAY))
            .with_max_age(Some(90 * DAY))
    );
    assert_eq!(
        policy.composition(),
        [CharClass::Alphabetic, CharClass::Numeric]
    );

    let pci = PasswordPolicy::from_toml(
        "preset = \"pci4\"\ncomposition = []\nmin_age = \"none\"\nmax_age = \"none\"",
    )
    .unwrap();
    assert_eq!(pci.composition(), []);
    assert_eq!((pci.min_age(), pci.max_age()), (None, None));
    assert_eq!(
        pci.history_depth(),
        4,
        "untouched keys keep the preset's value"
    );

    for (name, preset) in [
        ("nist80063b-aal2", Preset::Nist80063bAal2),
        ("asvs-l2", Preset::AsvsL2),
        ("pci4", Preset::Pci4),
        ("soc2-strict", Preset::Soc2Strict),
    ] {
        assert_eq!(
            PasswordPolicy::from_toml(&format!("preset = \"{name}\"")),
            Ok(PasswordPolicy::from_preset(preset))
        );
    }
}

#[test]
fn bad_toml_is_refused_with_a_reason() {
    let cases = [
        ("preset = \"nist\"", "unknown variant"),
        (
            "preset = \"pci4\"\nmin_lenght = 10",
            "unknown field `min_lenght`",
        ),
        (
            "preset = \"pci4\"\nmax_age = \"soon\"",
            "not \"none\" or a duration",
        ),
        (
            "preset = \"pci4\"\ncomposition = [\"digits\"]",
            "unknown variant `digits`",
        ),
        ("preset = \"pci4\"\nmin_score = -1", "invalid value"),
        ("min_length = 10", "missing field `preset`"),
    ];
    for (text, reason) in cases {
        match PasswordPolicy::from_toml(text) {
            Err(PasswordPolicyError::Config(message)) => {
                assert!(message.contains(reason), "{text}: {message}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    assert_eq!(
        PasswordPolicy::from_toml("preset = \"pci4\"\nmin_score = 5"),
        Err(PasswordPolicyError::ScoreOutOfRange(5))
    );
    assert_eq!(
        PasswordPolicy::from_toml("preset = \"pci4\"\nmin_age = \"0s\""),
        Err(PasswordPolicyError::ZeroAge("min_age"))
    );
}

#[test]
fn contradictions_are_refused() {
    let base = || PasswordPolicy::from_preset(Preset::Nist80063bAal2);
    let cases = [
        (
            base().with_min_length(0),
            PasswordPolicyError::ZeroMinLength,
        ),
        (
            base().with_max_length(63),
            PasswordPolicyError::MaxLengthBelow64 { max_length: 63 },
        ),
        (
            base().with_min_length(65),
            PasswordPolicyError::MinAboveMax {
                min_length: 65,
                max_length: 64,
            },
        ),
        (
            base().with_max_length(300),
            PasswordPolicyError::InputCapBelowMaxLength {
                max_input_bytes: 1024,
                max_length: 300,
            },
        ),
        (
            base().with_max_input_bytes(16 * 1024 + 1),
            PasswordPolicyError::InputCapTooLarge(16 * 1024 + 1),
        ),
        (
            base().with_min_score(5),
            PasswordPolicyError::ScoreOutOfRange(5),
        ),
        (
            base().with_min_classes(5),
            PasswordPolicyError::ClassesOutOfRange(5),
        ),
        (
            base().with_history_depth(25),
            PasswordPolicyError::HistoryTooDeep(25),
        ),
        (
            base().with_max_age(Some(Duration::ZERO)),
            PasswordPolicyError::ZeroAge("max_age"),
        ),
        (
            base()
                .with_min_age(Some(90 * DAY))
                .with_max_age(Some(90 * DAY)),
            PasswordPolicyError::MinAgeNotBelowMaxAge {
                min_age: 90 * DAY,
                max_age: 90 * DAY,
            },
        ),
    ];
    for (policy, error) in cases {
        assert_eq!(policy.validate(), Err(error));
    }
    assert!(
        base().with_max_length(256).validate().is_ok(),
        "4 × 256 = 1024"
    );
}

// --- Normalisation --------------------------------------------------------------------------

#[test]
fn lengths_count_code_points_after_nfkc() {
    let nist = checker(Preset::Nist80063bAal2);
    // "ﬁ" is one code point that normalises to two.
    assert_eq!(normalize_password(&"ﬁ".repeat(4), 64).unwrap().chars(), 8);
    assert_eq!(offline(&nist, "ﬁ".repeat(3).as_str()), [TooShort, TooWeak]);
    // Full-width letters normalise to ASCII, and then the blocklist recognises them.
    assert_eq!(
        normalize_password("ｐａｓｓｗｏｒｄ１２３", 64)
            .unwrap()
            .as_bytes(),
        b"password123"
    );
    assert!(offline(&nist, "ｐａｓｓｗｏｒｄ１２３").contains(&Common));
    // "e" + combining acute composes to one code point: 14 code points typed, 7 counted.
    let composed = "e\u{301}".repeat(7);
    assert_eq!(normalize_password(&composed, 64).unwrap().chars(), 7);
    assert!(offline(&nist, &composed).contains(&TooShort));
    assert!(!offline(&nist, &"e\u{301}".repeat(8)).contains(&TooShort));
}

#[test]
fn case_is_preserved() {
    let upper = normalize_password("Tundra-Plinth", 64).unwrap();
    let lower = normalize_password("tundra-plinth", 64).unwrap();
    assert_eq!(upper.as_bytes(), b"Tundra-Plinth");
    assert_ne!(upper, lower);
}

#[test]
fn bad_input_is_refused_alone() {
    let strict = checker(Preset::Soc2Strict);
    assert_eq!(offline(&strict, ""), [Empty]);
    assert_eq!(
        offline(&strict, "plinth\0quasar tundra"),
        [InvalidCharacter]
    );
    assert_eq!(
        offline(&strict, "plinth quasar\ttundra"),
        [InvalidCharacter]
    );
    assert_eq!(
        normalize_password("a\u{0}", 64).unwrap_err(),
        PasswordInputError::InvalidCharacter
    );
    assert_eq!(
        normalize_password("", 64).unwrap_err(),
        PasswordInputError::Empty
    );
}

#[test]
fn a_ten_megabyte_password_costs_nothing() {
    let strict = checker(Preset::Soc2Strict);
    let huge = "x".repeat(10 * 1024 * 1024);
    let start = Instant::now();
    let result = strict.check_offline(&huge, &UserContext::default());
    let elapsed = start.elapsed();
    let rejected = result.unwrap_err();
    assert_eq!(listed(&rejected), [TooLong]);
    assert_eq!(
        rejected.violations()[0].message(),
        "The password must be at most 1024 bytes long."
    );
    assert!(elapsed < Duration::from_millis(50), "{elapsed:?}");
    assert_eq!(
        normalize_password(&huge, MAX_PASSWORD_BYTES).unwrap_err(),
        PasswordInputError::TooLong { max_bytes: 1024 }
    );
}

// --- Rules ----------------------------------------------------------------------------------

#[test]
fn every_violation_is_listed() {
    let pci = checker(Preset::Pci4);
    let rejected = pci
        .check_offline("password", &UserContext::default())
        .unwrap_err();
    let listed: Vec<_> = rejected.violations().iter().map(|v| v.code()).collect();
    assert_eq!(listed, [TooShort, Composition, Common, TooWeak]);
    assert_eq!(
        rejected.to_string(),
        "password rejected: too_short, composition, common, too_weak"
    );
    assert_eq!(
        rejected.violations()[0].message(),
        "The password must be at least 12 characters long."
    );
    assert_eq!(
        rejected.violations()[1].message(),
        "The password must contain at least a digit."
    );
}

#[test]
fn nothing_echoes_the_password() {
    let strict = checker(Preset::Soc2Strict);
    let user = UserContext::default().with_username("alice");
    for candidate in [
        "Xylo",
        "Xylophone",
        "Xylophone-Quasar-Tundra-9",
        "Xylo\0",
        "alice-Xylo",
    ] {
        let result = strict.check_offline(candidate, &user);
        let mut shown = format!("{result:?}");
        if let Err(rejected) = &result {
            shown.push_str(&rejected.to_string());
            for violation in rejected.violations() {
                shown.push_str(violation.message());
            }
        }
        assert!(!shown.contains("Xylo"), "{shown}");
    }
}

#[test]
fn too_long_is_reported_with_the_other_rules() {
    let nist = checker(Preset::Nist80063bAal2);
    assert_eq!(offline(&nist, &"a".repeat(65)), [TooLong, TooWeak]);
    assert_eq!(offline(&nist, &"a".repeat(64)), [TooWeak]);
    let long_passphrase = "plinth quasar tundra 42 ".repeat(3);
    assert_eq!(offline(&nist, &long_passphrase), [TooLong]);
    assert_eq!(offline(&nist, &long_passphrase[..64]), []);
}

#[test]
fn common_passwords_are_refused_whatever_their_case() {
    let nist = checker(Preset::Nist80063bAal2).policy().clone();
    // Strength estimation off, so only the blocklist speaks.
    let blocklist_only = PasswordChecker::new(nist.clone().with_min_score(0));
    for candidate in [
        "password123",
        "PassWord1234",
        "P@SSW0RD",
        "QwertyUiop",
        "iloveyou",
    ] {
        assert_eq!(offline(&blocklist_only, candidate), [Common], "{candidate}");
    }
    let off = PasswordChecker::new(nist.with_min_score(0).with_blocklist(false));
    assert_eq!(offline(&off, "PassWord1234"), []);
}

#[test]
fn composition_rules_apply_only_when_asked() {
    let pci = checker(Preset::Pci4);
    assert_eq!(offline(&pci, "plinth quasar tundra"), [Composition]);
    assert_eq!(offline(&pci, "plinth quasar tundra 42"), []);
    assert_eq!(
        offline(&checker(Preset::AsvsL2), "plinth quasar tundra"),
        []
    );
    let four_kinds =
        PasswordChecker::new(PasswordPolicy::from_preset(Preset::AsvsL2).with_min_classes(4));
    assert_eq!(
        offline(&four_kinds, "plinth quasar tundra 42"),
        [Composition]
    );
    assert_eq!(offline(&four_kinds, "Plinth quasar tundra 42"), []);
}

#[test]
fn passwords_built_from_the_user_are_refused() {
    let strict = checker(Preset::Soc2Strict);
    let alice = UserContext::default()
        .with_username("alice.wonder")
        .with_email("alice.wonder@example.com")
        .with_display_name("Alice Wonder");
    assert_eq!(
        codes(strict.check_offline("Alice.Wonder2024!", &alice)),
        [ContainsUserContext, TooWeak]
    );
    assert_eq!(
        codes(strict.check_offline("quasar WONDER tundra 42", &alice)),
        [ContainsUserContext]
    );
    assert_eq!(
        codes(strict.check_offline("quasar WONDER tundra 42", &UserContext::default())),
        []
    );

    // The application's name counts too, whole or word by word.
    let app = UserContext::default().with_app_name("Zorblax Ledger");
    for (candidate, expected) in [
        ("ZorblaxLedger2024!", &[ContainsUserContext, TooWeak][..]),
        ("my ledger of tundra quasars", &[ContainsUserContext]),
        ("zorblax-plinth-tundra", &[ContainsUserContext]),
    ] {
        assert_eq!(
            codes(strict.check_offline(candidate, &app)),
            expected,
            "{candidate}"
        );
        assert_eq!(
            codes(strict.check_offline(candidate, &UserContext::default())),
            [],
            "{candidate}"
        );
    }
}

#[test]
fn accepted_passwords_come_back_normalised() {
    let asvs = checker(Preset::AsvsL2);
    let password = asvs
        .check_offline("ｐlinth quasar tundra 42", &UserContext::default())
        .unwrap();
    assert_eq!(password.as_bytes(), STRONG.as_bytes());
    assert_eq!(password.chars(), 23);
    assert_eq!(format!("{password:?}"), "NormalizedPassword([redacted])");
}

// --- Bounded cost ---------------------------------------------------------------------------

/// Inputs that make zxcvbn slow: many distinct l33t characters (the acsploit string of
/// shssoichiro/zxcvbn-rs#69 takes zxcvbn 16 s in a debug build and 0.7 s in release on a
/// 2-core machine), and the slowest strings found within the work budget (about 140 ms in a
/// debug build and 11 to 16 ms in release on the same machine).
#[test]
fn crafted_inputs_stay_cheap() {
    let acsploit = "4@8({[</369&#!1/|0$5+7%2/";
    let candidates = [
        acsploit.repeat(4),
        acsploit.repeat(40),
        " .,?!'-/_:;+()@$\"#&*<>=[]\\~%^{}|1234567890".repeat(3),
        "b4n4n@m4ng06r@p9sug4r".repeat(5),
        "sgseatn6ottit@ggsini4rn4gngsge@ioensrgsr@ss6ta@@tgegoe4n6rog4iteii@esmm4gmn4t6e4msa46oea@trmg4s6e".to_owned(),
        "4a@s6i9l".repeat(13),
        "({[<".repeat(25),
        "1234567890".repeat(10),
        "é字🙂".repeat(34),
    ];
    let strict =
        PasswordChecker::new(PasswordPolicy::from_preset(Preset::Soc2Strict).with_min_score(4));
    let user = UserContext::default()
        .with_username("alice")
        .with_app_name("Acme");
    let _ = strict.check_offline("warm up the lazy tables", &user);
    for candidate in &candidates {
        let start = Instant::now();
        let _ = strict.check_offline(candidate, &user);
        let elapsed = start.elapsed();
        assert!(
            elapsed < Duration::from_secs(1),
            "{elapsed:?} for {candidate:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary text, long or short, any script: no panic, and the same answer twice.
    #[test]
    fn any_input_gets_a_deterministic_answer(
        candidate in prop_oneof![
            any::<String>(),
            "\\PC{0,300}",
            "[a-z0-9!@#$%|({\\[<]{0,400}",
            "[\\x00-\\x{10FFFF}]{0,1100}",
        ]
    ) {
        let checker = checker(Preset::Soc2Strict);
        let user = UserContext::default().with_username("alice").with_email("alice@example.com");
        let first = checker.check_offline(&candidate, &user);
        let second = checker.check_offline(&candidate, &user);
        match (&first, &second) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => {
                prop_assert_eq!(a, b);
                prop_assert!(!a.violations().is_empty());
            }
            _ => prop_assert!(false, "different outcomes"),
        }
        if candidate.len() > MAX_PASSWORD_BYTES {
            prop_assert_eq!(codes(first), vec![TooLong]);
        }
    }
}

// --- Breached passwords ---------------------------------------------------------------------

fn sha1_hex(password: &str) -> String {
    hex::encode_upper(digest(&SHA1_FOR_LEGACY_USE_ONLY, password.as_bytes()))
}

/// A corpus of `STRONG` plus 3,000 generated passwords, sorted by hash; password `pw-{i}`
/// appears `i + 1` times and `STRONG` 7 times.
fn corpus_lines() -> Vec<(String, String, u64)> {
    let mut lines: Vec<(String, String, u64)> = (0..3000u64)
        .map(|i| {
            let password = format!("pw-{i}");
            (sha1_hex(&password), password, i + 1)
        })
        .collect();
    lines.push((sha1_hex(STRONG), STRONG.to_owned(), 7));
    lines.sort();
    lines
}

fn write_corpus(dir: &Path, name: &str, lines: &[(String, String, u64)], end: &str) -> PathBuf {
    let text: String = lines
        .iter()
        .map(|(hash, _, count)| format!("{hash}:{count}{end}"))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn normalized(password: &str) -> soc2_auth::password::NormalizedPassword {
    normalize_password(password, MAX_PASSWORD_BYTES).unwrap()
}

#[tokio::test]
async fn hibp_lookups_find_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let lines = corpus_lines();
    for end in ["\n", "\r\n"] {
        let path = write_corpus(dir.path(), "pwned.txt", &lines, end);
        let hibp = HibpFile::open(&path).unwrap();
        assert_eq!(hibp.path(), path);
        let last = lines.len() - 1;
        for index in [0, 1, last / 2, last - 1, last] {
            let (_, password, count) = &lines[index];
            assert_eq!(
                hibp.breach_count(&normalized(password)).await.unwrap(),
                Some(*count),
                "line {index} with {end:?}"
            );
        }
        for (_, password, count) in lines.iter().step_by(97) {
            assert_eq!(
                hibp.breach_count(&normalized(password)).await.unwrap(),
                Some(*count)
            );
        }
        for absent in ["pw-3000", "pw--1", "correct horse battery staple"] {
            assert_eq!(hibp.breach_count(&normalized(absent)).await.unwrap(), None);
        }
        let frequent = hibp.with_min_count(100);
        assert_eq!(
            frequent.breach_count(&normalized("pw-98")).await.unwrap(),
            None
        );
        assert_eq!(
            frequent.breach_count(&normalized("pw-99")).await.unwrap(),
            Some(100)
        );
    }
    // The final line may lack its line end.
    let path = write_corpus(dir.path(), "no-final-newline.txt", &lines, "\n");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.trim_end()).unwrap();
    let hibp = HibpFile::open(&path).unwrap();
    let (_, password, count) = lines.last().unwrap();
    assert_eq!(
        hibp.breach_count(&normalized(password)).await.unwrap(),
        Some(*count)
    );
}

#[tokio::test]
async fn the_checker_refuses_breached_passwords_and_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_corpus(dir.path(), "pwned.txt", &corpus_lines(), "\n");
    let asvs =
        checker(Preset::AsvsL2).with_breached_check(Arc::new(HibpFile::open(&path).unwrap()));
    let none = UserContext::default();

    assert!(
        asvs.check_offline(STRONG, &none).is_ok(),
        "only the corpus knows it"
    );
    match asvs.check(STRONG, &none).await {
        Err(PasswordCheckError::Rejected(rejected)) => {
            assert_eq!(listed(&rejected), [Breached]);
            assert_eq!(
                rejected.violations()[0].message(),
                "The password has appeared in data breaches (7 times) and is tried early by \
                 attackers."
            );
        }
        other => panic!("{other:?}"),
    }
    match asvs.check("pw-12", &none).await {
        Err(PasswordCheckError::Rejected(rejected)) => {
            assert_eq!(listed(&rejected), [TooShort, TooWeak, Breached]);
        }
        other => panic!("{other:?}"),
    }
    let accepted = asvs.check("quasar plinth tundra 42", &none).await.unwrap();
    assert_eq!(accepted.as_bytes(), b"quasar plinth tundra 42");
    match asvs.check("", &none).await {
        Err(PasswordCheckError::Rejected(rejected)) => {
            assert_eq!(listed(&rejected), [Empty]);
        }
        other => panic!("{other:?}"),
    }

    // The file disappears: the check fails, and so does the password.
    std::fs::remove_file(&path).unwrap();
    match asvs.check("quasar plinth tundra 42", &none).await {
        Err(PasswordCheckError::Breached(BreachedCheckError::Io { path: failed, .. })) => {
            assert_eq!(failed, path);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn damaged_files_give_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let lines = corpus_lines();
    let good = std::fs::read(write_corpus(dir.path(), "good.txt", &lines, "\n")).unwrap();
    let corrupt_at = |result: Result<_, BreachedCheckError>| match result {
        Err(BreachedCheckError::Corrupt { offset, .. }) => offset,
        other => panic!("{other:?}"),
    };
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };

    assert_eq!(corrupt_at(HibpFile::open(write("empty.txt", b""))), 0);
    assert_eq!(
        corrupt_at(HibpFile::open(write("text.txt", b"hello world\n"))),
        0
    );
    assert_eq!(
        corrupt_at(HibpFile::open(write("one-long-line.txt", &[b'A'; 100_000]))),
        0
    );
    // Cut mid-line, as an interrupted download would be.
    let cut = good.len() - 20;
    let last_line = good[..cut].iter().rposition(|b| *b == b'\n').unwrap() + 1;
    assert_eq!(
        corrupt_at(HibpFile::open(write("truncated.txt", &good[..cut]))),
        last_line as u64
    );
    let mut long_tail = good.clone();
    long_tail.extend_from_slice(&[b'A'; 70]);
    assert_eq!(
        corrupt_at(HibpFile::open(write("long-tail.txt", &long_tail))),
        (long_tail.len() - 64) as u64
    );
    assert!(matches!(
        HibpFile::open(dir.path().join("missing.txt")),
        Err(BreachedCheckError::Io { .. })
    ));

    // Damage in the middle is found by the lookups that read it.
    let mut damaged = good.clone();
    let middle = damaged.len() / 2;
    damaged[middle - 200..middle + 200].fill(b'#');
    let hibp = HibpFile::open(write("damaged.txt", &damaged)).unwrap();
    let (_, password, _) = &lines[lines.len() / 2];
    assert!(matches!(
        hibp.breach_count(&normalized(password)).await,
        Err(BreachedCheckError::Corrupt { .. })
    ));

    // An unsorted file cannot be searched, but a lookup still ends.
    let mut reversed = lines.clone();
    reversed.reverse();
    let hibp = HibpFile::open(write_corpus(dir.path(), "reversed.txt", &reversed, "\n")).unwrap();
    for (_, password, _) in lines.iter().step_by(500) {
        assert!(hibp.breach_count(&normalized(password)).await.is_ok());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the file holds, opening and searching it ends with an answer or a typed error.
    #[test]
    fn arbitrary_files_never_panic_or_hang(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..2000),
            proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b':'), Just(b'A'), Just(b'0'), Just(b'\r')], 0..2000),
        ]
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzz.txt");
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(hibp) = HibpFile::open(&path) {
            let _ = block_on(hibp.breach_count(&normalized("pw-1")));
        }
    }
}

#[test]
fn lookups_work_outside_a_tokio_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let lines = corpus_lines();
    let hibp = HibpFile::open(write_corpus(dir.path(), "pwned.txt", &lines, "\n")).unwrap();
    let (_, password, count) = &lines[1234];
    assert_eq!(
        block_on(hibp.breach_count(&normalized(password))).unwrap(),
        Some(*count)
    );
}

/// Polls a future that never waits (as a lookup outside tokio never does) to completion.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}
