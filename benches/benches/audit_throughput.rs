//! Events per second into each audit sink with chaining on, each beside the same rows written
//! without the SDK (one multi-row `INSERT` per transaction; lines plus `fdatasync` for files).
//!
//! Run with `SOC2_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` to include
//! PostgreSQL.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use soc2_audit::{
    AuditEvent, AuditLog, AuditLogConfig, AuditSink, FsyncPolicy, JsonlFileSink, MemoryAuditStore,
};
use soc2_benches::{raw_batched_insert, raw_rows, typical_event};
use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::postgres::TestSchema;
use soc2_testkit::test_keys;
use tokio::io::AsyncWriteExt;
use tokio::runtime::Runtime;

/// Events per measured iteration.
const EVENTS: usize = 1024;
/// Rows per transaction, for the SDK (its default batch) and the raw baseline alike.
const BATCH: usize = 256;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Times `run` on fresh input from `setup` per iteration; only `run` is measured.
fn timed<I, S, R, F>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    rt: &Runtime,
    setup: S,
    run: R,
) where
    S: Fn() -> I,
    R: Fn(I) -> F,
    F: Future<Output = ()>,
{
    group.bench_function(name, |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (setup, run) = (&setup, &run);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let input = setup();
                    let start = Instant::now();
                    run(input).await;
                    total += start.elapsed();
                }
                total
            }
        });
    });
}

fn events() -> Vec<AuditEvent> {
    (0..EVENTS as u64).map(typical_event).collect()
}

/// The SDK path: `record` every event, then `flush` until all are stored.
fn sdk(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    rt: &Runtime,
    sink: Arc<dyn AuditSink>,
) {
    let log = rt.block_on(async { AuditLog::start(sink, AuditLogConfig::default()) });
    timed(group, name, rt, events, |events| {
        let log = log.clone();
        async move {
            for event in events {
                log.record(event).unwrap();
            }
            log.flush().await.unwrap();
        }
    });
}

/// The baseline: the same rows in transactions of `BATCH` rows, straight through sqlx.
fn raw<DB>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, rt: &Runtime, pool: sqlx::Pool<DB>)
where
    DB: sqlx::Database,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Vec<u8>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let next_seq = AtomicI64::new(1);
    timed(
        group,
        name,
        rt,
        || raw_rows(next_seq.fetch_add(EVENTS as i64, Ordering::Relaxed), EVENTS),
        |rows| {
            let pool = pool.clone();
            async move {
                for chunk in rows.chunks(BATCH) {
                    raw_batched_insert(&pool, chunk).await.unwrap();
                }
            }
        },
    );
}

fn audit_throughput(c: &mut Criterion) {
    let rt = runtime();
    let keys = test_keys("bench", 9);
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("audit_throughput");
    group
        .throughput(Throughput::Elements(EVENTS as u64))
        .sample_size(20);

    sdk(
        &mut group,
        "memory/sdk",
        &rt,
        Arc::new(MemoryAuditStore::new(&keys)),
    );

    let file = rt
        .block_on(JsonlFileSink::open(
            &dir.path().join("sdk.jsonl"),
            &keys,
            FsyncPolicy::EveryBatch,
        ))
        .unwrap();
    sdk(&mut group, "jsonl/sdk", &rt, Arc::new(file));
    let raw_file = rt
        .block_on(tokio::fs::File::create(dir.path().join("raw.jsonl")))
        .unwrap();
    let raw_file = Arc::new(tokio::sync::Mutex::new(raw_file));
    timed(
        &mut group,
        "jsonl/raw_write_fsync",
        &rt,
        || raw_rows(0, EVENTS),
        |rows| {
            let raw_file = raw_file.clone();
            async move {
                let mut file = raw_file.lock().await;
                for chunk in rows.chunks(BATCH) {
                    let lines: String = chunk
                        .iter()
                        .map(|row| format!("{}\n", row.body()))
                        .collect();
                    file.write_all(lines.as_bytes()).await.unwrap();
                    file.sync_data().await.unwrap();
                }
            }
        },
    );

    let sqlite_pool = |name: &str| {
        let url = format!("sqlite://{}", dir.path().join(name).display());
        rt.block_on(async {
            let pool = sqlite::connect(&url).await.unwrap();
            sqlite::migrate(&pool).await.unwrap();
            pool
        })
    };
    sdk(
        &mut group,
        "sqlite/sdk",
        &rt,
        Arc::new(sqlite::SqliteAuditStore::new(sqlite_pool("sdk.db"), &keys)),
    );
    raw(
        &mut group,
        "sqlite/raw_batched_insert",
        &rt,
        sqlite_pool("raw.db"),
    );

    match rt.block_on(TestSchema::create("bench::audit_throughput")) {
        Some(sdk_schema) => {
            let raw_schema = rt
                .block_on(TestSchema::create("bench::audit_throughput"))
                .unwrap();
            let pg_pool = |schema: &TestSchema| {
                rt.block_on(async {
                    let pool = postgres::connect_with(schema.options()).await.unwrap();
                    postgres::migrate(&pool).await.unwrap();
                    pool
                })
            };
            sdk(
                &mut group,
                "postgres/sdk",
                &rt,
                Arc::new(postgres::PgAuditStore::new(pg_pool(&sdk_schema), &keys)),
            );
            raw(
                &mut group,
                "postgres/raw_batched_insert",
                &rt,
                pg_pool(&raw_schema),
            );
            rt.block_on(sdk_schema.drop_schema());
            rt.block_on(raw_schema.drop_schema());
        }
        None => eprintln!("PostgreSQL skipped: set SOC2_TEST_POSTGRES_URL"),
    }
    group.finish();
}

criterion_group!(benches, audit_throughput);
criterion_main!(benches);
