//! The writer behind `AuditLog`: ordering, buffering while the sink is down, fail-closed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use soc2_audit::{
    Actor, AuditError, AuditEvent, AuditLog, AuditLogConfig, AuditSink, AuditStore,
    MemoryAuditStore, Outcome, PreparedEvent, SdkAction, VerifyRequest, verify,
};
use soc2_core::{KeyId, KeyRing, StoreError};
use time::macros::datetime;

fn keys() -> KeyRing {
    KeyRing::single(KeyId::new("test").unwrap(), [1; 32])
}

fn event(n: u64) -> AuditEvent {
    AuditEvent::new(
        SdkAction::LoginFailed,
        Outcome::Failure,
        Actor::System,
        datetime!(2026-11-23 12:00 UTC),
    )
    .with_metadata("n", n)
}

/// A real memory store behind a switch that makes every append fail while "down".
#[derive(Debug)]
struct Switchable {
    store: MemoryAuditStore,
    down: AtomicBool,
}

#[async_trait]
impl AuditSink for Switchable {
    async fn append(&self, batch: &[PreparedEvent]) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("switched off".into()));
        }
        self.store.append(batch).await
    }
}

async fn stored_numbers(store: &MemoryAuditStore) -> Vec<u64> {
    store
        .read(0, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|stored| stored.event().unwrap().metadata()["n"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn flush_writes_everything_in_order() {
    let keys = keys();
    let store = MemoryAuditStore::new(&keys);
    let log = AuditLog::start(Arc::new(store.clone()), AuditLogConfig::default());
    for n in 0..1000 {
        log.record(event(n)).unwrap();
    }
    log.flush().await.unwrap();
    assert_eq!(stored_numbers(&store).await, (0..1000).collect::<Vec<_>>());
    let stats = log.stats();
    assert_eq!(
        (stats.recorded, stats.persisted, stats.sink_failing),
        (1000, 1000, false)
    );
    assert_eq!(
        verify(&store, &keys, &VerifyRequest::all())
            .await
            .unwrap()
            .checked,
        1000
    );
}

#[tokio::test]
async fn outage_buffers_to_the_bound_then_fails_closed_and_loses_nothing() {
    let keys = keys();
    let sink = Arc::new(Switchable {
        store: MemoryAuditStore::new(&keys),
        down: AtomicBool::new(true),
    });
    let config = AuditLogConfig::default()
        .with_capacity(4)
        .unwrap()
        .with_max_batch(2)
        .unwrap()
        .with_retry(Duration::from_secs(3600), Duration::from_secs(3600));
    let log = AuditLog::start(sink.clone(), config);

    // The writer takes the first event into its batch and fails to write it.
    log.record(event(0)).unwrap();
    assert_eq!(
        log.flush().await,
        Err(AuditError::Unavailable { buffered: 1 })
    );
    assert!(log.stats().sink_failing);

    // Buffered: the channel (capacity 4) plus at most the batch being retried and the next one
    // the writer prepares meanwhile (2 each); then `record` fails closed.
    let mut accepted = vec![0];
    for n in 1.. {
        match log.record(event(n)) {
            Ok(()) => accepted.push(n),
            Err(error) => {
                assert_eq!(error, AuditError::BufferFull { capacity: 4 });
                break;
            }
        }
        assert!(n < 100, "the buffer never filled");
    }
    let buffered = accepted.len() as u64;
    assert!(
        (5..=1 + 4 + 2 * 2).contains(&buffered),
        "{buffered} buffered"
    );
    assert_eq!(log.flush().await, Err(AuditError::Unavailable { buffered }));
    assert!(sink.store.is_empty());

    // The store returns: everything accepted is written, in order, and the chain verifies.
    sink.down.store(false, Ordering::SeqCst);
    log.flush().await.unwrap();
    assert_eq!(stored_numbers(&sink.store).await, accepted);
    assert_eq!(
        verify(&sink.store, &keys, &VerifyRequest::all())
            .await
            .unwrap()
            .checked,
        buffered
    );
    log.record(event(1000)).unwrap();
    accepted.push(1000);
    log.flush().await.unwrap();
    assert_eq!(stored_numbers(&sink.store).await, accepted);
}

#[tokio::test]
async fn shutdown_drains_and_refuses_new_events_on_every_clone() {
    let store = MemoryAuditStore::new(&keys());
    let config = AuditLogConfig::default().with_max_delay(Duration::from_secs(3600));
    let log = AuditLog::start(Arc::new(store.clone()), config);
    let clone = log.clone();
    for n in 0..10 {
        clone.record(event(n)).unwrap();
    }
    log.shutdown().await.unwrap();
    assert_eq!(store.len(), 10);
    assert_eq!(clone.record(event(10)), Err(AuditError::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_recorders_share_one_gapless_chain() {
    let keys = keys();
    let store = MemoryAuditStore::new(&keys);
    let log = AuditLog::start(Arc::new(store.clone()), AuditLogConfig::default());
    let tasks: Vec<_> = (0..8u64)
        .map(|task| {
            let log = log.clone();
            tokio::spawn(async move {
                for n in 0..500 {
                    log.record(event(task * 1000 + n)).unwrap();
                    if n % 100 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    log.flush().await.unwrap();
    let mut numbers = stored_numbers(&store).await;
    assert_eq!(numbers.len(), 4000);
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 4000);
    let verified = verify(&store, &keys, &VerifyRequest::all()).await.unwrap();
    assert_eq!((verified.checked, verified.last_seq), (4000, 4000));
}

#[tokio::test]
async fn events_from_a_broken_clock_are_still_stored() {
    let keys = keys();
    let store = MemoryAuditStore::new(&keys);
    let log = AuditLog::start(Arc::new(store.clone()), AuditLogConfig::default());
    // RFC 3339 has no negative years: the time is clamped, the event is kept.
    let ancient = AuditEvent::new(
        SdkAction::LoginFailed,
        Outcome::Failure,
        Actor::System,
        datetime!(-0001-06-01 00:00 UTC),
    );
    assert_eq!(ancient.occurred_at(), datetime!(0000-01-01 00:00 UTC));
    log.record(ancient).unwrap();
    log.flush().await.unwrap();
    assert_eq!(store.len(), 1);
    assert_eq!(
        verify(&store, &keys, &VerifyRequest::all())
            .await
            .unwrap()
            .checked,
        1
    );
}

/// `record_within` waits for room instead of refusing at once: it takes the room the writer
/// frees while it waits, and refuses with `BufferFull` only after `max_wait` with none.
#[tokio::test(start_paused = true)]
async fn record_within_waits_for_room_then_fails_closed() {
    let keys = keys();
    let sink = Arc::new(Switchable {
        store: MemoryAuditStore::new(&keys),
        down: AtomicBool::new(true),
    });
    let config = AuditLogConfig::default()
        .with_capacity(2)
        .unwrap()
        .with_max_batch(1)
        .unwrap()
        .with_retry(Duration::from_millis(10), Duration::from_millis(10));
    let log = AuditLog::start(sink.clone(), config);
    // The writer holds the first event, failing to write it ...
    log.record(event(0)).unwrap();
    assert_eq!(
        log.flush().await,
        Err(AuditError::Unavailable { buffered: 1 })
    );
    // ... and the buffer fills up behind it.
    let mut accepted = vec![0];
    for n in 1..100 {
        if log.record(event(n)).is_err() {
            break;
        }
        accepted.push(n);
    }
    assert_eq!(
        log.record_within(event(100), Duration::from_secs(1)).await,
        Err(AuditError::BufferFull { capacity: 2 }),
        "the sink stayed down for the whole wait"
    );

    // The sink comes back while a writer waits: its event goes in after the buffered ones.
    let waiting = tokio::spawn({
        let log = log.clone();
        async move { log.record_within(event(101), Duration::from_secs(1)).await }
    });
    tokio::task::yield_now().await;
    sink.down.store(false, Ordering::SeqCst);
    assert_eq!(waiting.await.unwrap(), Ok(()));
    accepted.push(101);
    log.flush().await.unwrap();
    assert_eq!(stored_numbers(&sink.store).await, accepted);
    assert_eq!(log.stats().recorded, accepted.len() as u64);
}
