//! The session sweeper: every `[session] sweep_interval` it deletes the expired sessions
//! (each audited as `session.expired`) until the server shuts down.

use std::time::Duration;

use soc2_session::{SessionError, SessionManager};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// Sessions deleted per store call; a sweep repeats calls until one deletes fewer.
const BATCH: u32 = 500;

/// Deletes every session expired by the manager's clock, [`BATCH`] at a time. Returns how
/// many were deleted.
///
/// # Errors
/// Store and audit failures (what was deleted before stays deleted and audited).
pub(crate) async fn sweep_expired(sessions: &SessionManager) -> Result<usize, SessionError> {
    let mut total = 0;
    loop {
        let removed = sessions.sweep(BATCH).await?;
        total += removed;
        if removed < BATCH as usize {
            return Ok(total);
        }
    }
}

/// The background task; dropping it without [`Sweeper::stop`] ends it too.
#[derive(Debug)]
pub(crate) struct Sweeper {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Sweeper {
    /// Starts sweeping `sessions` every `interval` (the first sweep one interval from now);
    /// `None` when `interval` is zero (disabled).
    pub(crate) fn start(sessions: SessionManager, interval: Duration) -> Option<Self> {
        if interval.is_zero() {
            return None;
        }
        let (stop, mut stopped) = oneshot::channel();
        let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let task = tokio::spawn(async move {
            loop {
                // A due sweep runs before a stop request, and a stop request never interrupts
                // one: every session it deletes is audited.
                tokio::select! {
                    biased;
                    _ = ticks.tick() => match sweep_expired(&sessions).await {
                        Ok(0) => {}
                        Ok(removed) => tracing::info!(removed, "expired sessions swept"),
                        Err(error) => tracing::warn!(%error, "session sweep failed; retrying next interval"),
                    },
                    _ = &mut stopped => break,
                }
            }
        });
        Some(Self { stop, task })
    }

    /// Asks the task to stop and waits until it has (after a sweep in progress).
    pub(crate) async fn stop(self) {
        // The receiver is gone only when the task already ended.
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::error!(%error, "session sweeper ended abnormally");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::Arc;

    use soc2_audit::{AuditLog, AuditLogConfig, MemoryAuditStore};
    use soc2_core::{KeyId, KeyRing, ManualClock, Preset, RequestContext, UserId};
    use soc2_session::{Factor, MemorySessionStore, SessionPolicy, SessionStore};
    use time::macros::datetime;

    use super::*;

    /// A manager on a memory store under Soc2Strict (15 minutes idle), with `count` sessions
    /// (of as many users) that the manual clock has already let expire.
    async fn expired_sessions(count: u32) -> (SessionManager, Arc<MemorySessionStore>, UserId) {
        let keys = KeyRing::single(KeyId::new("test").unwrap(), [5; 32]);
        let audit = AuditLog::start(
            Arc::new(MemoryAuditStore::new(&keys)),
            AuditLogConfig::default(),
        );
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
        let store = Arc::new(MemorySessionStore::new());
        let sessions = SessionManager::new(
            store.clone(),
            SessionPolicy::from_preset(Preset::Soc2Strict),
            clock.clone(),
            audit,
        );
        let context = RequestContext::new();
        let mut user = UserId::new_v7();
        for _ in 0..count {
            user = UserId::new_v7();
            sessions
                .create(user, &[Factor::Password], &context)
                .await
                .unwrap();
        }
        clock.advance(Duration::from_secs(16 * 60));
        (sessions, store, user)
    }

    #[tokio::test(start_paused = true)]
    async fn the_task_sweeps_once_an_interval_has_passed() {
        let (sessions, store, user) = expired_sessions(1).await;
        let sweeper = Sweeper::start(sessions, Duration::from_secs(300)).unwrap();
        tokio::time::advance(Duration::from_secs(299)).await;
        assert_eq!(store.list_user(user).await.unwrap().len(), 1);
        tokio::time::advance(Duration::from_secs(1)).await;
        // The due tick wins over the stop request, so the sweep has run when `stop` returns.
        sweeper.stop().await;
        assert!(store.list_user(user).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_zero_interval_starts_nothing() {
        let (sessions, _, _) = expired_sessions(1).await;
        assert!(Sweeper::start(sessions, Duration::ZERO).is_none());
    }

    #[tokio::test]
    async fn a_sweep_deletes_past_one_batch() {
        let (sessions, store, last) = expired_sessions(BATCH + 7).await;
        assert_eq!(sweep_expired(&sessions).await.unwrap(), BATCH as usize + 7);
        assert!(store.list_user(last).await.unwrap().is_empty());
        assert_eq!(sweep_expired(&sessions).await.unwrap(), 0);
    }
}
