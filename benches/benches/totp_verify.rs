//! `MfaAuth::verify_totp` (format check, sealed seed opened, the code over the skew window,
//! the replay-preventing step update with the second-factor counter checked in the same
//! statement, as the stores share one database, and the audit event) on
//! SQLite and PostgreSQL, beside the raw baseline the issue names: totp-rs's `check` plus one
//! raw `UPDATE` of the last accepted step. Prints paired medians (SDK and raw alternating).
//!
//! Run with `SOC2_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` to include
//! PostgreSQL.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use soc2_audit::{AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_auth::mfa::{MfaAuth, MfaCheck, MfaStore, TotpSettings};
use soc2_auth::{LockoutStore, Sealer};
use soc2_benches::runtime;
use soc2_core::{Clock, ManualClock, RequestContext, UserId};
use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::postgres::TestSchema;
use soc2_testkit::test_keys;
use time::macros::datetime;
use tokio::runtime::Runtime;

const STEP: Duration = Duration::from_secs(30);
const UPDATE_STEP: &str = "UPDATE soc2_totp SET last_step = $2 \
    WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)";

/// The database the raw baseline writes to.
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    /// The raw replay check: one conditional `UPDATE` of the user's last step.
    async fn update_step(&self, user: &str, step: u64) -> u64 {
        let step = i64::try_from(step).unwrap();
        let done = match self {
            Self::Sqlite(pool) => {
                let query = sqlx::query(UPDATE_STEP).bind(user).bind(step);
                query.execute(pool).await.map(|done| done.rows_affected())
            }
            Self::Postgres(pool) => {
                let query = sqlx::query(UPDATE_STEP).bind(user).bind(step);
                query.execute(pool).await.map(|done| done.rows_affected())
            }
        };
        done.unwrap()
    }
}

fn service(
    rt: &Runtime,
    store: Arc<dyn MfaStore>,
    lockouts: Arc<dyn LockoutStore>,
    clock: Arc<ManualClock>,
) -> MfaAuth {
    let _runtime = rt.enter();
    let audit = AuditLog::start(
        Arc::new(MemoryAuditStore::new(&test_keys("audit", 1))),
        AuditLogConfig::default().with_capacity(1 << 16).unwrap(),
    );
    MfaAuth::new(
        store,
        lockouts,
        Sealer::new(test_keys("seal", 2)),
        TotpSettings::new("Bench"),
        audit,
        clock,
    )
}

/// A user with a confirmed TOTP factor, and its seed.
async fn enrolled(mfa: &MfaAuth, clock: &ManualClock) -> (UserId, Vec<u8>) {
    let user = UserId::new_v7();
    let enrollment = mfa.begin_totp(user, "bench@example.com").await.unwrap();
    let seed = totp_rs::Secret::try_from_base32(enrollment.secret_base32.expose_secret())
        .unwrap()
        .as_bytes()
        .to_vec();
    let code = TotpSettings::new("Bench").code_at(&seed, unix(clock));
    mfa.confirm_totp(user, &code, &RequestContext::new())
        .await
        .unwrap()
        .unwrap();
    (user, seed)
}

fn unix(clock: &ManualClock) -> u64 {
    u64::try_from(clock.now().unix_timestamp()).unwrap()
}

/// The SDK service on `backend`, and the raw baseline's pool on the same database.
fn setup(rt: &Runtime, backend: &str, clock: &Arc<ManualClock>) -> Option<(MfaAuth, Pool)> {
    match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            std::mem::forget(dir);
            let pool = rt.block_on(sqlite::connect(&url)).unwrap();
            rt.block_on(sqlite::migrate(&pool)).unwrap();
            let mfa = service(
                rt,
                Arc::new(sqlite::SqliteMfaStore::new(pool.clone()).sharing_lockouts()),
                Arc::new(sqlite::SqliteLockoutStore::new(pool.clone())),
                Arc::clone(clock),
            );
            Some((mfa, Pool::Sqlite(pool)))
        }
        _ => {
            let schema = rt.block_on(TestSchema::create("bench_totp_verify"))?;
            let pool = rt.block_on(schema.pool());
            std::mem::forget(schema);
            rt.block_on(postgres::migrate(&pool)).unwrap();
            let mfa = service(
                rt,
                Arc::new(postgres::PgMfaStore::new(pool.clone()).sharing_lockouts()),
                Arc::new(postgres::PgLockoutStore::new(pool.clone())),
                Arc::clone(clock),
            );
            Some((mfa, Pool::Postgres(pool)))
        }
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn totp_verify(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("totp_verify");
    let mut paired = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
        let Some((mfa, pool)) = setup(&rt, backend, &clock) else {
            eprintln!("{backend}: SOC2_TEST_POSTGRES_URL not set, skipped");
            continue;
        };
        let (sdk_user, seed) = rt.block_on(enrolled(&mfa, &clock));
        let raw_user = rt.block_on(enrolled(&mfa, &clock)).0.to_string();
        let settings = TotpSettings::new("Bench");
        let raw_totp = totp_rs::Builder::new()
            .with_secret(seed.clone())
            .with_skew(1)
            .build_noncompliant();
        // Each call moves to the next time step, so every code is fresh for both sides.
        let sdk = || {
            clock.advance(STEP);
            let code = settings.code_at(&seed, unix(&clock));
            let check = rt.block_on(mfa.verify_totp(sdk_user, &code, &RequestContext::new()));
            assert_eq!(check.unwrap(), MfaCheck::Accepted);
        };
        let raw = || {
            clock.advance(STEP);
            let now = unix(&clock);
            let code = settings.code_at(&seed, now);
            let step = raw_totp.check(&code, now).unwrap();
            assert_eq!(rt.block_on(pool.update_step(&raw_user, step)), 1);
        };
        group.bench_function(format!("{backend}/sdk_verify_totp"), |b| b.iter(sdk));
        group.bench_function(format!("{backend}/raw_totp_rs_check_and_update"), |b| {
            b.iter(raw)
        });
        let (mut sdk_times, mut raw_times) = (Vec::new(), Vec::new());
        for _ in 0..500 {
            let start = Instant::now();
            sdk();
            sdk_times.push(start.elapsed());
            let start = Instant::now();
            raw();
            raw_times.push(start.elapsed());
        }
        paired.push((backend, median(sdk_times), median(raw_times)));
    }
    group.finish();
    for (backend, sdk, raw) in paired {
        println!(
            "{backend}: verify_totp = {:.2}x totp-rs check + raw UPDATE (paired medians of 500: SDK {sdk:?}, raw {raw:?})",
            sdk.as_secs_f64() / raw.as_secs_f64()
        );
    }
}

criterion_group!(benches, totp_verify);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
