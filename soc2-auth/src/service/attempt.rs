//! One password attempt's slot in the lockout counter, and the audit events its outcome
//! produces.

use std::time::Duration;

use soc2_audit::{Actor, Outcome, SdkAction};
use soc2_core::{RequestContext, UserId};
use time::OffsetDateTime;

use super::{AuthError, PasswordAuth};
use crate::{AccountOp, AccountOutcome, LockoutKey};

/// How long an attempt waits for the attempts in flight on the same account to finish
/// before it is refused as busy.
const BUSY_WAIT: Duration = Duration::from_secs(5);
/// First and longest pause between looks at a busy account's counter (attempts finishing in
/// this process wake the waiters at once; the pause bounds the wait for other instances).
const BUSY_POLL: (Duration, Duration) = (Duration::from_millis(5), Duration::from_millis(100));

/// Whether an attempt may check the password.
pub(super) enum Slot {
    /// Yes: report its outcome with [`PasswordAuth::finish_attempt`].
    Granted,
    /// No: the account is locked.
    Locked(Option<OffsetDateTime>),
    /// No: it stayed full of attempts in flight for [`BUSY_WAIT`].
    Busy,
}

/// How an attempt ended.
#[derive(Clone, Copy)]
pub(super) enum Verdict {
    Right,
    Wrong,
    Inconclusive,
}

impl PasswordAuth {
    /// Takes a slot in `key`'s counter, waiting while every slot is held by attempts in
    /// flight (their outcome decides whether the account locks). Audits a lock that ran out.
    pub(super) async fn begin_attempt(
        &self,
        key: &LockoutKey,
        user: Option<UserId>,
        context: &RequestContext,
    ) -> Result<Slot, AuthError> {
        let deadline = tokio::time::Instant::now() + BUSY_WAIT;
        let mut pause = BUSY_POLL.0;
        loop {
            let finished = self.attempt_finished.notified();
            let outcome = self
                .lockouts
                .apply_account(key, AccountOp::Begin, self.now(), &self.lockout)
                .await?;
            match outcome {
                AccountOutcome::Proceed { lock_expired } => {
                    if lock_expired {
                        self.audit_unlocked(key, user, Actor::System, "lock expired", context)?;
                    }
                    return Ok(Slot::Granted);
                }
                AccountOutcome::Locked { until } => return Ok(Slot::Locked(until)),
                _ if tokio::time::Instant::now() + pause > deadline => return Ok(Slot::Busy),
                _ => {
                    let _ = tokio::time::timeout(pause, finished).await;
                    pause = (pause * 2).min(BUSY_POLL.1);
                }
            }
        }
    }

    /// Reports how a granted attempt ended; audits a lockout it started.
    pub(super) async fn finish_attempt(
        &self,
        key: &LockoutKey,
        user: Option<UserId>,
        verdict: Verdict,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let op = match verdict {
            Verdict::Right => AccountOp::Succeed,
            Verdict::Wrong => AccountOp::Fail,
            Verdict::Inconclusive => AccountOp::Abandon,
        };
        let outcome = self
            .lockouts
            .apply_account(key, op, self.now(), &self.lockout)
            .await?;
        self.attempt_finished.notify_waiters();
        if let AccountOutcome::Counted { locked: Some(lock) } = outcome {
            let event = self
                .event(
                    SdkAction::AccountLocked,
                    Outcome::Success,
                    Actor::System,
                    user,
                    context,
                )
                .with_metadata("key", key.storage_key())
                .with_metadata("until", lock.until)
                .with_metadata("consecutive_lockouts", lock.lockouts);
            self.audit.record(event)?;
        }
        Ok(())
    }

    pub(super) fn audit_unlocked(
        &self,
        key: &LockoutKey,
        user: Option<UserId>,
        by: Actor,
        reason: &str,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let event = self
            .event(
                SdkAction::AccountUnlocked,
                Outcome::Success,
                by,
                user,
                context,
            )
            .with_reason(reason)
            .with_metadata("key", key.storage_key());
        self.audit.record(event)?;
        Ok(())
    }
}
