//! The sweeper: every `[session] sweep_interval` it deletes the expired sessions (each
//! audited as `session.expired`) and the expired ceremonies (MFA challenges, passkey
//! ceremonies, reset tokens: the anonymous passkey sign-in adds one per call), until the
//! server shuts down.

use std::sync::Arc;
use std::time::Duration;

use soc2_auth::mfa::MfaStore;
use soc2_core::{Clock, StoreError};
use soc2_session::{SessionError, SessionManager};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// Sessions deleted per store call; a sweep repeats calls until one deletes fewer.
const BATCH: u32 = 500;

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Swept {
    /// Expired sessions (each audited).
    pub sessions: usize,
    /// Expired ceremonies.
    pub ceremonies: u64,
}

/// A sweep that failed part way (what was deleted before stays deleted and audited).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// Deleting or auditing sessions failed.
    #[error("sweeping sessions: {0}")]
    Sessions(#[from] SessionError),
    /// Deleting ceremonies failed.
    #[error("purging ceremonies: {0}")]
    Ceremonies(#[from] StoreError),
}

/// The stores a sweep cleans. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Housekeeping {
    pub(crate) sessions: SessionManager,
    pub(crate) ceremonies: Arc<dyn MfaStore>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Housekeeping {
    /// Deletes every session and ceremony expired by the clock, sessions [`BATCH`] at a time.
    ///
    /// # Errors
    /// Store and audit failures.
    pub(crate) async fn sweep(&self) -> Result<Swept, SweepError> {
        let mut swept = Swept::default();
        loop {
            let removed = self.sessions.sweep(BATCH).await?;
            swept.sessions += removed;
            if removed < BATCH as usize {
                break;
            }
        }
        swept.ceremonies = self.ceremonies.purge_ceremonies(self.clock.now()).await?;
        Ok(swept)
    }
}

/// The background task; dropping it without [`Sweeper::stop`] ends it too.
#[derive(Debug)]
pub(crate) struct Sweeper {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Sweeper {
    /// Starts sweeping every `interval` (the first sweep one interval from now); `None` when
    /// `interval` is zero (disabled).
    pub(crate) fn start(work: Housekeeping, interval: Duration) -> Option<Self> {
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
                    _ = ticks.tick() => match work.sweep().await {
                        Ok(Swept { sessions: 0, ceremonies: 0 }) => {}
                        Ok(Swept { sessions, ceremonies }) => {
                            tracing::info!(sessions, ceremonies, "expired sessions and ceremonies swept");
                        }
                        Err(error) => tracing::warn!(%error, "sweep failed; retrying next interval"),
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
            tracing::error!(%error, "sweeper ended abnormally");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use soc2_audit::{AuditLog, AuditLogConfig, MemoryAuditStore};
    use soc2_auth::mfa::{Ceremony, MemoryMfaStore};
    use soc2_core::{KeyId, KeyRing, ManualClock, Preset, RequestContext, UserId};
    use soc2_session::{Factor, MemorySessionStore, SessionPolicy, SessionStore};
    use time::macros::datetime;

    use super::*;

    /// Stores under Soc2Strict (15 minutes idle) holding `count` sessions (of as many users)
    /// and one ceremony, all of which the manual clock has already let expire.
    struct Expired {
        work: Housekeeping,
        sessions: Arc<MemorySessionStore>,
        ceremonies: Arc<MemoryMfaStore>,
        last_user: UserId,
    }

    async fn expired(count: u32) -> Expired {
        let keys = KeyRing::single(KeyId::new("test").unwrap(), [5; 32]);
        let audit = AuditLog::start(
            Arc::new(MemoryAuditStore::new(&keys)),
            AuditLogConfig::default(),
        );
        let start = datetime!(2026-11-23 09:00 UTC);
        let clock = Arc::new(ManualClock::new(start));
        let sessions = Arc::new(MemorySessionStore::new());
        let manager = SessionManager::new(
            sessions.clone(),
            SessionPolicy::from_preset(Preset::Soc2Strict),
            clock.clone(),
            audit,
        );
        let context = RequestContext::new();
        let mut last_user = UserId::new_v7();
        for _ in 0..count {
            last_user = UserId::new_v7();
            manager
                .create(last_user, &[Factor::Password], &context)
                .await
                .unwrap();
        }
        let ceremonies = Arc::new(MemoryMfaStore::new());
        let challenge = Ceremony::new(
            [7; 32],
            "mfa_login",
            last_user,
            "{}".into(),
            start + Duration::from_secs(300),
        );
        ceremonies.put_ceremony(&challenge).await.unwrap();
        clock.advance(Duration::from_secs(16 * 60));
        Expired {
            work: Housekeeping {
                sessions: manager,
                ceremonies: ceremonies.clone(),
                clock,
            },
            sessions,
            ceremonies,
            last_user,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_task_sweeps_once_an_interval_has_passed() {
        let expired = expired(1).await;
        let sweeper = Sweeper::start(expired.work.clone(), Duration::from_secs(300)).unwrap();
        tokio::time::advance(Duration::from_secs(299)).await;
        let user = expired.last_user;
        assert_eq!(expired.sessions.list_user(user).await.unwrap().len(), 1);
        tokio::time::advance(Duration::from_secs(1)).await;
        // The due tick wins over the stop request, so the sweep has run when `stop` returns.
        sweeper.stop().await;
        assert!(expired.sessions.list_user(user).await.unwrap().is_empty());
        let now = expired.work.clock.now();
        assert_eq!(expired.ceremonies.purge_ceremonies(now).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_zero_interval_starts_nothing() {
        let expired = expired(1).await;
        assert!(Sweeper::start(expired.work, Duration::ZERO).is_none());
    }

    #[tokio::test]
    async fn a_sweep_deletes_past_one_batch_and_the_expired_ceremonies() {
        let expired = expired(BATCH + 7).await;
        assert_eq!(
            expired.work.sweep().await.unwrap(),
            Swept {
                sessions: BATCH as usize + 7,
                ceremonies: 1
            }
        );
        let user = expired.last_user;
        assert!(expired.sessions.list_user(user).await.unwrap().is_empty());
        assert_eq!(expired.work.sweep().await.unwrap(), Swept::default());
    }
}
