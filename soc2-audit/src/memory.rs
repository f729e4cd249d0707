//! An in-memory chained store, for tests and small hosts that ship events elsewhere.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use soc2_core::{KeyRing, StoreError, unix_micros};
use time::OffsetDateTime;

use crate::{AuditSink, AuditStore, Chainer, Checkpoint, PreparedEvent, StoredEvent, TimeRange};

/// A hash-chained [`AuditStore`] in memory. Cloning shares the same log.
///
/// Nothing survives the process: use it for tests, or with a `tracing` sink in front for hosts
/// whose evidence lives in a SIEM.
#[derive(Debug, Clone)]
pub struct MemoryAuditStore {
    chainer: Arc<Chainer>,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    events: Vec<StoredEvent>,
    /// Event ids held, so a retried batch is not stored twice.
    ids: HashSet<String>,
    head: Option<Checkpoint>,
    anchor: Option<Checkpoint>,
}

impl MemoryAuditStore {
    /// An empty store chaining with `keys`.
    #[must_use]
    pub fn new(keys: &KeyRing) -> Self {
        Self {
            chainer: Arc::new(Chainer::new(keys)),
            inner: Arc::default(),
        }
    }

    /// Another handle on the same events that chains with `keys` (a restart after key rotation).
    #[must_use]
    pub fn with_keys(&self, keys: &KeyRing) -> Self {
        Self {
            chainer: Arc::new(Chainer::new(keys)),
            inner: Arc::clone(&self.inner),
        }
    }

    /// The number of events held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// True when no event is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn select(
        &self,
        after_seq: u64,
        limit: u32,
        keep: impl Fn(&StoredEvent) -> bool,
    ) -> Vec<StoredEvent> {
        let inner = self.lock();
        let start = inner.events.partition_point(|event| event.seq <= after_seq);
        inner.events[start..]
            .iter()
            .filter(|event| keep(event))
            .take(limit as usize)
            .cloned()
            .collect()
    }
}

#[async_trait]
impl AuditSink for MemoryAuditStore {
    async fn append(&self, batch: &[PreparedEvent]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        // Batches are atomic: if the first event is in, the whole batch was appended before.
        if batch
            .first()
            .is_some_and(|first| inner.ids.contains(&first.index.event_id))
        {
            return Ok(());
        }
        let mut cursor = self.chainer.resume(inner.head.as_ref())?;
        for event in batch {
            let stored = cursor.link(event);
            inner.ids.insert(stored.index.event_id.clone());
            inner.events.push(stored);
        }
        inner.head = Some(cursor.head());
        Ok(())
    }
}

#[async_trait]
impl AuditStore for MemoryAuditStore {
    async fn head(&self) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self.lock().head.clone())
    }

    async fn anchor(&self) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self.lock().anchor.clone())
    }

    async fn read(&self, after_seq: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(self.select(after_seq, limit, |_| true))
    }

    async fn read_range(
        &self,
        range: &TimeRange,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(self.select(after_seq, limit, |event| {
            range.contains_micros(event.index.occurred_at_us)
        }))
    }

    async fn first_seq_since(&self, at: OffsetDateTime) -> Result<Option<u64>, StoreError> {
        let at = unix_micros(at);
        Ok(self
            .lock()
            .events
            .iter()
            .filter(|event| event.index.occurred_at_us >= at)
            .map(|event| event.seq)
            .min())
    }

    async fn purge_through(&self, anchor: &Checkpoint) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let (purged, kept) = std::mem::take(&mut inner.events)
            .into_iter()
            .partition::<Vec<_>, _>(|event| event.seq <= anchor.seq);
        for event in &purged {
            inner.ids.remove(&event.index.event_id);
        }
        inner.events = kept;
        inner.anchor = Some(anchor.clone());
        Ok(purged.len() as u64)
    }
}
