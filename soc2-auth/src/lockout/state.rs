//! The lockout state machines, as pure functions of (state, operation, now, policy). Every
//! store loads a row, applies one of these and writes it back in one atomic step, so memory,
//! SQLite and PostgreSQL behave identically.

use std::time::Duration;

use time::OffsetDateTime;

use super::LockoutPolicy;

/// How long an attempt that never reported its outcome (its process died mid-check) keeps
/// its slot: after this, the slots of all attempts started before are released.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// One account's (or unknown name's) lockout counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountLockState {
    /// Failed attempts within the current window.
    pub failures: u32,
    /// When the current window began (its first failure).
    pub window_start: Option<OffsetDateTime>,
    /// Attempts started whose outcome is not known yet.
    pub pending: u32,
    /// When the most recent pending attempt started.
    pub pending_since: Option<OffsetDateTime>,
    /// Locked until then, when set.
    pub locked_until: Option<OffsetDateTime>,
    /// Locked until an administrator unlocks.
    pub admin_lock: bool,
    /// Consecutive lockouts (for backoff); reset by a success or an unlock.
    pub lockouts: u32,
}

/// What is happening to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountOp {
    /// A password attempt wants to start: reserve a slot unless the account is locked.
    Begin,
    /// The attempt's password was wrong.
    Fail,
    /// The attempt's password was right.
    Succeed,
    /// The attempt ended without a verdict (server error): free its slot, count nothing.
    Abandon,
    /// An administrator unlocks the account and clears its counter.
    Unlock,
}

/// The answer to an [`AccountOp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountOutcome {
    /// `Begin`: the attempt may check the password. `lock_expired` when an earlier lockout
    /// ran out just now (audit it as ended).
    Proceed {
        /// An earlier lockout ended by timeout.
        lock_expired: bool,
    },
    /// `Begin`: the account is locked; `until` is `None` for a lock only an administrator
    /// lifts.
    Locked {
        /// When the lock ends by itself.
        until: Option<OffsetDateTime>,
    },
    /// `Begin`: every remaining attempt is in flight; retry shortly (the outcome of those
    /// decides whether the account locks).
    Busy,
    /// `Fail`: counted; `locked` when this failure locked the account.
    Counted {
        /// The lock this failure started, if any.
        locked: Option<LockStarted>,
    },
    /// `Succeed`: the counter is reset.
    Reset,
    /// `Abandon`: the slot is free.
    Released,
    /// `Unlock`: `was_locked` when a lock was in force.
    Unlocked {
        /// A lock was lifted.
        was_locked: bool,
    },
}

/// A lockout that just started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockStarted {
    /// When it ends by itself (`None`: only an administrator can end it).
    pub until: Option<OffsetDateTime>,
    /// Which consecutive lockout this is (1 for the first).
    pub lockouts: u32,
}

impl AccountLockState {
    /// Whether a lock is in force at `now`.
    #[must_use]
    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.admin_lock || self.locked_until.is_some_and(|until| until > now)
    }

    /// Applies `op`: the whole of lockout's logic.
    ///
    /// An attempt holds a slot from `Begin` until its outcome, and only `threshold` slots
    /// exist between locks, so however many attempts race, exactly `threshold` wrong
    /// passwords are checked before the lock and every later attempt is refused without
    /// touching the stored hash. Attempts refused while locked do not extend the lock.
    #[must_use]
    pub fn apply(
        &mut self,
        op: AccountOp,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> AccountOutcome {
        match op {
            AccountOp::Begin => self.begin(now, policy),
            AccountOp::Fail => {
                self.release_slot();
                self.fail(now, policy)
            }
            AccountOp::Succeed => {
                self.release_slot();
                self.failures = 0;
                self.window_start = None;
                self.lockouts = 0;
                AccountOutcome::Reset
            }
            AccountOp::Abandon => {
                self.release_slot();
                AccountOutcome::Released
            }
            AccountOp::Unlock => {
                let was_locked = self.is_locked(now);
                *self = Self {
                    pending: self.pending,
                    pending_since: self.pending_since,
                    ..Self::default()
                };
                AccountOutcome::Unlocked { was_locked }
            }
        }
    }

    fn begin(&mut self, now: OffsetDateTime, policy: &LockoutPolicy) -> AccountOutcome {
        if self.admin_lock {
            return AccountOutcome::Locked { until: None };
        }
        let mut lock_expired = false;
        if let Some(until) = self.locked_until {
            if until > now {
                return AccountOutcome::Locked { until: Some(until) };
            }
            self.locked_until = None;
            lock_expired = true;
        }
        self.expire_window(now, policy);
        if self.pending > 0
            && self
                .pending_since
                .is_some_and(|since| now - since >= ATTEMPT_TIMEOUT)
        {
            self.pending = 0;
        }
        if self.failures.saturating_add(self.pending) >= policy.threshold {
            return AccountOutcome::Busy;
        }
        self.pending += 1;
        self.pending_since = Some(now);
        AccountOutcome::Proceed { lock_expired }
    }

    fn fail(&mut self, now: OffsetDateTime, policy: &LockoutPolicy) -> AccountOutcome {
        if self.is_locked(now) {
            return AccountOutcome::Counted { locked: None };
        }
        self.expire_window(now, policy);
        if self.window_start.is_none() {
            self.window_start = Some(now);
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures < policy.threshold {
            return AccountOutcome::Counted { locked: None };
        }
        self.failures = 0;
        self.window_start = None;
        self.lockouts = self.lockouts.saturating_add(1);
        let until = policy.lock_length(self.lockouts).map(|length| now + length);
        self.locked_until = until;
        self.admin_lock = until.is_none();
        AccountOutcome::Counted {
            locked: Some(LockStarted {
                until,
                lockouts: self.lockouts,
            }),
        }
    }

    fn expire_window(&mut self, now: OffsetDateTime, policy: &LockoutPolicy) {
        if self
            .window_start
            .is_some_and(|start| now - start >= policy.window)
        {
            self.failures = 0;
            self.window_start = None;
        }
    }

    fn release_slot(&mut self) {
        self.pending = self.pending.saturating_sub(1);
    }
}

/// One client IP's failures over a sliding window, approximated with two fixed buckets
/// (the current one counts fully, the previous one in proportion to its overlap with the
/// sliding window).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IpWindowState {
    /// Start of the current bucket.
    pub bucket_start: OffsetDateTime,
    /// Failures in the current bucket.
    pub current: u32,
    /// Failures in the bucket before it.
    pub previous: u32,
}

/// What is happening for a client IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpOp {
    /// May this IP try a password now?
    Check,
    /// A password attempt from this IP failed.
    Fail,
}

/// The answer to an [`IpOp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpOutcome {
    /// Below the limit.
    Allowed,
    /// Over the limit: refuse without checking anything, retry after the given time.
    Throttled {
        /// Roughly when the sliding count drops below the limit.
        retry_after: Duration,
    },
    /// `Fail` was counted.
    Counted,
}

impl IpWindowState {
    /// A fresh window starting at `now`.
    #[must_use]
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            bucket_start: now,
            current: 0,
            previous: 0,
        }
    }

    /// Applies `op` (IP throttling is off when the policy's `ip_threshold` is 0).
    #[must_use]
    pub fn apply(&mut self, op: IpOp, now: OffsetDateTime, policy: &LockoutPolicy) -> IpOutcome {
        if policy.ip_threshold == 0 {
            return IpOutcome::Allowed;
        }
        self.roll(now, policy.ip_window);
        match op {
            IpOp::Fail => {
                self.current = self.current.saturating_add(1);
                IpOutcome::Counted
            }
            IpOp::Check => {
                let window = policy.ip_window.as_secs_f64();
                let elapsed = (now - self.bucket_start)
                    .as_seconds_f64()
                    .clamp(0.0, window);
                let weight = 1.0 - elapsed / window;
                let estimate = f64::from(self.previous) * weight + f64::from(self.current);
                if estimate < f64::from(policy.ip_threshold) {
                    IpOutcome::Allowed
                } else {
                    IpOutcome::Throttled {
                        retry_after: Duration::from_secs_f64(window - elapsed)
                            .max(Duration::from_secs(1)),
                    }
                }
            }
        }
    }

    fn roll(&mut self, now: OffsetDateTime, window: Duration) {
        let elapsed = now - self.bucket_start;
        if elapsed < window {
            return;
        }
        self.previous = if elapsed < window * 2 {
            self.current
        } else {
            0
        };
        self.current = 0;
        let window_nanos = i128::try_from(window.as_nanos()).unwrap_or(i128::MAX);
        let whole_windows = elapsed.whole_nanoseconds() / window_nanos;
        let advance = i64::try_from(whole_windows * window_nanos).unwrap_or(i64::MAX);
        self.bucket_start += time::Duration::nanoseconds(advance);
    }
}
