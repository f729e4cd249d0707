//! Password verification at the default argon2id parameters (m = 19456 KiB, t = 2, p = 1):
//! `PasswordHasher::verify` (PHC parse, semaphore, blocking pool) and the whole
//! `PasswordAuth::verify` login step (lockout slot, audit event) beside calling the argon2
//! crate directly on the caller's thread. Prints paired medians (SDK and raw calls alternating).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use criterion::{Criterion, criterion_group};
use soc2_auth::password::normalize_password;
use soc2_auth::{HashParams, PasswordCheck};
use soc2_benches::{password_service, runtime};
use soc2_core::RequestContext;

const PASSWORD: &str = "correct horse battery staple";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn password_verify(c: &mut Criterion) {
    let rt = runtime();
    let (auth, user, _audit) =
        rt.block_on(password_service(HashParams::default(), "alice", PASSWORD));
    let stored = rt
        .block_on(auth.credential(user))
        .unwrap()
        .password
        .unwrap();
    let phc = PasswordHash::new(stored.as_str()).unwrap();
    let password = normalize_password(PASSWORD, 1024).unwrap();
    let hasher = auth.hasher().clone();
    let context = RequestContext::new();

    let sdk_hash = || {
        rt.block_on(hasher.verify(&password, &stored)).unwrap();
    };
    let sdk_login = || {
        let check = rt
            .block_on(auth.verify("alice", PASSWORD, &context))
            .unwrap();
        assert!(matches!(check, PasswordCheck::Verified(_)));
    };
    let raw = || {
        Argon2::default()
            .verify_password(PASSWORD.as_bytes(), &phc)
            .unwrap();
    };

    let mut group = c.benchmark_group("password_verify");
    group.sample_size(20);
    group.bench_function("sdk_hasher_verify", |b| b.iter(sdk_hash));
    group.bench_function("sdk_login_password_step", |b| b.iter(sdk_login));
    group.bench_function("raw_argon2_verify", |b| b.iter(raw));
    group.finish();

    let (mut hash_times, mut login_times, mut raw_times) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..60 {
        let start = Instant::now();
        sdk_hash();
        hash_times.push(start.elapsed());
        let start = Instant::now();
        raw();
        raw_times.push(start.elapsed());
        let start = Instant::now();
        sdk_login();
        login_times.push(start.elapsed());
    }
    let (hash, login, raw) = (median(hash_times), median(login_times), median(raw_times));
    println!(
        "verify = {:.3}x argon2 direct; full login password step = {:.3}x (paired medians of 60: hasher {hash:?}, login {login:?}, raw {raw:?})",
        hash.as_secs_f64() / raw.as_secs_f64(),
        login.as_secs_f64() / raw.as_secs_f64(),
    );
}

criterion_group!(benches, password_verify);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
