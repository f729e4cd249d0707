#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The lockout state machines, driven directly with explicit times.

use std::time::Duration;

use proptest::prelude::*;
use soc2_auth::{
    ATTEMPT_TIMEOUT, AccountLockState, AccountOp, AccountOutcome, IpOp, IpOutcome, IpWindowState,
    LockStarted, LockoutPolicy,
};
use soc2_core::Preset;
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);
const MINUTE: Duration = Duration::from_secs(60);

fn policy() -> LockoutPolicy {
    LockoutPolicy::from_preset(Preset::Soc2Strict)
}

fn fail_once(state: &mut AccountLockState, now: OffsetDateTime) -> AccountOutcome {
    assert_eq!(
        state.apply(AccountOp::Begin, now, &policy()),
        AccountOutcome::Proceed {
            lock_expired: false
        }
    );
    state.apply(AccountOp::Fail, now, &policy())
}

#[test]
fn threshold_failures_lock_for_the_duration_then_the_lock_expires() {
    let mut state = AccountLockState::default();
    for _ in 0..4 {
        assert_eq!(
            fail_once(&mut state, T0),
            AccountOutcome::Counted { locked: None }
        );
    }
    let until = T0 + 30 * MINUTE;
    assert_eq!(
        fail_once(&mut state, T0),
        AccountOutcome::Counted {
            locked: Some(LockStarted {
                until: Some(until),
                lockouts: 1
            })
        }
    );
    assert!(state.is_locked(T0));
    let before_end = until - Duration::from_secs(1);
    assert_eq!(
        state.apply(AccountOp::Begin, before_end, &policy()),
        AccountOutcome::Locked { until: Some(until) }
    );
    // Attempts while locked do not extend the lock.
    assert_eq!(state.locked_until, Some(until));
    assert_eq!(
        state.apply(AccountOp::Begin, until, &policy()),
        AccountOutcome::Proceed { lock_expired: true }
    );
    assert_eq!(state.failures, 0);
}

#[test]
fn consecutive_lockouts_back_off_and_a_success_resets_them() {
    let mut state = AccountLockState::default();
    let mut now = T0;
    let mut lengths = Vec::new();
    for _ in 0..3 {
        let mut outcome = AccountOutcome::Reset;
        for _ in 0..5 {
            let _ = state.apply(AccountOp::Begin, now, &policy());
            outcome = state.apply(AccountOp::Fail, now, &policy());
        }
        let AccountOutcome::Counted {
            locked: Some(LockStarted {
                until: Some(until), ..
            }),
        } = outcome
        else {
            panic!("expected a lock, got {outcome:?}");
        };
        lengths.push(until - now);
        now = until;
    }
    assert_eq!(lengths, [30, 60, 120].map(|m| time::Duration::minutes(m)));
    let _ = state.apply(AccountOp::Begin, now, &policy());
    assert_eq!(
        state.apply(AccountOp::Succeed, now, &policy()),
        AccountOutcome::Reset
    );
    assert_eq!(state.lockouts, 0);
}

#[test]
fn failures_outside_the_window_are_forgotten() {
    let mut state = AccountLockState::default();
    for _ in 0..4 {
        fail_once(&mut state, T0);
    }
    let later = T0 + 15 * MINUTE;
    assert_eq!(
        fail_once(&mut state, later),
        AccountOutcome::Counted { locked: None }
    );
    assert_eq!(state.failures, 1);
}

#[test]
fn in_flight_attempts_hold_slots_until_they_finish_or_time_out() {
    let mut state = AccountLockState::default();
    for _ in 0..5 {
        assert!(matches!(
            state.apply(AccountOp::Begin, T0, &policy()),
            AccountOutcome::Proceed { .. }
        ));
    }
    assert_eq!(
        state.apply(AccountOp::Begin, T0, &policy()),
        AccountOutcome::Busy
    );
    // One right password frees its slot and resets the counter.
    assert_eq!(
        state.apply(AccountOp::Succeed, T0, &policy()),
        AccountOutcome::Reset
    );
    assert!(matches!(
        state.apply(AccountOp::Begin, T0, &policy()),
        AccountOutcome::Proceed { .. }
    ));
    assert_eq!(
        state.apply(AccountOp::Begin, T0, &policy()),
        AccountOutcome::Busy
    );
    // Attempts whose process died are released after the attempt timeout.
    assert!(matches!(
        state.apply(AccountOp::Begin, T0 + ATTEMPT_TIMEOUT, &policy()),
        AccountOutcome::Proceed { .. }
    ));
    assert_eq!(state.pending, 1);
    assert_eq!(
        state.apply(AccountOp::Abandon, T0 + ATTEMPT_TIMEOUT, &policy()),
        AccountOutcome::Released
    );
    assert_eq!(state.pending, 0);
}

#[test]
fn unlock_clears_lock_and_counter() {
    let mut state = AccountLockState::default();
    for _ in 0..5 {
        fail_once(&mut state, T0);
    }
    assert_eq!(
        state.apply(AccountOp::Unlock, T0, &policy()),
        AccountOutcome::Unlocked { was_locked: true }
    );
    assert_eq!(
        (
            state.failures,
            state.locked_until,
            state.lockouts,
            state.pending
        ),
        (0, None, 0, 0)
    );
    assert_eq!(
        state.apply(AccountOp::Unlock, T0, &policy()),
        AccountOutcome::Unlocked { was_locked: false }
    );
}

#[test]
fn lock_until_admin_holds_until_unlocked() {
    let policy = policy().with_lock_until_admin(true);
    let mut state = AccountLockState::default();
    let mut last = AccountOutcome::Reset;
    for _ in 0..5 {
        let _ = state.apply(AccountOp::Begin, T0, &policy);
        last = state.apply(AccountOp::Fail, T0, &policy);
    }
    assert_eq!(
        last,
        AccountOutcome::Counted {
            locked: Some(LockStarted {
                until: None,
                lockouts: 1
            })
        }
    );
    let next_year = T0 + Duration::from_secs(365 * 86_400);
    assert_eq!(
        state.apply(AccountOp::Begin, next_year, &policy),
        AccountOutcome::Locked { until: None }
    );
    let _ = state.apply(AccountOp::Unlock, next_year, &policy);
    assert!(matches!(
        state.apply(AccountOp::Begin, next_year, &policy),
        AccountOutcome::Proceed { .. }
    ));
}

#[test]
fn ip_window_slides() {
    let policy = policy().with_ip_throttle(10, 10 * MINUTE);
    let mut window = IpWindowState::new(T0);
    for _ in 0..9 {
        assert_eq!(window.apply(IpOp::Fail, T0, &policy), IpOutcome::Counted);
    }
    assert_eq!(window.apply(IpOp::Check, T0, &policy), IpOutcome::Allowed);
    let _ = window.apply(IpOp::Fail, T0, &policy);
    assert_eq!(
        window.apply(IpOp::Check, T0 + MINUTE, &policy),
        IpOutcome::Throttled {
            retry_after: 9 * MINUTE
        }
    );
    // Half-way through the next bucket, half of the previous bucket's 10 still count.
    let half = T0 + 15 * MINUTE;
    assert_eq!(window.apply(IpOp::Check, half, &policy), IpOutcome::Allowed);
    assert_eq!((window.previous, window.current), (10, 0));
    for _ in 0..5 {
        let _ = window.apply(IpOp::Fail, half, &policy);
    }
    assert!(matches!(
        window.apply(IpOp::Check, half, &policy),
        IpOutcome::Throttled { .. }
    ));
    // Two windows later everything is forgotten.
    let much_later = T0 + 40 * MINUTE;
    assert_eq!(
        window.apply(IpOp::Check, much_later, &policy),
        IpOutcome::Allowed
    );
    assert_eq!((window.previous, window.current), (0, 0));
    assert_eq!(window.bucket_start, T0 + 40 * MINUTE);
}

#[test]
fn ip_throttling_off_allows_everything() {
    let policy = policy().with_ip_throttle(0, Duration::ZERO);
    let mut window = IpWindowState::new(T0);
    for _ in 0..1000 {
        let _ = window.apply(IpOp::Fail, T0, &policy);
    }
    assert_eq!(window.apply(IpOp::Check, T0, &policy), IpOutcome::Allowed);
}

fn op() -> impl Strategy<Value = (AccountOp, u64)> {
    (
        prop_oneof![
            Just(AccountOp::Begin),
            Just(AccountOp::Fail),
            Just(AccountOp::Succeed),
            Just(AccountOp::Abandon),
            Just(AccountOp::Unlock),
        ],
        0u64..600,
    )
}

proptest! {
    /// Whatever the interleaving of attempts and outcomes, an account never holds more
    /// failures plus attempts in flight than the threshold, and "busy" or "locked" are only
    /// answered when they are true.
    #[test]
    fn counters_stay_within_the_threshold(ops in proptest::collection::vec(op(), 1..300)) {
        let policy = policy();
        let mut state = AccountLockState::default();
        let mut now = T0;
        let mut in_flight = 0u32;
        for (op, advance) in ops {
            now += Duration::from_secs(advance);
            let finishing = matches!(op, AccountOp::Fail | AccountOp::Succeed | AccountOp::Abandon);
            if finishing && in_flight == 0 {
                continue;
            }
            match state.apply(op, now, &policy) {
                AccountOutcome::Proceed { .. } => in_flight += 1,
                AccountOutcome::Busy => {
                    prop_assert!(state.failures + state.pending >= policy.threshold());
                }
                AccountOutcome::Locked { .. } => prop_assert!(state.is_locked(now)),
                _ if finishing => in_flight -= 1,
                _ => {}
            }
            prop_assert!(state.failures < policy.threshold());
            prop_assert!(state.failures + state.pending <= policy.threshold());
            prop_assert!(state.pending <= in_flight);
        }
    }
}
