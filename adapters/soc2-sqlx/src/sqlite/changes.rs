//! The SQLite change follower: polls the `soc2_changes` table (appended by the triggers of
//! migration 12 in every writer's transaction) into a [`ChangeFeed`], and prunes it.

use std::time::Duration;

use soc2_core::changes::DEFAULT_CHANGE_BUFFER;
use soc2_core::{Change, ChangeFeed, ChangeFollower, ChangePublisher, StoreError, unix_micros};
use sqlx::SqlitePool;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::time::{Instant, MissedTickBehavior};

use crate::changes::change_or_resync;
use crate::error::store_error;

/// How often the log is polled by default: a change made by another process reaches this
/// one's caches within a quarter of a second, for one indexed read per poll.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How long rows stay in the log by default: far longer than any poll interval, so a follower
/// that is merely slow never misses rows; one that is away longer resyncs.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(10 * 60);
/// How often a follower prunes the log by default (any follower may; the statement is cheap
/// and idempotent).
pub const DEFAULT_PRUNE_INTERVAL: Duration = Duration::from_secs(60);
/// Rows read per statement; a full batch is followed by another read at once.
const BATCH: i64 = 500;

/// How a [`follow_changes`] follower polls and prunes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollConfig {
    /// The wait between polls: the bound on how late another process's change reaches the
    /// caches ([`DEFAULT_POLL_INTERVAL`]).
    pub poll_interval: Duration,
    /// How long rows are kept ([`DEFAULT_RETENTION`]).
    pub retention: Duration,
    /// How often this follower deletes rows older than `retention`
    /// ([`DEFAULT_PRUNE_INTERVAL`]).
    pub prune_interval: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        Self {
            poll_interval: DEFAULT_POLL_INTERVAL,
            retention: DEFAULT_RETENTION,
            prune_interval: DEFAULT_PRUNE_INTERVAL,
        }
    }
}

impl PollConfig {
    /// Polls every `interval` (at least 1 ms).
    #[must_use]
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Keeps rows for `retention`.
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Prunes every `interval` (at least 1 ms).
    #[must_use]
    pub fn with_prune_interval(mut self, interval: Duration) -> Self {
        self.prune_interval = interval.max(Duration::from_millis(1));
        self
    }
}

/// Follows the `soc2_changes` log of the database behind `pool` (migrated), starting after
/// its last row: a change committed by any writer on the file (another pool, `soc2ctl`, manual
/// SQL) reaches the feed within one `poll_interval`.
///
/// Returns after the first read, with the feed live. Rows missing after the cursor (pruned
/// before this follower read them) are published as one [`Change::Resync`]; so is a failed
/// poll, after which the feed is not live until a poll succeeds. Unknown rows are logged and
/// published as [`Change::Resync`]. Every `prune_interval` the rows older than `retention` are
/// deleted. The follower ends on [`ChangeFollower::stop`] or when the handle is dropped.
///
/// # Errors
/// A [`StoreError`] when the log cannot be read (not migrated, file unavailable).
pub async fn follow_changes(
    pool: &SqlitePool,
    config: PollConfig,
) -> Result<ChangeFollower, StoreError> {
    // The sequence counter, not max(seq): rows may all have been pruned.
    let cursor: i64 = sqlx::query_scalar(
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'soc2_changes'), \
         (SELECT max(seq) FROM soc2_changes), 0)",
    )
    .fetch_one(pool)
    .await
    .map_err(store_error)?;
    let (feed, publisher) = ChangeFeed::new(DEFAULT_CHANGE_BUFFER);
    publisher.set_live(true);
    let (stop, stopped) = oneshot::channel();
    let poller = Poller {
        pool: pool.clone(),
        config,
        publisher,
        cursor,
        live: true,
    };
    let task = tokio::spawn(poller.run(stopped));
    Ok(ChangeFollower::new(feed, stop, task))
}

/// The task's state.
struct Poller {
    pool: SqlitePool,
    config: PollConfig,
    publisher: ChangePublisher,
    /// The last `seq` published.
    cursor: i64,
    /// Whether the last poll succeeded (the feed is live).
    live: bool,
}

impl Poller {
    async fn run(mut self, mut stopped: oneshot::Receiver<()>) {
        let start = Instant::now();
        let mut polls =
            tokio::time::interval_at(start + self.config.poll_interval, self.config.poll_interval);
        polls.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut prunes = tokio::time::interval_at(start, self.config.prune_interval);
        prunes.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = &mut stopped => return,
                _ = polls.tick() => if !self.poll().await {
                    return;
                },
                _ = prunes.tick() => self.prune().await,
            }
        }
    }

    /// Publishes every row after the cursor; on failure the feed is not live until a poll
    /// succeeds, which then starts with a resync. False once the pool is closed (the
    /// application is shutting down): the follower ends.
    async fn poll(&mut self) -> bool {
        loop {
            match self.read().await {
                Ok(rows) => {
                    if !self.live {
                        self.publisher.publish(Change::Resync);
                        self.publisher.set_live(true);
                        self.live = true;
                        tracing::info!(target: "soc2::sqlx", "change log readable again; caches resynced");
                    }
                    let full = rows.len() as i64 >= BATCH;
                    self.publish(rows);
                    if !full {
                        return true;
                    }
                }
                Err(sqlx::Error::PoolClosed) => {
                    self.publisher.set_live(false);
                    return false;
                }
                Err(error) => {
                    if self.live {
                        tracing::warn!(
                            target: "soc2::sqlx", %error,
                            "change log unreadable; session and role caches are off until it is read"
                        );
                    }
                    self.publisher.set_live(false);
                    self.live = false;
                    return true;
                }
            }
        }
    }

    async fn read(&self) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT seq, kind, key FROM soc2_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(self.cursor)
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await
    }

    fn publish(&mut self, rows: Vec<(i64, String, String)>) {
        for (seq, kind, key) in rows {
            if seq != self.cursor + 1 {
                tracing::warn!(
                    target: "soc2::sqlx", after = self.cursor, next = seq,
                    "change log rows pruned before they were read; resyncing"
                );
                self.publisher.publish(Change::Resync);
            }
            self.publisher.publish(change_or_resync(&kind, &key));
            self.cursor = seq;
        }
    }

    async fn prune(&self) {
        let horizon = OffsetDateTime::now_utc() - self.config.retention;
        if let Err(error) = prune(&self.pool, horizon).await {
            tracing::warn!(target: "soc2::sqlx", %error, "change log not pruned; retrying next interval");
        }
    }
}

/// Deletes the change log rows written before `horizon`; returns how many. Followers call it
/// every `prune_interval`; a follower whose unread rows were deleted resyncs.
///
/// # Errors
/// A [`StoreError`] when the database cannot be written.
pub async fn prune_changes(pool: &SqlitePool, horizon: OffsetDateTime) -> Result<u64, StoreError> {
    prune(pool, horizon).await.map_err(store_error)
}

async fn prune(pool: &SqlitePool, horizon: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let pruned = sqlx::query("DELETE FROM soc2_changes WHERE at_us < $1")
        .bind(unix_micros(horizon))
        .execute(pool)
        .await?;
    Ok(pruned.rows_affected())
}
