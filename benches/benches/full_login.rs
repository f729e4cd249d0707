//! A full login, end to end on SQLite: `Authenticator::login` (password at the default
//! argon2id parameters, lockout counter, MFA challenge) then `complete_mfa` with a TOTP code
//! (replay check, session created), every store and the audit log on one SQLite file. Reports
//! the p50 of the whole and of each step, and the share spent in argon2 (one verify of the
//! same hash with the argon2 crate, measured in the same run).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use criterion::{Criterion, criterion_group};
use soc2_audit::{AuditLog, AuditLogConfig};
use soc2_auth::login::{Authenticator, LoginOutcome, MfaProof};
use soc2_auth::mfa::{MfaAuth, TotpSettings};
use soc2_auth::password::UserContext;
use soc2_auth::{HashParams, PasswordAuth, PasswordHasher, Sealer};
use soc2_benches::runtime;
use soc2_core::{Clock, ManualClock, Preset, RequestContext, UserId};
use soc2_session::{SessionManager, SessionPolicy};
use soc2_sqlx::sqlite;
use soc2_testkit::test_keys;
use time::macros::datetime;
use tokio::runtime::Runtime;

const PASSWORD: &str = "correct horse battery staple";
const USERS: usize = 64;
const STEP: Duration = Duration::from_secs(30);

struct Bench {
    clock: Arc<ManualClock>,
    login: Authenticator,
    passwords: PasswordAuth,
    settings: TotpSettings,
    users: Vec<(String, Vec<u8>)>,
}

fn unix(clock: &ManualClock) -> u64 {
    u64::try_from(clock.now().unix_timestamp()).unwrap()
}

fn setup(rt: &Runtime) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("login.db").display());
    std::mem::forget(dir);
    let pool = rt.block_on(sqlite::connect(&url)).unwrap();
    rt.block_on(sqlite::migrate(&pool)).unwrap();
    let _runtime = rt.enter();
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
    let audit = AuditLog::start(
        Arc::new(sqlite::SqliteAuditStore::new(
            pool.clone(),
            &test_keys("audit", 1),
        )),
        AuditLogConfig::default(),
    );
    let lockouts = Arc::new(sqlite::SqliteLockoutStore::new(pool.clone()));
    let mfa_store = Arc::new(sqlite::SqliteMfaStore::new(pool.clone()).sharing_lockouts());
    let passwords = PasswordAuth::new(
        Arc::new(sqlite::SqliteCredentialStore::new(pool.clone())),
        lockouts.clone(),
        PasswordHasher::new(HashParams::default()).unwrap(),
        audit.clone(),
        clock.clone(),
    );
    let settings = TotpSettings::new("Bench");
    let mfa = MfaAuth::new(
        mfa_store.clone(),
        lockouts,
        Sealer::new(test_keys("seal", 2)),
        settings.clone(),
        audit.clone(),
        clock.clone(),
    );
    let sessions = SessionManager::new(
        Arc::new(sqlite::SqliteSessionStore::new(pool)),
        SessionPolicy::from_preset(Preset::Soc2Strict),
        clock.clone(),
        audit.clone(),
    );
    let login = Authenticator::new(
        passwords.clone(),
        mfa.clone(),
        sessions,
        mfa_store,
        audit,
        clock.clone(),
    );
    let users = rt.block_on(async {
        let mut users = Vec::new();
        for n in 0..USERS {
            let (user, name) = (UserId::new_v7(), format!("user-{n}"));
            let ctx = RequestContext::new();
            passwords
                .register(user, &name, Some(PASSWORD), &UserContext::default(), &ctx)
                .await
                .unwrap();
            let enrollment = mfa.begin_totp(user, &name).await.unwrap();
            let seed = totp_rs::Secret::try_from_base32(enrollment.secret_base32.expose_secret())
                .unwrap()
                .as_bytes()
                .to_vec();
            let code = settings.code_at(&seed, unix(&clock));
            mfa.confirm_totp(user, &code, &ctx).await.unwrap().unwrap();
            users.push((name, seed));
        }
        users
    });
    clock.advance(STEP);
    Bench {
        clock,
        login,
        passwords,
        settings,
        users,
    }
}

impl Bench {
    /// One full login of user `n` (each call on a fresh time step); the two steps' times.
    fn full_login(&self, rt: &Runtime, n: usize) -> (Duration, Duration) {
        self.clock.advance(STEP);
        let (name, seed) = &self.users[n % USERS];
        let ctx = RequestContext::new();
        rt.block_on(async {
            let started = Instant::now();
            let challenge = match self.login.login(name, PASSWORD, &ctx).await.unwrap() {
                LoginOutcome::MfaRequired { challenge, .. } => challenge,
                other => panic!("expected MFA, got {other:?}"),
            };
            let password_step = started.elapsed();
            let code = self.settings.code_at(seed, unix(&self.clock));
            let started = Instant::now();
            let token = challenge.token().expose_secret();
            let done = self.login.complete_mfa(token, MfaProof::Totp(&code), &ctx);
            assert!(matches!(
                done.await.unwrap(),
                LoginOutcome::Authenticated { .. }
            ));
            (password_step, started.elapsed())
        })
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn full_login(c: &mut Criterion) {
    let rt = runtime();
    let bench = setup(&rt);
    let mut group = c.benchmark_group("full_login");
    group.sample_size(20);
    let mut n = 0;
    group.bench_function("sqlite/password_and_totp", |b| {
        b.iter(|| {
            n += 1;
            bench.full_login(&rt, n)
        });
    });
    let stored = rt
        .block_on(
            bench.passwords.credential(
                rt.block_on(bench.passwords.find_credential("user-0"))
                    .unwrap()
                    .unwrap()
                    .user_id,
            ),
        )
        .unwrap()
        .password
        .unwrap();
    let phc = PasswordHash::new(stored.as_str()).unwrap();
    group.bench_function("argon2_verify", |b| {
        b.iter(|| {
            Argon2::default()
                .verify_password(PASSWORD.as_bytes(), &phc)
                .unwrap()
        });
    });
    group.finish();

    let (mut totals, mut passwords, mut mfas, mut argon) = (vec![], vec![], vec![], vec![]);
    for i in 0..200 {
        let (password, mfa) = bench.full_login(&rt, n + i);
        passwords.push(password);
        mfas.push(mfa);
        totals.push(password + mfa);
        let started = Instant::now();
        Argon2::default()
            .verify_password(PASSWORD.as_bytes(), &phc)
            .unwrap();
        argon.push(started.elapsed());
    }
    let (total, argon) = (median(totals), median(argon));
    println!(
        "full login (SQLite): p50 {total:?} = password step {:?} + TOTP step {:?}; argon2 verify p50 {argon:?} = {:.0}% of the login (paired samples of 200)",
        median(passwords),
        median(mfas),
        100.0 * argon.as_secs_f64() / total.as_secs_f64()
    );
}

criterion_group!(benches, full_login);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
