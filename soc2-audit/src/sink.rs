//! Where the writer sends batches of events, and the readable, chained stores.

use std::fmt::Debug;

use async_trait::async_trait;
use soc2_core::{StoreError, unix_micros};
use time::OffsetDateTime;

use crate::{AuditEvent, Checkpoint, PreparedEvent, StoredEvent};

/// A destination for batches of audit events (a store, a file, `tracing`).
///
/// Events arrive serialized ([`PreparedEvent`]): the body that a chained sink hashes and stores
/// verbatim, with the columns stores index.
///
/// `append` is all-or-nothing: on error nothing of the batch may be kept, because the writer
/// retries the same batch in order. A retried batch whose first attempt was in fact stored (a
/// lost acknowledgement) must not be stored twice.
#[async_trait]
pub trait AuditSink: Debug + Send + Sync + 'static {
    /// Appends `batch`, in order, atomically.
    async fn append(&self, batch: &[PreparedEvent]) -> Result<(), StoreError>;

    /// Serializes `events` and appends them, for callers that write directly (retention, tests,
    /// imports) rather than through an [`crate::AuditLog`].
    async fn append_events(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let batch = events
            .iter()
            .map(PreparedEvent::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.append(&batch).await
    }
}

/// A hash-chained, readable audit store: what verification, export and retention work on.
///
/// Implementations chain each batch after the stored head inside one transaction that also
/// replaces the signed head checkpoint, so several app instances appending to one database
/// still produce a single chain that verifies.
#[async_trait]
pub trait AuditStore: AuditSink {
    /// The signed checkpoint of the newest event; `None` before the first append.
    async fn head(&self) -> Result<Option<Checkpoint>, StoreError>;

    /// The signed checkpoint of the last purged event; `None` if nothing was ever purged.
    async fn anchor(&self) -> Result<Option<Checkpoint>, StoreError>;

    /// Up to `limit` events with `seq > after_seq`, in `seq` order.
    async fn read(&self, after_seq: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;

    /// Up to `limit` events that occurred within `range` with `seq > after_seq`, in `seq` order.
    async fn read_range(
        &self,
        range: &TimeRange,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// The lowest `seq` of an event that occurred at or after `at`.
    async fn first_seq_since(&self, at: OffsetDateTime) -> Result<Option<u64>, StoreError>;

    /// Atomically deletes every event with `seq <= anchor.seq` and stores `anchor` as the new
    /// start of the chain. Returns the number of events deleted.
    async fn purge_through(&self, anchor: &Checkpoint) -> Result<u64, StoreError>;
}

/// A half-open time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Inclusive start.
    pub from: OffsetDateTime,
    /// Exclusive end.
    pub to: OffsetDateTime,
}

impl TimeRange {
    /// `[from, to)`.
    #[must_use]
    pub fn new(from: OffsetDateTime, to: OffsetDateTime) -> Self {
        Self { from, to }
    }

    /// The start in microseconds since the epoch, as stores index it.
    #[must_use]
    pub fn from_micros(&self) -> i64 {
        unix_micros(self.from)
    }

    /// The end in microseconds since the epoch, as stores index it.
    #[must_use]
    pub fn to_micros(&self) -> i64 {
        unix_micros(self.to)
    }

    /// True when an event stamped `occurred_at_us` falls inside the range.
    #[must_use]
    pub fn contains_micros(&self, occurred_at_us: i64) -> bool {
        (self.from_micros()..self.to_micros()).contains(&occurred_at_us)
    }
}
