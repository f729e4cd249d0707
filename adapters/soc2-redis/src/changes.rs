//! The Redis change follower: the session scripts `PUBLISH` each session they end or rotate
//! away on `<prefix>changes`; a dedicated pub/sub connection relays those messages into a
//! [`ChangeFeed`].

use std::time::Duration;

use futures::StreamExt as _;
use redis::aio::{ConnectionManager, PubSubStream};
use soc2_core::changes::DEFAULT_CHANGE_BUFFER;
use soc2_core::{Change, ChangeFeed, ChangeFollower, ChangePublisher, StoreError};
use tokio::sync::oneshot;

use crate::error::store_error;

/// The channel suffix: the scripts publish on `<prefix>changes`.
pub const CHANGES_CHANNEL_SUFFIX: &str = "changes";

/// The first wait before reconnecting a lost subscription: short, so caches are off only
/// briefly after a blip, but not zero, so a restarting server is not hammered.
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(100);
/// The longest wait between reconnection attempts (the delay doubles up to it).
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);
/// How often the follower publishes a heartbeat on its own channel by default (through a
/// normal connection): a subscription that hears nothing at all is on a dead connection that
/// TCP has not reported.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// How long a subscription may hear nothing, heartbeats included, before its connection is
/// treated as lost, by default: three heartbeats, so one slow round trip is not an outage.
pub const DEFAULT_SILENCE_LIMIT: Duration = Duration::from_secs(15);

/// The payload of a heartbeat: no change.
const HEARTBEAT: &str = "heartbeat";
/// The kind of a session change; its key is the token digest in hex.
const SESSION: &str = "session";

/// How a [`follow_changes`] follower checks that its connection is alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FollowConfig {
    /// How often the follower publishes a heartbeat ([`DEFAULT_HEARTBEAT_INTERVAL`]).
    pub heartbeat_interval: Duration,
    /// How long the subscription may hear nothing before its connection counts as lost
    /// ([`DEFAULT_SILENCE_LIMIT`]).
    pub silence_limit: Duration,
}

impl Default for FollowConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            silence_limit: DEFAULT_SILENCE_LIMIT,
        }
    }
}

impl FollowConfig {
    /// Heartbeats every `interval` (at least 1 ms); a silence of `silence_limit` (at least two
    /// intervals) counts as a lost connection.
    #[must_use]
    pub fn with_heartbeat(mut self, interval: Duration, silence_limit: Duration) -> Self {
        self.heartbeat_interval = interval.max(Duration::from_millis(1));
        self.silence_limit = silence_limit.max(self.heartbeat_interval * 2);
        self
    }
}

/// Follows the session changes that [`RedisSessionStore`](crate::RedisSessionStore)s under
/// `prefix` make, on any app instance: each script that ends a session or rotates its token
/// away (`remove`, `remove_user`, `rotate`, `remove_expired`) publishes `session:<hex digest>`
/// on `<prefix>changes` atomically with the change, and the follower, subscribed on a
/// dedicated pub/sub connection of `client`, relays it to the feed as [`Change::Session`].
///
/// Returns once subscribed, with the feed live (each subscription attempt, the first one
/// included, fails after `config.silence_limit`). Redis pub/sub is fire-and-forget: while the
/// subscription is connected every message arrives, in order; messages published while it is
/// not are lost. So when the connection is lost the feed stops being live at once (caches over
/// it serve nothing), the follower reconnects (after 100 ms, doubling up to 5 s), publishes
/// [`Change::Resync`] and is live again. A connection that dies without TCP noticing is caught
/// by heartbeats: the follower publishes on its own channel through a normal connection every
/// `config.heartbeat_interval`, and a subscription that hears nothing for
/// `config.silence_limit` counts as lost ([`FollowConfig`]). Unknown payloads are logged and
/// published as [`Change::Resync`].
///
/// # Errors
/// A [`StoreError`] when the server cannot be reached or the subscription fails.
pub async fn follow_changes(
    client: redis::Client,
    prefix: impl Into<String>,
    config: FollowConfig,
) -> Result<ChangeFollower, StoreError> {
    let channel = format!("{}{CHANGES_CHANNEL_SUFFIX}", prefix.into());
    let messages = subscribe(&client, &channel, config.silence_limit)
        .await
        .map_err(store_error)?;
    let heartbeat_conn = ConnectionManager::new(client.clone())
        .await
        .map_err(store_error)?;
    let (feed, publisher) = ChangeFeed::new(DEFAULT_CHANGE_BUFFER);
    publisher.set_live(true);
    let (stop, stopped) = oneshot::channel();
    let heartbeats = tokio::spawn(heartbeats(
        heartbeat_conn,
        channel.clone(),
        config.heartbeat_interval,
    ));
    let follower = Follower {
        client,
        channel,
        publisher,
        silence_limit: config.silence_limit,
    };
    let task = tokio::spawn(async move {
        follower.run(messages, stopped).await;
        heartbeats.abort();
    });
    Ok(ChangeFollower::new(feed, stop, task))
}

/// A new pub/sub connection subscribed to `channel`, failing after `limit` (a network that
/// silently drops everything would otherwise hold the attempt forever).
async fn subscribe(
    client: &redis::Client,
    channel: &str,
    limit: Duration,
) -> redis::RedisResult<PubSubStream> {
    let attempt = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok(pubsub.into_on_message())
    };
    tokio::time::timeout(limit, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no subscription within {limit:?}"),
            )
            .into())
        })
}

/// Publishes a heartbeat on `channel` every `interval` (also heard by the other instances'
/// followers on the prefix, which ignore it).
async fn heartbeats(mut conn: ConnectionManager, channel: String, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(HEARTBEAT)
            .query_async(&mut conn)
            .await;
        if let Err(error) = sent {
            // The subscription, hearing nothing, reports the outage.
            tracing::debug!(target: "soc2::redis", %error, "heartbeat not sent");
        }
    }
}

/// The task's state.
struct Follower {
    client: redis::Client,
    channel: String,
    publisher: ChangePublisher,
    silence_limit: Duration,
}

impl Follower {
    async fn run(self, mut messages: PubSubStream, mut stopped: oneshot::Receiver<()>) {
        loop {
            let lost = tokio::select! {
                biased;
                _ = &mut stopped => return,
                lost = self.relay(&mut messages) => lost,
            };
            self.publisher.set_live(false);
            drop(messages);
            tracing::warn!(
                target: "soc2::redis", %lost,
                "change subscription lost; session caches are off until it reconnects"
            );
            messages = tokio::select! {
                biased;
                _ = &mut stopped => return,
                messages = self.reconnect() => messages,
            };
            self.publisher.publish(Change::Resync);
            self.publisher.set_live(true);
            tracing::info!(target: "soc2::redis", "change subscription reconnected; caches resynced");
        }
    }

    /// Publishes messages until the connection closes or stays silent for `silence_limit`;
    /// returns which.
    async fn relay(&self, messages: &mut PubSubStream) -> String {
        loop {
            let silence = self.silence_limit;
            let Ok(received) = tokio::time::timeout(silence, messages.next()).await else {
                return format!("no message, not even a heartbeat, for {silence:?}");
            };
            let Some(message) = received else {
                return "connection closed".to_owned();
            };
            let change = match message.get_payload::<String>() {
                Ok(payload) => payload_change(&payload),
                Err(error) => {
                    tracing::warn!(target: "soc2::redis", %error, "unreadable change message; resyncing");
                    Some(Change::Resync)
                }
            };
            if let Some(change) = change {
                self.publisher.publish(change);
            }
        }
    }

    /// Resubscribes on a new connection, with a doubling delay between attempts.
    async fn reconnect(&self) -> PubSubStream {
        let mut delay = FIRST_RECONNECT_DELAY;
        loop {
            tokio::time::sleep(delay).await;
            match subscribe(&self.client, &self.channel, self.silence_limit).await {
                Ok(messages) => return messages,
                Err(error) => {
                    tracing::warn!(target: "soc2::redis", %error, ?delay, "change subscription cannot reconnect");
                    delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                }
            }
        }
    }
}

/// The change in a payload: `None` for a heartbeat, [`Change::Resync`] (logged) for anything
/// that is not a session change (an unknown change may have been anything).
fn payload_change(payload: &str) -> Option<Change> {
    if payload == HEARTBEAT {
        return None;
    }
    let session = payload
        .strip_prefix(SESSION)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|hex_digest| {
            let mut digest = [0; 32];
            hex::decode_to_slice(hex_digest, &mut digest).ok()?;
            Some(Change::Session(digest))
        });
    Some(session.unwrap_or_else(|| {
        tracing::warn!(target: "soc2::redis", payload, "unknown change message; resyncing");
        Change::Resync
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_payloads_parse_heartbeats_are_ignored_and_anything_else_resyncs() {
        assert_eq!(
            payload_change(&format!("session:{}", "ab".repeat(32))),
            Some(Change::Session([0xab; 32]))
        );
        assert_eq!(payload_change("heartbeat"), None);
        assert_eq!(payload_change("session:abcd"), Some(Change::Resync));
        assert_eq!(payload_change(&"ab".repeat(32)), Some(Change::Resync));
        assert_eq!(payload_change("session"), Some(Change::Resync));
        assert_eq!(payload_change(""), Some(Change::Resync));
        assert_eq!(payload_change("passwords:x"), Some(Change::Resync));
    }

    #[test]
    fn heartbeat_settings_keep_the_silence_limit_above_two_intervals() {
        let config = FollowConfig::default();
        assert_eq!(config.heartbeat_interval, Duration::from_secs(5));
        assert_eq!(config.silence_limit, Duration::from_secs(15));
        let config = config.with_heartbeat(Duration::from_millis(100), Duration::from_millis(50));
        assert_eq!(config.heartbeat_interval, Duration::from_millis(100));
        assert_eq!(config.silence_limit, Duration::from_millis(200));
        let config = config.with_heartbeat(Duration::ZERO, Duration::ZERO);
        assert_eq!(config.heartbeat_interval, Duration::from_millis(1));
        assert_eq!(config.silence_limit, Duration::from_millis(2));
    }
}
