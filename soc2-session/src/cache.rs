//! An optional in-process cache of validated sessions: bounded staleness, and, when fed by a
//! [`ChangeFeed`], dropping what other instances changed.

use std::time::Duration;

use soc2_core::{Change, ChangeFeed, FedCache, Invalidation, Ticket, UserId};
use time::OffsetDateTime;

use crate::{SessionRecord, TokenDigest};

/// Most sessions held; a full cache is emptied rather than grown.
const CAPACITY: usize = 100_000;

/// A lookup's answer: the record if one may be served (read from the store less than
/// `max_staleness` ago, no change since), and the ticket for a `put` after a store read.
pub(crate) type Lookup = (Option<SessionRecord>, Ticket);

/// Validated sessions, each served for at most `max_staleness` after it was read from the store,
/// and, with a feed, only while the feed is live and no change dropped it.
#[derive(Debug)]
pub(crate) struct SessionCache {
    max_staleness: Duration,
    records: FedCache<TokenDigest, (SessionRecord, OffsetDateTime)>,
}

/// What a change means to sessions: roles are not part of a session record.
fn invalidation(change: Change) -> Invalidation<TokenDigest> {
    match change {
        Change::Session(digest) => Invalidation::Entry(TokenDigest::from_bytes(digest)),
        Change::Resync => Invalidation::All,
        _ => Invalidation::Nothing,
    }
}

impl SessionCache {
    /// A cache told of nothing but this instance's own removals.
    pub(crate) fn new(max_staleness: Duration) -> Self {
        Self::with_feed(max_staleness, None)
    }

    /// A cache that also applies the changes published on `feed`.
    pub(crate) fn fed_by(feed: &ChangeFeed, max_staleness: Duration) -> Self {
        Self::with_feed(max_staleness, Some(feed))
    }

    fn with_feed(max_staleness: Duration, feed: Option<&ChangeFeed>) -> Self {
        Self {
            max_staleness,
            records: FedCache::new(feed, CAPACITY, invalidation),
        }
    }

    /// The cached session, if it was read less than `max_staleness` before `now` and the feed
    /// (if any) is live and has not changed it since.
    pub(crate) fn get(&self, digest: &TokenDigest, now: OffsetDateTime) -> Lookup {
        let (cached, ticket) = self.records.get(digest, |(_, cached_at)| {
            now - *cached_at < self.max_staleness
        });
        (cached.map(|(record, _)| record), ticket)
    }

    /// Caches `record`, read from the store after the lookup that gave `ticket`, unless a
    /// change was applied (or the feed stopped being live) since: the read may predate it.
    pub(crate) fn put(&self, record: &SessionRecord, now: OffsetDateTime, ticket: Ticket) {
        self.records
            .put(record.digest, (record.clone(), now), ticket);
    }

    /// Drops the session (ended or rotated through this instance).
    pub(crate) fn remove(&self, digest: &TokenDigest) {
        self.records.remove(digest);
    }

    /// Drops every session of `user`.
    pub(crate) fn remove_user(&self, user: UserId) {
        self.records.retain(|_, (record, _)| record.user_id != user);
    }
}
