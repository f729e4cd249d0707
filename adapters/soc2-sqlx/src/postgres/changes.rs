//! The PostgreSQL change follower: `LISTEN soc2_changes`, each notification (sent by the
//! triggers of migration 12 at commit, in commit order) published to a [`ChangeFeed`].

use std::time::Duration;

use soc2_core::changes::DEFAULT_CHANGE_BUFFER;
use soc2_core::{Change, ChangeFeed, ChangeFollower, ChangePublisher, StoreError};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::oneshot;

use crate::changes::change_or_resync;
use crate::error::store_error;

/// The channel the triggers notify.
pub const CHANGES_CHANNEL: &str = "soc2_changes";

/// The first wait before reconnecting a lost listener: short, so caches are off only briefly
/// after a blip, but not zero, so a restarting server is not hammered.
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(100);
/// The longest wait between reconnection attempts (the delay doubles up to it): a database
/// that comes back is followed again within this long.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);
/// How often the follower notifies its own channel by default (through another connection of
/// the pool): a listener that hears nothing at all is on a dead connection that TCP has not
/// reported.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// How long a listener may hear nothing, heartbeats included, before its connection is
/// treated as lost, by default: three heartbeats, so one slow round trip is not an outage, and
/// far below a cache's staleness backstop (the reference server's: 60 s).
pub const DEFAULT_SILENCE_LIMIT: Duration = Duration::from_secs(15);

/// How a [`follow_changes_with`] follower checks that its connection is alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListenConfig {
    /// How often the follower notifies itself ([`DEFAULT_HEARTBEAT_INTERVAL`]).
    pub heartbeat_interval: Duration,
    /// How long the listener may hear nothing before its connection counts as lost
    /// ([`DEFAULT_SILENCE_LIMIT`]).
    pub silence_limit: Duration,
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            silence_limit: DEFAULT_SILENCE_LIMIT,
        }
    }
}

impl ListenConfig {
    /// Heartbeats every `interval` (at least 1 ms); a silence of `silence_limit` (at least two
    /// intervals) counts as a lost connection.
    #[must_use]
    pub fn with_heartbeat(mut self, interval: Duration, silence_limit: Duration) -> Self {
        self.heartbeat_interval = interval.max(Duration::from_millis(1));
        self.silence_limit = silence_limit.max(self.heartbeat_interval * 2);
        self
    }
}
/// The kind of a heartbeat payload: no change.
const HEARTBEAT: &str = "heartbeat";

/// Follows the change notifications of the schema `pool` works in (its `current_schema()`) on
/// one connection of `pool`, which it holds for as long as it runs (so `pool` needs at least
/// two connections: the heartbeats below use another).
///
/// Returns once listening, with the feed live. When the connection is lost the feed stops
/// being live at once (caches over it serve nothing), the follower reconnects (after 100 ms,
/// doubling up to 5 s), publishes [`Change::Resync`] (anything may have been missed) and is
/// live again. A change committed by any writer reaches the feed when its notification
/// arrives, typically well under a millisecond after the commit. A connection that dies without
/// TCP noticing is caught by heartbeats: every 5 s the follower notifies its own channel through
/// another connection, and a listener that hears nothing for 15 s counts as lost
/// ([`ListenConfig`], [`follow_changes_with`]). Unknown
/// payloads are logged and published as [`Change::Resync`]. The follower ends when `pool` is closed, or on
/// [`ChangeFollower::stop`] or when the handle is dropped.
///
/// # Errors
/// A [`StoreError`] when the database cannot be reached or the listen fails.
pub async fn follow_changes(pool: &PgPool) -> Result<ChangeFollower, StoreError> {
    follow_changes_with(pool, ListenConfig::default()).await
}

/// [`follow_changes`] with other heartbeat timings.
///
/// # Errors
/// As [`follow_changes`].
pub async fn follow_changes_with(
    pool: &PgPool,
    config: ListenConfig,
) -> Result<ChangeFollower, StoreError> {
    let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(pool)
        .await
        .map_err(store_error)?;
    let schema = schema.ok_or_else(|| {
        StoreError::Corrupt("no current schema: migrate the database before following it".into())
    })?;
    let listener = listen(pool).await.map_err(store_error)?;
    let (feed, publisher) = ChangeFeed::new(DEFAULT_CHANGE_BUFFER);
    publisher.set_live(true);
    let (stop, stopped) = oneshot::channel();
    let follower = Follower {
        pool: pool.clone(),
        schema,
        publisher,
        silence_limit: config.silence_limit,
    };
    let heartbeats = tokio::spawn(heartbeats(
        pool.clone(),
        follower.schema.clone(),
        config.heartbeat_interval,
    ));
    let task = tokio::spawn(async move {
        follower.run(listener, stopped).await;
        heartbeats.abort();
    });
    Ok(ChangeFollower::new(feed, stop, task))
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection is reported at once (and re-established by `Follower::reconnect`),
    // not silently re-established first.
    listener.eager_reconnect(false);
    listener.listen(CHANGES_CHANNEL).await?;
    Ok(listener)
}

/// Notifies `<schema>:heartbeat:` every `interval` (also heard by the other instances'
/// followers on the database, which ignore it).
async fn heartbeats(pool: PgPool, schema: String, interval: Duration) {
    let payload = format!("{schema}:{HEARTBEAT}:");
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANGES_CHANNEL)
            .bind(&payload)
            .execute(&pool)
            .await;
        match sent {
            Ok(_) => {}
            Err(sqlx::Error::PoolClosed) => return,
            // The listener, hearing nothing, reports the outage.
            Err(error) => tracing::debug!(target: "soc2::sqlx", %error, "heartbeat not sent"),
        }
    }
}

/// The task's state.
struct Follower {
    pool: PgPool,
    schema: String,
    publisher: ChangePublisher,
    silence_limit: Duration,
}

impl Follower {
    async fn run(self, mut listener: PgListener, mut stopped: oneshot::Receiver<()>) {
        loop {
            let lost = tokio::select! {
                biased;
                _ = &mut stopped => return,
                lost = self.relay(&mut listener) => lost,
            };
            self.publisher.set_live(false);
            drop(listener);
            match lost {
                Some(error) => tracing::warn!(
                    target: "soc2::sqlx", %error,
                    "change listener failed; session and role caches are off until it reconnects"
                ),
                None => return, // the pool was closed: the application is shutting down
            }
            listener = tokio::select! {
                biased;
                _ = &mut stopped => return,
                listener = self.reconnect() => match listener {
                    Some(listener) => listener,
                    None => return,
                },
            };
            self.publisher.publish(Change::Resync);
            self.publisher.set_live(true);
            tracing::info!(target: "soc2::sqlx", "change listener reconnected; caches resynced");
        }
    }

    /// Publishes notifications until the connection fails or stays silent for
    /// `silence_limit` (`Some` error) or the pool is closed (`None`).
    async fn relay(&self, listener: &mut PgListener) -> Option<sqlx::Error> {
        loop {
            // Cancelling a receive is safe here: the listener is dropped right after.
            let silence = self.silence_limit;
            let Ok(received) = tokio::time::timeout(silence, listener.try_recv()).await else {
                return Some(sqlx::Error::Protocol(format!(
                    "no notification, not even a heartbeat, for {silence:?}"
                )));
            };
            match received {
                Ok(Some(notification)) => {
                    if let Some(change) = self.change(notification.payload()) {
                        self.publisher.publish(change);
                    }
                }
                Ok(None) => return Some(sqlx::Error::Protocol("connection lost".into())),
                Err(sqlx::Error::PoolClosed) => return None,
                Err(error) => return Some(error),
            }
        }
    }

    /// Reconnects with a doubling delay; `None` once the pool is closed.
    async fn reconnect(&self) -> Option<PgListener> {
        let mut delay = FIRST_RECONNECT_DELAY;
        loop {
            tokio::time::sleep(delay).await;
            match listen(&self.pool).await {
                Ok(listener) => return Some(listener),
                Err(sqlx::Error::PoolClosed) => return None,
                Err(error) => {
                    tracing::warn!(target: "soc2::sqlx", %error, ?delay, "change listener cannot reconnect");
                    delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                }
            }
        }
    }

    fn change(&self, payload: &str) -> Option<Change> {
        payload_change(&self.schema, payload)
    }
}

/// The change in a `<schema>:<kind>:<key>` payload; `None` for another schema's.
fn payload_change(own_schema: &str, payload: &str) -> Option<Change> {
    let mut parts = payload.rsplitn(3, ':');
    let (key, kind, schema) = (parts.next(), parts.next(), parts.next());
    match (schema, kind, key) {
        (Some(_), Some(HEARTBEAT), Some("")) => None,
        (Some(schema), Some(kind), Some(key)) if schema == own_schema => {
            Some(change_or_resync(kind, key))
        }
        (Some(_), Some(_), Some(_)) => None,
        _ => Some(change_or_resync(payload, "")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_of_this_schema_are_changes_others_are_ignored_and_garbage_resyncs() {
        let digest = "0f".repeat(32);
        assert_eq!(
            payload_change("app", &format!("app:session:{digest}")),
            Some(Change::Session([0x0f; 32]))
        );
        assert_eq!(
            payload_change("a:b", "a:b:role_hierarchy:"),
            Some(Change::RoleHierarchy),
            "a schema name may hold colons"
        );
        assert_eq!(payload_change("app", "app:resync:"), Some(Change::Resync));
        assert_eq!(payload_change("app", "app:heartbeat:"), None);
        assert_eq!(payload_change("app", "other:heartbeat:"), None);
        assert_eq!(
            payload_change("app", &format!("other:session:{digest}")),
            None
        );
        assert_eq!(
            payload_change("app", "app:session:zz"),
            Some(Change::Resync)
        );
        assert_eq!(payload_change("app", "hello"), Some(Change::Resync));
    }
}
