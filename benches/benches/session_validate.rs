//! `SessionManager::validate` against each store, beside a raw sqlx primary-key `SELECT` of the
//! same row; and a validate served from the in-process cache. Prints paired medians (SDK and
//! raw calls alternating) and the cache hit's p50 after criterion's figures.
//!
//! Run with `SOC2_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` to include
//! PostgreSQL.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use soc2_audit::{AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_benches::runtime;
use soc2_core::{ManualClock, Preset, RequestContext, UserId};
use soc2_session::{Factor, SessionManager, SessionPolicy, SessionStore, TokenDigest};
use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::postgres::TestSchema;
use soc2_testkit::test_keys;
use time::OffsetDateTime;
use tokio::runtime::Runtime;

/// The row as the raw baseline decodes it: every column of `soc2_sessions`.
type RawSessionRow = (
    Vec<u8>,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

const SELECT_BY_DIGEST: &str = "SELECT token_digest, session_id, user_id, created_at_us, \
    last_seen_at_us, idle_expires_at_us, absolute_expires_at_us, authenticated_at_us, factors, \
    mfa_verified_at_us, client_ip, user_agent FROM soc2_sessions WHERE token_digest = $1";

/// A manager over `store` whose clock never moves (no touch is ever due), and one session.
/// The raw baseline: the session row by primary key, straight through sqlx.
macro_rules! raw_select {
    ($pool:expr, $digest:expr) => {
        async {
            let row: Option<RawSessionRow> = sqlx::query_as(SELECT_BY_DIGEST)
                .bind($digest.as_bytes().to_vec())
                .fetch_optional($pool)
                .await
                .unwrap();
            row.unwrap()
        }
    };
}

fn manager_with_session(
    rt: &Runtime,
    store: Arc<dyn SessionStore>,
) -> (SessionManager, Vec<u8>, TokenDigest) {
    rt.block_on(async {
        let audit = AuditLog::start(
            Arc::new(MemoryAuditStore::new(&test_keys("bench", 1))),
            AuditLogConfig::default(),
        );
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        let policy = SessionPolicy::from_preset(Preset::Nist80063bAal2)
            .validate()
            .unwrap();
        let manager = SessionManager::new(store, policy, clock, audit);
        let context = RequestContext::new()
            .with_user_agent("bench")
            .with_client_ip([192, 0, 2, 1].into());
        let (token, _) = manager
            .create(
                UserId::new_v7(),
                &[Factor::Password, Factor::Totp],
                &context,
            )
            .await
            .unwrap();
        (
            manager,
            token.expose_secret().as_bytes().to_vec(),
            token.digest(),
        )
    })
}

/// Polls `future` once; a cache hit never waits, so it must be ready.
fn ready_now<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("a cache hit waited"),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Times single calls of `sdk` and `raw`, alternating, and prints the ratio of their medians.
macro_rules! paired {
    ($rt:expr, $label:expr, $sdk:expr, $raw:expr) => {{
        let (mut sdk, mut raw) = (Vec::new(), Vec::new());
        for _ in 0..2000 {
            let start = Instant::now();
            $rt.block_on($sdk);
            sdk.push(start.elapsed());
            let start = Instant::now();
            $rt.block_on($raw);
            raw.push(start.elapsed());
        }
        let (sdk, raw) = (median(sdk), median(raw));
        println!(
            "{}: validate = {:.2}x the raw primary-key SELECT (paired medians of 2000 calls: SDK {:?}, raw {:?})",
            $label,
            sdk.as_secs_f64() / raw.as_secs_f64(),
            sdk,
            raw
        );
    }};
}

fn session_validate(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let context = RequestContext::new();
    let mut group = c.benchmark_group("session_validate");

    let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
    let sqlite_pool = rt.block_on(async {
        let pool = sqlite::connect(&url).await.unwrap();
        sqlite::migrate(&pool).await.unwrap();
        pool
    });
    let (sqlite_manager, sqlite_token, sqlite_digest) = manager_with_session(
        &rt,
        Arc::new(sqlite::SqliteSessionStore::new(sqlite_pool.clone())),
    );
    let sqlite_sdk = || async {
        sqlite_manager
            .validate(&sqlite_token, &context)
            .await
            .unwrap()
    };
    let sqlite_raw = || raw_select!(&sqlite_pool, sqlite_digest);
    group.bench_function("sqlite/sdk_validate", |b| b.to_async(&rt).iter(sqlite_sdk));
    group.bench_function("sqlite/raw_pk_select", |b| b.to_async(&rt).iter(sqlite_raw));

    let cached = sqlite_manager.clone().with_cache(Duration::from_secs(3600));
    let cached_sdk = || async { cached.validate(&sqlite_token, &context).await.unwrap() };
    rt.block_on(cached_sdk());
    group.bench_function("cache_hit/sdk_validate", |b| {
        b.to_async(&rt).iter(cached_sdk)
    });

    let schema = rt.block_on(TestSchema::create("bench::session_validate"));
    let postgres = schema.as_ref().map(|schema| {
        let pool = rt.block_on(async {
            let pool = postgres::connect_with(schema.options()).await.unwrap();
            postgres::migrate(&pool).await.unwrap();
            pool
        });
        let (manager, token, digest) =
            manager_with_session(&rt, Arc::new(postgres::PgSessionStore::new(pool.clone())));
        (pool, manager, token, digest)
    });
    if let Some((pool, manager, token, digest)) = &postgres {
        let sdk = || async { manager.validate(token, &context).await.unwrap() };
        let raw = || raw_select!(pool, digest);
        group.bench_function("postgres/sdk_validate", |b| b.to_async(&rt).iter(sdk));
        group.bench_function("postgres/raw_pk_select", |b| b.to_async(&rt).iter(raw));
    } else {
        eprintln!("PostgreSQL skipped: set SOC2_TEST_POSTGRES_URL");
    }
    group.finish();

    paired!(rt, "sqlite", sqlite_sdk(), sqlite_raw());
    if let Some((pool, manager, token, digest)) = &postgres {
        paired!(
            rt,
            "postgres",
            async { manager.validate(token, &context).await.unwrap() },
            raw_select!(pool, digest)
        );
    }
    let mut hits: Vec<Duration> = (0..100_000)
        .map(|_| {
            let start = Instant::now();
            ready_now(cached_sdk());
            start.elapsed()
        })
        .collect();
    hits.sort_unstable();
    println!(
        "cache hit: p50 {:?}, p99 {:?} (100000 validate calls, each polled once)",
        hits[hits.len() / 2],
        hits[hits.len() * 99 / 100]
    );
    if let Some(schema) = schema {
        rt.block_on(schema.drop_schema());
    }
}

criterion_group!(benches, session_validate);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
