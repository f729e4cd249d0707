//! Changes made through other app instances (or tools such as `soc2ctl`) that in-process
//! caches must drop: the contract between a store's change log and the caches over it.
//!
//! A producer (a store adapter following its database's change log) holds the
//! [`ChangePublisher`]; each cache holds a [`ChangeSubscription`] and calls
//! [`ChangeSubscription::catch_up`] before every read, which applies every change published so
//! far and says whether the cache may be used at all: while the producer cannot follow the log
//! (connection lost, not yet caught up) it may not.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::broadcast::{
    self,
    error::{RecvError, TryRecvError},
};

use crate::UserId;

/// Changes a subscriber may fall behind by before it must drop everything ([`Change::Resync`]).
pub const DEFAULT_CHANGE_BUFFER: usize = 4096;

/// One change to state that caches hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The session with this token digest (SHA-256) ended, or its token was rotated away.
    Session([u8; 32]),
    /// The roles or elevations of this user changed.
    UserRoles(UserId),
    /// The role hierarchy changed: any user's effective roles may have.
    RoleHierarchy,
    /// Changes may have been missed (the producer reconnected, or the subscriber fell behind):
    /// drop every cached entry.
    Resync,
}

/// State shared by a publisher and its subscribers.
#[derive(Debug)]
struct Shared {
    live: AtomicBool,
    published: AtomicU64,
}

/// Where caches subscribe to changes. Cheap to clone.
#[derive(Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<Change>,
    shared: Arc<Shared>,
}

impl fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("live", &self.is_live())
            .field("subscribers", &self.sender.receiver_count())
            .finish()
    }
}

/// The producing side of a [`ChangeFeed`]: publishes changes and says whether it is following
/// the change log.
#[derive(Debug)]
pub struct ChangePublisher {
    sender: broadcast::Sender<Change>,
    shared: Arc<Shared>,
}

impl ChangeFeed {
    /// A feed whose subscribers may fall `buffer` changes behind before they resync; not live
    /// until the publisher says so.
    #[must_use]
    pub fn new(buffer: usize) -> (Self, ChangePublisher) {
        let (sender, _) = broadcast::channel(buffer.max(1));
        let shared = Arc::new(Shared {
            live: AtomicBool::new(false),
            published: AtomicU64::new(0),
        });
        let feed = Self {
            sender: sender.clone(),
            shared: Arc::clone(&shared),
        };
        (feed, ChangePublisher { sender, shared })
    }

    /// A subscription to every change published from now on.
    #[must_use]
    pub fn subscribe(&self) -> ChangeSubscription {
        ChangeSubscription {
            receiver: self.sender.subscribe(),
            shared: Arc::clone(&self.shared),
        }
    }

    /// True while the publisher follows the change log.
    #[must_use]
    pub fn is_live(&self) -> bool {
        self.shared.live.load(Ordering::Acquire)
    }

    /// Changes published so far (for tests and metrics).
    #[must_use]
    pub fn published(&self) -> u64 {
        self.shared.published.load(Ordering::Acquire)
    }
}

impl ChangePublisher {
    /// Sends `change` to every subscriber.
    pub fn publish(&self, change: Change) {
        // No subscribers is not an error: there is simply no cache to tell.
        let _ = self.sender.send(change);
        self.shared.published.fetch_add(1, Ordering::AcqRel);
    }

    /// Declares whether the publisher follows the log. Going live after an interruption must
    /// come after publishing the missed changes (or a [`Change::Resync`]).
    pub fn set_live(&self, live: bool) {
        self.shared.live.store(live, Ordering::Release);
    }
}

impl Drop for ChangePublisher {
    fn drop(&mut self) {
        self.set_live(false);
    }
}

/// One cache's view of a [`ChangeFeed`].
#[derive(Debug)]
pub struct ChangeSubscription {
    receiver: broadcast::Receiver<Change>,
    shared: Arc<Shared>,
}

impl ChangeSubscription {
    /// Applies every change received so far, in order (a missed stretch as
    /// [`Change::Resync`]), and returns whether the cache may serve entries now: false while
    /// the publisher is not following the log or is gone.
    pub fn catch_up(&mut self, mut apply: impl FnMut(Change)) -> bool {
        loop {
            match self.receiver.try_recv() {
                Ok(change) => apply(change),
                Err(TryRecvError::Lagged(_)) => apply(Change::Resync),
                Err(TryRecvError::Empty) => return self.shared.live.load(Ordering::Acquire),
                Err(TryRecvError::Closed) => return false,
            }
        }
    }

    /// Waits for the next change (a missed stretch as [`Change::Resync`]); `None` once the
    /// publisher is gone. For consumers that react to changes rather than check before reads.
    pub async fn next(&mut self) -> Option<Change> {
        match self.receiver.recv().await {
            Ok(change) => Some(change),
            Err(RecvError::Lagged(_)) => Some(Change::Resync),
            Err(RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drained(subscription: &mut ChangeSubscription) -> (Vec<Change>, bool) {
        let mut seen = Vec::new();
        let usable = subscription.catch_up(|change| seen.push(change));
        (seen, usable)
    }

    #[test]
    fn a_subscription_sees_changes_in_order_and_only_while_live() {
        let (feed, publisher) = ChangeFeed::new(8);
        let mut subscription = feed.subscribe();
        assert_eq!(drained(&mut subscription), (vec![], false), "not live yet");
        let user = UserId::new_v7();
        publisher.publish(Change::Session([7; 32]));
        publisher.publish(Change::UserRoles(user));
        publisher.set_live(true);
        assert_eq!(
            drained(&mut subscription),
            (
                vec![Change::Session([7; 32]), Change::UserRoles(user)],
                true
            )
        );
        assert_eq!(feed.published(), 2);
        publisher.set_live(false);
        assert_eq!(drained(&mut subscription), (vec![], false));
    }

    #[test]
    fn falling_behind_becomes_a_resync() {
        let (feed, publisher) = ChangeFeed::new(2);
        let mut subscription = feed.subscribe();
        publisher.set_live(true);
        for byte in 0..5 {
            publisher.publish(Change::Session([byte; 32]));
        }
        let (seen, usable) = drained(&mut subscription);
        assert!(usable);
        assert_eq!(
            seen,
            vec![
                Change::Resync,
                Change::Session([3; 32]),
                Change::Session([4; 32])
            ]
        );
    }

    #[test]
    fn a_dropped_publisher_makes_every_cache_unusable() {
        let (feed, publisher) = ChangeFeed::new(2);
        let mut subscription = feed.subscribe();
        publisher.set_live(true);
        drop(publisher);
        assert!(!feed.is_live());
        assert_eq!(drained(&mut subscription), (vec![], false));
    }
}
