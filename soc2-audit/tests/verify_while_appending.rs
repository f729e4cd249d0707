//! Verification of a log that other writers keep appending to while it is read (several app
//! instances on one database): appends are not tampering, events the signed head never
//! covered still are.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use soc2_audit::{
    Actor, AuditEvent, AuditSink, AuditStore, Checkpoint, MemoryAuditStore, Outcome, PreparedEvent,
    SdkAction, StoredEvent, TimeRange, Verified, VerifyError, VerifyRequest, ViolationKind, verify,
};
use soc2_core::{KeyId, KeyRing, StoreError};
use time::OffsetDateTime;
use time::macros::datetime;

fn keys() -> KeyRing {
    KeyRing::single(KeyId::new("test").unwrap(), [4; 32])
}

fn events(count: u64) -> Vec<AuditEvent> {
    (0..count)
        .map(|n| {
            AuditEvent::new(
                SdkAction::LoginFailed,
                Outcome::Failure,
                Actor::System,
                datetime!(2026-11-23 12:00 UTC),
            )
            .with_metadata("n", n)
        })
        .collect()
}

/// When another writer's append lands relative to a `head` read.
#[derive(Debug, Clone, Copy)]
enum Lands {
    /// After the head was read: the caller gets the older head.
    AfterTheRead,
    /// Before it: the caller gets the head that covers the append.
    BeforeTheRead,
}

/// A real memory store where each `head` call lets another writer append a planned batch;
/// or, with `stale_head`, a store whose head never moves (events written outside the chain).
#[derive(Debug)]
struct Shared {
    store: MemoryAuditStore,
    appends: Mutex<VecDeque<(Lands, u64)>>,
    stale_head: Option<Checkpoint>,
}

impl Shared {
    fn new(store: MemoryAuditStore, appends: impl IntoIterator<Item = (Lands, u64)>) -> Self {
        Self {
            store,
            appends: Mutex::new(appends.into_iter().collect()),
            stale_head: None,
        }
    }
}

#[async_trait]
impl AuditSink for Shared {
    async fn append(&self, batch: &[PreparedEvent]) -> Result<(), StoreError> {
        self.store.append(batch).await
    }
}

#[async_trait]
impl AuditStore for Shared {
    async fn head(&self) -> Result<Option<Checkpoint>, StoreError> {
        if let Some(stale) = &self.stale_head {
            return Ok(Some(stale.clone()));
        }
        let planned = self.appends.lock().unwrap().pop_front();
        match planned {
            None => self.store.head().await,
            Some((Lands::BeforeTheRead, count)) => {
                self.store.append_events(&events(count)).await?;
                self.store.head().await
            }
            Some((Lands::AfterTheRead, count)) => {
                let head = self.store.head().await;
                self.store.append_events(&events(count)).await?;
                head
            }
        }
    }

    async fn anchor(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.store.anchor().await
    }

    async fn read(&self, after_seq: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.store.read(after_seq, limit).await
    }

    async fn read_range(
        &self,
        range: &TimeRange,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.store.read_range(range, after_seq, limit).await
    }

    async fn first_seq_since(&self, at: OffsetDateTime) -> Result<Option<u64>, StoreError> {
        self.store.first_seq_since(at).await
    }

    async fn purge_through(&self, anchor: &Checkpoint) -> Result<u64, StoreError> {
        self.store.purge_through(anchor).await
    }
}

async fn store_with(count: u64) -> MemoryAuditStore {
    let store = MemoryAuditStore::new(&keys());
    store.append_events(&events(count)).await.unwrap();
    store
}

async fn verify_all(store: &Shared) -> Result<Verified, VerifyError> {
    verify(store, &keys(), &VerifyRequest::all()).await
}

#[tokio::test]
async fn appends_while_the_walk_reads_are_verified_too() {
    // 3 land after the first head read (the walk sees 8, the head says 5), 2 more before the
    // second read (that head says 10, past what the walk saw).
    let store = Shared::new(
        store_with(5).await,
        [(Lands::AfterTheRead, 3), (Lands::BeforeTheRead, 2)],
    );
    let verified = verify_all(&store).await.unwrap();
    assert_eq!((verified.checked, verified.last_seq), (10, 10));
}

#[tokio::test]
async fn appends_covered_by_the_second_head_read_verify() {
    let store = Shared::new(store_with(5).await, [(Lands::AfterTheRead, 3)]);
    let verified = verify_all(&store).await.unwrap();
    assert_eq!((verified.checked, verified.last_seq), (8, 8));
}

#[tokio::test]
async fn a_first_append_during_verification_of_an_empty_log_verifies() {
    let store = Shared::new(MemoryAuditStore::new(&keys()), [(Lands::AfterTheRead, 3)]);
    let verified = verify_all(&store).await.unwrap();
    assert_eq!((verified.checked, verified.last_seq), (3, 3));
}

#[tokio::test]
async fn events_the_signed_head_never_covers_are_still_found() {
    let inner = store_with(5).await;
    let stale = inner.head().await.unwrap();
    inner.append_events(&events(3)).await.unwrap();
    let store = Shared {
        stale_head: stale,
        ..Shared::new(inner, [])
    };
    match verify_all(&store).await {
        Err(VerifyError::Violation(violation)) => {
            assert_eq!(
                (violation.seq, violation.kind),
                (6, ViolationKind::Modified)
            );
            assert_eq!(
                violation.detail,
                "events after the signed head at seq 5 were added outside the chain"
            );
        }
        other => panic!("expected a violation, got {other:?}"),
    }
}
