//! The cost of `AuditLog::record` on the request path (enqueue only, never wait), beside the
//! Tokio bounded-channel `try_send` it wraps. After criterion's means, prints p50/p99 of single
//! `record` calls.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{Criterion, criterion_group};
use soc2_audit::{AuditEvent, AuditLog, AuditLogConfig, AuditSink, PreparedEvent};
use soc2_benches::{runtime, typical_event};
use soc2_core::StoreError;

/// A sink that stores nothing, so only the enqueue is measured and the buffer never fills.
#[derive(Debug)]
struct Discard;

#[async_trait]
impl AuditSink for Discard {
    async fn append(&self, _batch: &[PreparedEvent]) -> Result<(), StoreError> {
        Ok(())
    }
}

const CAPACITY: usize = 1 << 20;

/// Calls between drains: the buffer never fills, so only the enqueue path is measured.
const CHUNK: u64 = 10_000;

/// Measures `enqueue` over pre-cloned events, draining (untimed) every `CHUNK` calls.
fn measure(
    iters: u64,
    event: &AuditEvent,
    enqueue: &dyn Fn(AuditEvent),
    drain: &dyn Fn(),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let count = left.min(CHUNK);
        let events: Vec<AuditEvent> = (0..count).map(|_| event.clone()).collect();
        let start = Instant::now();
        for event in events {
            enqueue(event);
        }
        total += start.elapsed();
        drain();
        left -= count;
    }
    total
}

fn record(c: &mut Criterion) {
    let rt = runtime();
    let log = rt.block_on(async {
        AuditLog::start(
            Arc::new(Discard),
            AuditLogConfig::default().with_capacity(CAPACITY).unwrap(),
        )
    });
    let event = typical_event(1);
    let mut group = c.benchmark_group("audit_record");
    group.bench_function("sdk_record", |b| {
        b.iter_custom(|iters| {
            measure(iters, &event, &|event| log.record(event).unwrap(), &|| {
                rt.block_on(log.flush()).unwrap()
            })
        });
    });

    let (sender, mut receiver) = tokio::sync::mpsc::channel::<AuditEvent>(CAPACITY);
    let drained = Arc::new(AtomicU64::new(0));
    let counter = drained.clone();
    rt.spawn(async move {
        let mut buffer = Vec::with_capacity(256);
        loop {
            let received = receiver.recv_many(&mut buffer, 256).await;
            if received == 0 {
                break;
            }
            buffer.clear();
            counter.fetch_add(received as u64, Ordering::Release);
        }
    });
    let sent = AtomicU64::new(0);
    group.bench_function("raw_mpsc_try_send", |b| {
        b.iter_custom(|iters| {
            measure(
                iters,
                &event,
                &|event| {
                    sender.try_send(event).unwrap();
                    sent.fetch_add(1, Ordering::Relaxed);
                },
                &|| {
                    while drained.load(Ordering::Acquire) < sent.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_micros(100));
                    }
                },
            )
        });
    });
    group.finish();
}

/// Times single `record` calls and prints the median and 99th percentile.
fn record_percentiles() {
    let rt = runtime();
    let log = rt.block_on(async {
        AuditLog::start(
            Arc::new(Discard),
            AuditLogConfig::default().with_capacity(CAPACITY).unwrap(),
        )
    });
    let events: Vec<AuditEvent> = (0..200_000).map(typical_event).collect();
    let mut samples: Vec<Duration> = Vec::with_capacity(events.len());
    for (i, event) in events.into_iter().enumerate() {
        let start = Instant::now();
        log.record(event).unwrap();
        samples.push(start.elapsed());
        if i % 10_000 == 9_999 {
            rt.block_on(log.flush()).unwrap();
        }
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "audit_record/sdk_record single calls: p50 {:?}, p99 {:?}, max {:?} ({} calls)",
        at(0.50),
        at(0.99),
        samples[samples.len() - 1],
        samples.len()
    );
}

criterion_group!(benches, record);

fn main() {
    benches();
    record_percentiles();
    Criterion::default().configure_from_args().final_summary();
}
