//! The second-factor lockout counter every second factor shares (TOTP codes, recovery codes,
//! passkey assertions): one `LockoutKey::SecondFactor` per user, apart from password failures.

use std::sync::Arc;

use soc2_audit::{Actor, AuditError, AuditLog, Outcome, SdkAction};
use soc2_core::{Clock, Preset, RequestContext, StoreError, UserId, truncate_to_micros};
use time::OffsetDateTime;

use crate::audit::user_event;
use crate::{AccountLockState, AccountOp, AccountOutcome, LockoutKey, LockoutPolicy, LockoutStore};

/// The verdict of a second-factor check, as the counter sees it.
pub(crate) trait CountedCheck: Sized {
    /// The verdict for a check refused unchecked because the counter is locked.
    fn locked() -> Self;

    /// The factor was proven (clears earlier failures).
    fn is_accepted(&self) -> bool;

    /// The factor was presented and wrong (counts toward the lock). Refusals that prove
    /// nothing about the factor (an unknown ceremony) are neither accepted nor failures.
    fn is_failure(&self) -> bool;
}

/// A user's second-factor failure counter. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct SecondFactorCounter {
    lockouts: Arc<dyn LockoutStore>,
    policy: LockoutPolicy,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
}

impl SecondFactorCounter {
    /// A counter with the `Soc2Strict` lockout policy (NIST SP 800-63B-4 §3.2.2: rate
    /// limiting for authenticators whose outputs can be guessed).
    pub(crate) fn new(
        lockouts: Arc<dyn LockoutStore>,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            lockouts,
            policy: LockoutPolicy::from_preset(Preset::Soc2Strict),
            audit,
            clock,
        }
    }

    /// Uses `policy` instead.
    pub(crate) fn set_policy(&mut self, policy: LockoutPolicy) {
        self.policy = policy;
    }

    /// The user's counter (none before the first failure).
    pub(crate) async fn state(&self, user: UserId) -> Result<Option<AccountLockState>, StoreError> {
        self.lockouts
            .account_state(&LockoutKey::SecondFactor(user))
            .await
    }

    /// Runs `check` through the counter read as `state`: refused unchecked while the counter
    /// is locked; a failure counts (locking at the threshold, audited); an acceptance clears
    /// earlier failures. The common case, a right answer with no failures on record, costs
    /// no write to the counter.
    pub(crate) async fn run<T, E>(
        &self,
        user: UserId,
        state: Option<AccountLockState>,
        context: &RequestContext,
        check: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E>
    where
        T: CountedCheck,
        E: From<StoreError> + From<AuditError>,
    {
        let now = self.now();
        if state.as_ref().is_some_and(|state| state.is_locked(now)) {
            return Ok(T::locked());
        }
        let checked = check.await?;
        let op = if checked.is_failure() {
            AccountOp::Fail
        } else if checked.is_accepted() && state.is_some_and(|state| state.failures > 0) {
            AccountOp::Succeed
        } else {
            return Ok(checked);
        };
        let key = LockoutKey::SecondFactor(user);
        let outcome = self
            .lockouts
            .apply_account(&key, op, self.now(), &self.policy)
            .await?;
        if let AccountOutcome::Counted { locked: Some(lock) } = outcome {
            self.audit.record(
                user_event(
                    SdkAction::AccountLocked,
                    Outcome::Success,
                    Actor::user(user),
                    Some(user),
                    self.now(),
                    context,
                )
                .with_metadata("key", key.storage_key())
                .with_metadata("until", lock.until),
            )?;
        }
        Ok(checked)
    }

    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(self.clock.now())
    }
}
