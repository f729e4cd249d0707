//! An optional in-process cache of validated sessions: bounded staleness, and, when fed by a
//! [`ChangeFeed`], dropping what other instances changed.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use soc2_core::{Change, ChangeFeed, ChangeSubscription, UserId};
use time::OffsetDateTime;

use crate::{SessionRecord, TokenDigest};

/// Most sessions held; a full cache is emptied rather than grown.
const CAPACITY: usize = 100_000;

/// What a miss hands to the store read that follows it, for [`SessionCache::put`]: the
/// generation the cache was at, or `None` when the cache could not be used (feed not live).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(Option<u64>);

/// A lookup's answer: the record if one may be served (read from the store less than
/// `max_staleness` ago, no change since), and the ticket for a `put` after a store read.
pub(crate) type Lookup = (Option<SessionRecord>, Ticket);

/// The guarded state.
#[derive(Debug)]
struct Entries {
    records: HashMap<TokenDigest, (SessionRecord, OffsetDateTime)>,
    /// Bumped by every change applied and every local removal: a store read that started
    /// under an older generation may be stale and is not cached.
    generation: u64,
    subscription: Option<ChangeSubscription>,
}

impl Entries {
    /// Applies the feed's pending changes; false when the cache must not serve (the feed is
    /// not live), in which case it is emptied.
    fn catch_up(&mut self) -> bool {
        let Some(subscription) = self.subscription.as_mut() else {
            return true;
        };
        let records = &mut self.records;
        let generation = &mut self.generation;
        let live = subscription.catch_up(|change| match change {
            Change::Session(digest) => {
                records.remove(&TokenDigest::from_bytes(digest));
                *generation += 1;
            }
            Change::Resync => {
                records.clear();
                *generation += 1;
            }
            // Roles are not part of a session record.
            _ => {}
        });
        if !live {
            // Whatever was read before may be stale by the time the feed is back, even if its
            // producer came back without a resync.
            records.clear();
            *generation += 1;
        }
        live
    }
}

/// Validated sessions, each served for at most `max_staleness` after it was read from the store,
/// and, with a feed, only while the feed is live and no change dropped it.
#[derive(Debug)]
pub(crate) struct SessionCache {
    max_staleness: Duration,
    entries: Mutex<Entries>,
}

impl SessionCache {
    /// A cache told of nothing but this instance's own removals.
    pub(crate) fn new(max_staleness: Duration) -> Self {
        Self::with_subscription(max_staleness, None)
    }

    /// A cache that also applies the changes published on `feed`.
    pub(crate) fn fed_by(feed: &ChangeFeed, max_staleness: Duration) -> Self {
        Self::with_subscription(max_staleness, Some(feed.subscribe()))
    }

    fn with_subscription(
        max_staleness: Duration,
        subscription: Option<ChangeSubscription>,
    ) -> Self {
        Self {
            max_staleness,
            entries: Mutex::new(Entries {
                records: HashMap::new(),
                generation: 0,
                subscription,
            }),
        }
    }

    /// The cached session, if it was read less than `max_staleness` before `now` and the feed
    /// (if any) is live and has not changed it since.
    pub(crate) fn get(&self, digest: &TokenDigest, now: OffsetDateTime) -> Lookup {
        let mut entries = self.lock();
        if !entries.catch_up() {
            return (None, Ticket(None));
        }
        let ticket = Ticket(Some(entries.generation));
        let record = entries
            .records
            .get(digest)
            .filter(|(_, cached_at)| now - *cached_at < self.max_staleness)
            .map(|(record, _)| record.clone());
        (record, ticket)
    }

    /// Caches `record`, read from the store after the lookup that gave `ticket`, unless a
    /// change was applied (or the feed stopped being live) since: the read may predate it.
    pub(crate) fn put(&self, record: &SessionRecord, now: OffsetDateTime, ticket: Ticket) {
        let mut entries = self.lock();
        let live = entries.catch_up();
        if !live || ticket.0 != Some(entries.generation) {
            return;
        }
        if entries.records.len() >= CAPACITY {
            entries.records.clear();
        }
        entries.records.insert(record.digest, (record.clone(), now));
    }

    /// Drops the session (ended or rotated through this instance).
    pub(crate) fn remove(&self, digest: &TokenDigest) {
        let mut entries = self.lock();
        entries.records.remove(digest);
        entries.generation += 1;
    }

    /// Drops every session of `user`.
    pub(crate) fn remove_user(&self, user: UserId) {
        let mut entries = self.lock();
        entries
            .records
            .retain(|_, (record, _)| record.user_id != user);
        entries.generation += 1;
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
