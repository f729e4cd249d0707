//! An optional in-process cache of validated sessions, with bounded staleness.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use soc2_core::UserId;
use time::OffsetDateTime;

use crate::{SessionRecord, TokenDigest};

/// Most sessions held; a full cache is emptied rather than grown.
const CAPACITY: usize = 100_000;

/// Validated sessions, each served for at most `max_staleness` after it was read from the store.
#[derive(Debug)]
pub(crate) struct SessionCache {
    max_staleness: Duration,
    entries: Mutex<HashMap<TokenDigest, (SessionRecord, OffsetDateTime)>>,
}

impl SessionCache {
    pub(crate) fn new(max_staleness: Duration) -> Self {
        Self {
            max_staleness,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached session, if it was read less than `max_staleness` before `now`.
    pub(crate) fn get(&self, digest: &TokenDigest, now: OffsetDateTime) -> Option<SessionRecord> {
        let entries = self.lock();
        let (record, cached_at) = entries.get(digest)?;
        (now - *cached_at < self.max_staleness).then(|| record.clone())
    }

    pub(crate) fn put(&self, record: &SessionRecord, now: OffsetDateTime) {
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(record.digest, (record.clone(), now));
    }

    pub(crate) fn remove(&self, digest: &TokenDigest) {
        self.lock().remove(digest);
    }

    pub(crate) fn remove_user(&self, user: UserId) {
        self.lock().retain(|_, (record, _)| record.user_id != user);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<TokenDigest, (SessionRecord, OffsetDateTime)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
