//! `ChangeFollower`: the handle of a running change-log follower, whatever the backend.

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::ChangeFeed;

/// A running follower of a store's change log: the [`ChangeFeed`] it publishes to, and the
/// background task, which ends on [`ChangeFollower::stop`] or when this handle is dropped.
/// Once the task ends the feed is not live, so caches over it serve nothing.
#[derive(Debug)]
pub struct ChangeFollower {
    feed: ChangeFeed,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ChangeFollower {
    /// Wraps `task`, which publishes to `feed` and ends when `stop` fires (or is dropped).
    #[must_use]
    pub fn new(feed: ChangeFeed, stop: oneshot::Sender<()>, task: JoinHandle<()>) -> Self {
        Self {
            feed,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The feed caches subscribe to (clone it freely).
    #[must_use]
    pub fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    /// Stops the task and waits until it has ended (its connections released).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            // The receiver is gone only when the task already ended.
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::error!(target: "soc2::changes", %error, "change follower ended abnormally");
        }
    }
}

impl Drop for ChangeFollower {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
