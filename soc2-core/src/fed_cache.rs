//! `FedCache`: an in-process map kept correct by a [`ChangeFeed`], the mechanism behind the
//! session and role caches.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::{Change, ChangeFeed, ChangeSubscription};

/// What one change means to a cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation<K> {
    /// Drop this entry.
    Entry(K),
    /// Drop every entry.
    All,
    /// Nothing the cache holds changed.
    Nothing,
}

/// Handed out by [`FedCache::get`] for the store read that follows a miss: the generation
/// the cache was at, or none when the cache could not be used (feed not live).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(Option<u64>);

#[derive(Debug)]
struct State<K, V> {
    entries: HashMap<K, V>,
    /// Bumped by every change applied and every local removal: a store read that started
    /// under an older generation may be stale and is not kept.
    generation: u64,
    subscription: Option<ChangeSubscription>,
}

impl<K: Eq + Hash, V> State<K, V> {
    /// Applies the feed's pending changes; false when the cache must not serve (the feed is
    /// not live), in which case it is emptied: what was read before may be stale by the time
    /// the feed is back, even if its producer comes back without a resync.
    fn catch_up(&mut self, invalidation: fn(Change) -> Invalidation<K>) -> bool {
        let Some(subscription) = self.subscription.as_mut() else {
            return true;
        };
        let entries = &mut self.entries;
        let generation = &mut self.generation;
        let live = subscription.catch_up(|change| match invalidation(change) {
            Invalidation::Entry(key) => {
                entries.remove(&key);
                *generation += 1;
            }
            Invalidation::All => {
                entries.clear();
                *generation += 1;
            }
            Invalidation::Nothing => {}
        });
        if !live {
            entries.clear();
            *generation += 1;
        }
        live
    }
}

/// A bounded map whose entries are dropped when a [`ChangeFeed`] reports a change to them,
/// which serves nothing while the feed is not live, and which refuses to keep a value read
/// from the store before a change it has since applied (a [`Ticket`] from the lookup that
/// missed). Without a feed it is told only of this process's own removals.
#[derive(Debug)]
pub struct FedCache<K, V> {
    state: Mutex<State<K, V>>,
    capacity: usize,
    invalidation: fn(Change) -> Invalidation<K>,
}

impl<K: Eq + Hash, V: Clone> FedCache<K, V> {
    /// A cache of at most `capacity` entries (a full cache is emptied rather than grown),
    /// following `feed` if given, each change meaning what `invalidation` says.
    #[must_use]
    pub fn new(
        feed: Option<&ChangeFeed>,
        capacity: usize,
        invalidation: fn(Change) -> Invalidation<K>,
    ) -> Self {
        Self {
            state: Mutex::new(State {
                entries: HashMap::new(),
                generation: 0,
                subscription: feed.map(ChangeFeed::subscribe),
            }),
            capacity,
            invalidation,
        }
    }

    /// After applying the feed: the value under `key` if the cache may serve and `fresh`
    /// accepts it, and the ticket for a [`FedCache::put`] after a store read.
    pub fn get(&self, key: &K, fresh: impl FnOnce(&V) -> bool) -> (Option<V>, Ticket) {
        let mut state = self.lock();
        if !state.catch_up(self.invalidation) {
            return (None, Ticket(None));
        }
        let value = state.entries.get(key).filter(|value| fresh(value)).cloned();
        (value, Ticket(Some(state.generation)))
    }

    /// Keeps `value`, read from the store after the lookup that gave `ticket`, unless a change
    /// was applied (or the feed stopped being live) since: the read may predate it.
    pub fn put(&self, key: K, value: V, ticket: Ticket) {
        let mut state = self.lock();
        if !state.catch_up(self.invalidation) || ticket.0 != Some(state.generation) {
            return;
        }
        if state.entries.len() >= self.capacity {
            state.entries.clear();
        }
        state.entries.insert(key, value);
    }

    /// Drops the entry under `key` (changed through this process).
    pub fn remove(&self, key: &K) {
        let mut state = self.lock();
        state.entries.remove(key);
        state.generation += 1;
    }

    /// Keeps only the entries `keep` accepts (changed through this process).
    pub fn retain(&self, keep: impl FnMut(&K, &mut V) -> bool) {
        let mut state = self.lock();
        state.entries.retain(keep);
        state.generation += 1;
    }

    /// Drops every entry (changed through this process).
    pub fn clear(&self) {
        self.retain(|_, _| false);
    }

    /// Entries held after applying the feed.
    #[must_use]
    pub fn len(&self) -> usize {
        let mut state = self.lock();
        state.catch_up(self.invalidation);
        state.entries.len()
    }

    /// True when [`FedCache::len`] is 0.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
