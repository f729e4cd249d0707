//! Events per second into each audit sink with chaining on, each beside the same rows written
//! without the SDK (one multi-row `INSERT` per transaction; lines plus `fdatasync` for files).
//!
//! Besides criterion's absolute figures, SQLite and PostgreSQL get a paired measurement: SDK and
//! raw rounds alternate, and the ratio of their medians is printed. On a shared, noisy machine
//! that ratio is steadier than two criterion runs taken minutes apart.
//!
//! Run with `SOC2_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` to include
//! PostgreSQL.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use soc2_audit::{
    AuditEvent, AuditLog, AuditLogConfig, AuditSink, FsyncPolicy, JsonlFileSink, MemoryAuditStore,
};
use soc2_benches::{raw_round, raw_rows, runtime, typical_event};
use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::postgres::TestSchema;
use soc2_testkit::test_keys;
use tokio::io::AsyncWriteExt;
use tokio::runtime::Runtime;

/// Events per measured round.
const EVENTS: usize = 1024;
/// Rows per transaction, for the SDK (its default batch) and the raw baseline alike.
const BATCH: usize = 256;
/// Alternating rounds of the paired measurement.
const PAIRED_ROUNDS: usize = 40;

/// One SDK round: build the events (untimed), `record` each, then `flush` until stored.
async fn sdk_round(log: &AuditLog) -> Duration {
    let events: Vec<AuditEvent> = (0..EVENTS as u64).map(typical_event).collect();
    let start = Instant::now();
    for event in events {
        log.record(event).unwrap();
    }
    log.flush().await.unwrap();
    start.elapsed()
}

/// One raw file round: the same JSON lines, `fdatasync` after every `BATCH`.
async fn raw_file_round(file: &tokio::sync::Mutex<tokio::fs::File>) -> Duration {
    let rows = raw_rows(0, EVENTS);
    let start = Instant::now();
    let mut file = file.lock().await;
    for chunk in rows.chunks(BATCH) {
        let lines: String = chunk
            .iter()
            .map(|row| format!("{}\n", row.body()))
            .collect();
        file.write_all(lines.as_bytes()).await.unwrap();
        file.sync_data().await.unwrap();
    }
    start.elapsed()
}

fn start_log(rt: &Runtime, sink: Arc<dyn AuditSink>) -> AuditLog {
    rt.block_on(async { AuditLog::start(sink, AuditLogConfig::default()) })
}

/// Registers a criterion benchmark whose iterations are `round`s.
macro_rules! bench_rounds {
    ($group:expr, $rt:expr, $name:expr, $round:expr) => {
        $group.bench_function($name, |b| {
            b.to_async($rt).iter_custom(|iters| async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += $round.await;
                }
                total
            })
        })
    };
}

/// Alternates SDK and raw rounds and prints the throughput ratio of their medians.
macro_rules! paired_ratio {
    ($rt:expr, $label:expr, $sdk:expr, $raw:expr) => {{
        let (mut sdk, mut raw) = (Vec::new(), Vec::new());
        for round in 0..PAIRED_ROUNDS {
            if round % 2 == 0 {
                sdk.push($rt.block_on($sdk));
                raw.push($rt.block_on($raw));
            } else {
                raw.push($rt.block_on($raw));
                sdk.push($rt.block_on($sdk));
            }
        }
        let (sdk, raw) = (median(sdk), median(raw));
        println!(
            "{}: SDK throughput = {:.2}x the raw batched insert (paired medians of {} rounds of {} events: SDK {:?}, raw {:?})",
            $label,
            raw.as_secs_f64() / sdk.as_secs_f64(),
            PAIRED_ROUNDS,
            EVENTS,
            sdk,
            raw
        );
    }};
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn audit_throughput(c: &mut Criterion) {
    let rt = runtime();
    let keys = test_keys("bench", 9);
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("audit_throughput");
    group
        .throughput(Throughput::Elements(EVENTS as u64))
        .sample_size(20);

    let memory = &start_log(&rt, Arc::new(MemoryAuditStore::new(&keys)));
    bench_rounds!(group, &rt, "memory/sdk", sdk_round(memory));

    let file = rt
        .block_on(JsonlFileSink::open(
            &dir.path().join("sdk.jsonl"),
            &keys,
            FsyncPolicy::EveryBatch,
        ))
        .unwrap();
    let jsonl = &start_log(&rt, Arc::new(file));
    bench_rounds!(group, &rt, "jsonl/sdk", sdk_round(jsonl));
    let raw_file = rt
        .block_on(tokio::fs::File::create(dir.path().join("raw.jsonl")))
        .unwrap();
    let raw_file = &tokio::sync::Mutex::new(raw_file);
    bench_rounds!(
        group,
        &rt,
        "jsonl/raw_write_fsync",
        raw_file_round(raw_file)
    );

    let sqlite_pool = |name: &str| {
        let url = format!("sqlite://{}", dir.path().join(name).display());
        rt.block_on(async {
            let pool = sqlite::connect(&url).await.unwrap();
            sqlite::migrate(&pool).await.unwrap();
            pool
        })
    };
    let sqlite_log = &start_log(
        &rt,
        Arc::new(sqlite::SqliteAuditStore::new(sqlite_pool("sdk.db"), &keys)),
    );
    let sqlite_raw = &sqlite_pool("raw.db");
    let sqlite_seq = &AtomicI64::new(1);
    bench_rounds!(group, &rt, "sqlite/sdk", sdk_round(sqlite_log));
    bench_rounds!(
        group,
        &rt,
        "sqlite/raw_batched_insert",
        raw_round(sqlite_raw, sqlite_seq, EVENTS, BATCH)
    );

    let schemas = rt.block_on(async {
        let sdk = TestSchema::create("bench::audit_throughput").await?;
        let raw = TestSchema::create("bench::audit_throughput").await?;
        Some((sdk, raw))
    });
    let postgres = schemas.as_ref().map(|(sdk_schema, raw_schema)| {
        let pool = |schema: &TestSchema| {
            rt.block_on(async {
                let pool = postgres::connect_with(schema.options()).await.unwrap();
                postgres::migrate(&pool).await.unwrap();
                pool
            })
        };
        let log = start_log(
            &rt,
            Arc::new(postgres::PgAuditStore::new(pool(sdk_schema), &keys)),
        );
        (log, pool(raw_schema), AtomicI64::new(1))
    });
    match &postgres {
        Some((log, raw, seq)) => {
            bench_rounds!(group, &rt, "postgres/sdk", sdk_round(log));
            bench_rounds!(
                group,
                &rt,
                "postgres/raw_batched_insert",
                raw_round(raw, seq, EVENTS, BATCH)
            );
        }
        None => eprintln!("PostgreSQL skipped: set SOC2_TEST_POSTGRES_URL"),
    }
    group.finish();

    paired_ratio!(
        rt,
        "sqlite",
        sdk_round(sqlite_log),
        raw_round(sqlite_raw, sqlite_seq, EVENTS, BATCH)
    );
    if let Some((log, raw, seq)) = &postgres {
        paired_ratio!(
            rt,
            "postgres",
            sdk_round(log),
            raw_round(raw, seq, EVENTS, BATCH)
        );
    }
    if let Some((sdk_schema, raw_schema)) = schemas {
        rt.block_on(sdk_schema.drop_schema());
        rt.block_on(raw_schema.drop_schema());
    }
}

criterion_group!(benches, audit_throughput);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
