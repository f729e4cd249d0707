//! The offline password-policy check (input checks, length, blocklist, user context, zxcvbn)
//! for a typical 12-character password and a 28-character passphrase, beside zxcvbn alone on
//! the same inputs.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group};
use soc2_auth::password::{PasswordChecker, PasswordPolicy, UserContext};
use soc2_core::Preset;

const INPUTS: [(&str, &str); 2] = [
    ("12_chars", "Tr0ub4dor&3x"),
    ("passphrase_28_chars", "correct horse battery staple"),
];

fn password_policy(c: &mut Criterion) {
    let checker =
        PasswordChecker::new(PasswordPolicy::from_preset(Preset::Soc2Strict).with_min_length(12));
    let user = UserContext::default()
        .with_username("alice")
        .with_email("alice@example.com")
        .with_app_name("Acme Deploy");
    let inputs = ["alice", "alice", "example", "com", "Acme Deploy"];
    let mut group = c.benchmark_group("password_policy");
    for (name, password) in INPUTS {
        group.bench_function(format!("sdk_check_offline/{name}"), |b| {
            b.iter(|| checker.check_offline(std::hint::black_box(password), &user))
        });
        group.bench_function(format!("raw_zxcvbn/{name}"), |b| {
            b.iter(|| zxcvbn::zxcvbn(std::hint::black_box(password), &inputs))
        });
    }
    group.finish();
}

criterion_group!(benches, password_policy);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
