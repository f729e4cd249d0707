//! Following the database's change log into a [`ChangeFeed`]: what both backends' followers
//! share (the handle that stops them, the `<kind>:<key>` format the triggers write).

use soc2_core::{Change, ChangeFeed, UserId};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The kind of a session change; its key is the token digest in hex.
const SESSION: &str = "session";
/// The kind of a change to a user's assignments or elevations; its key is the user id.
const USER_ROLES: &str = "user_roles";
/// The kind of a change to the role hierarchy; its key is empty.
const ROLE_HIERARCHY: &str = "role_hierarchy";
/// The kind of a change that may have touched anything (a TRUNCATE); its key is empty.
const RESYNC: &str = "resync";

/// A running follower of the database's change log: the [`ChangeFeed`] it publishes to, and the
/// background task, which ends on [`ChangeFollower::stop`] or when this handle is dropped.
/// Once the task ends the feed is not live, so caches over it serve nothing.
#[derive(Debug)]
pub struct ChangeFollower {
    feed: ChangeFeed,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ChangeFollower {
    /// Wraps the task publishing to `feed`; the task ends when `stop` fires (or is dropped).
    pub(crate) fn new(feed: ChangeFeed, stop: oneshot::Sender<()>, task: JoinHandle<()>) -> Self {
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

    /// Stops the task and waits until it has ended (its connection released).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            // The receiver is gone only when the task already ended.
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::error!(target: "soc2::sqlx", %error, "change follower ended abnormally");
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

/// The change a trigger wrote as `kind` and `key`; `None` for anything else (the caller logs it
/// and resyncs).
pub(crate) fn parse_change(kind: &str, key: &str) -> Option<Change> {
    match kind {
        SESSION => {
            let mut digest = [0; 32];
            hex::decode_to_slice(key, &mut digest).ok()?;
            Some(Change::Session(digest))
        }
        USER_ROLES => key.parse::<UserId>().ok().map(Change::UserRoles),
        ROLE_HIERARCHY if key.is_empty() => Some(Change::RoleHierarchy),
        RESYNC if key.is_empty() => Some(Change::Resync),
        _ => None,
    }
}

/// The change for `kind` and `key`, or [`Change::Resync`] (logged) when they are not one: an
/// unknown change may have been anything.
pub(crate) fn change_or_resync(kind: &str, key: &str) -> Change {
    parse_change(kind, key).unwrap_or_else(|| {
        tracing::warn!(target: "soc2::sqlx", kind, key, "unknown change in the log; resyncing");
        Change::Resync
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn trigger_payloads_parse_and_anything_else_resyncs() {
        let user = UserId::new_v7();
        let hex_digest = "ab".repeat(32);
        assert_eq!(
            parse_change("session", &hex_digest),
            Some(Change::Session([0xab; 32]))
        );
        assert_eq!(
            parse_change("session", &"AB".repeat(32)),
            Some(Change::Session([0xab; 32]))
        );
        assert_eq!(
            parse_change("user_roles", &user.to_string()),
            Some(Change::UserRoles(user))
        );
        assert_eq!(
            parse_change("role_hierarchy", ""),
            Some(Change::RoleHierarchy)
        );
        assert_eq!(parse_change("session", "abcd"), None);
        assert_eq!(parse_change("user_roles", "alice"), None);
        assert_eq!(parse_change("role_hierarchy", "x"), None);
        assert_eq!(parse_change("resync", ""), Some(Change::Resync));
        assert_eq!(parse_change("passwords", ""), None);
        assert_eq!(change_or_resync("nonsense", "x"), Change::Resync);
    }
}
