//! The `LockoutStore` conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use soc2_auth::{
    AccountLockState, AccountOp, AccountOutcome, IpOp, IpOutcome, LockStarted, LockoutKey,
    LockoutPolicy, LockoutStore, Username,
};
use soc2_core::{Preset, UserId};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// A backend under test.
#[async_trait]
pub trait LockoutBackend: Send + Sync + 'static {
    /// A store handle on this backend's database. Each call opens a separate pool, like a
    /// separate app instance; handles on one database share every counter.
    async fn open(&self) -> Arc<dyn LockoutStore>;

    /// Releases the database after a passing case.
    async fn cleanup(&self) {}
}

const T0: OffsetDateTime = datetime!(2026-11-23 09:00:00.123456 UTC);
const LOCK: Duration = Duration::minutes(30);
const IP_WINDOW: StdDuration = StdDuration::from_secs(15 * 60);

/// Soc2Strict: 5 failures in 15 min lock for 30 min; 50 IP failures in 15 min throttle.
fn strict() -> LockoutPolicy {
    LockoutPolicy::from_preset(Preset::Soc2Strict)
}

fn account() -> LockoutKey {
    LockoutKey::Account(UserId::new_v7())
}

fn at(seconds: i64) -> OffsetDateTime {
    T0 + Duration::seconds(seconds)
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Runs `threshold` failed attempts at `now`, the last of which locks.
async fn lock(
    store: &dyn LockoutStore,
    key: &LockoutKey,
    now: OffsetDateTime,
    policy: &LockoutPolicy,
) {
    for _ in 0..policy.threshold() {
        store
            .apply_account(key, AccountOp::Begin, now, policy)
            .await
            .unwrap();
        store
            .apply_account(key, AccountOp::Fail, now, policy)
            .await
            .unwrap();
    }
    assert!(
        store
            .account_state(key)
            .await
            .unwrap()
            .unwrap()
            .is_locked(now)
    );
}

pub async fn a_lock_runs_its_course(backend: &impl LockoutBackend) {
    let store = backend.open().await;
    let policy = strict();
    let key = account();
    for attempt in 0..5 {
        let now = at(attempt);
        assert_eq!(
            store
                .apply_account(&key, AccountOp::Begin, now, &policy)
                .await
                .unwrap(),
            AccountOutcome::Proceed {
                lock_expired: false
            }
        );
        let locked = (attempt == 4).then_some(LockStarted {
            until: Some(now + LOCK),
            lockouts: 1,
        });
        assert_eq!(
            store
                .apply_account(&key, AccountOp::Fail, now, &policy)
                .await
                .unwrap(),
            AccountOutcome::Counted { locked }
        );
    }
    let until = at(4) + LOCK;
    let state = store.account_state(&key).await.unwrap().unwrap();
    assert_eq!(
        (
            state.failures,
            state.window_start,
            state.pending,
            state.pending_since
        ),
        (0, None, 0, Some(at(4)))
    );
    assert_eq!(
        (state.locked_until, state.admin_lock, state.lockouts),
        (Some(until), false, 1)
    );

    for now in [at(5), until - Duration::microseconds(1)] {
        assert_eq!(
            store
                .apply_account(&key, AccountOp::Begin, now, &policy)
                .await
                .unwrap(),
            AccountOutcome::Locked { until: Some(until) }
        );
    }
    assert_eq!(
        store
            .apply_account(&key, AccountOp::Begin, until, &policy)
            .await
            .unwrap(),
        AccountOutcome::Proceed { lock_expired: true }
    );
    assert_eq!(
        store
            .apply_account(&key, AccountOp::Succeed, until, &policy)
            .await
            .unwrap(),
        AccountOutcome::Reset
    );
    let state = store.account_state(&key).await.unwrap().unwrap();
    assert_eq!(
        (
            state.failures,
            state.pending,
            state.locked_until,
            state.lockouts
        ),
        (0, 0, None, 0)
    );
}

pub async fn unlock_lifts_an_admin_lock(backend: &impl LockoutBackend) {
    let store = backend.open().await;
    let policy = strict().with_lock_until_admin(true);
    let key = account();
    lock(store.as_ref(), &key, T0, &policy).await;
    let state = store.account_state(&key).await.unwrap().unwrap();
    assert_eq!((state.admin_lock, state.locked_until), (true, None));
    let much_later = T0 + Duration::days(30);
    assert_eq!(
        store
            .apply_account(&key, AccountOp::Begin, much_later, &policy)
            .await
            .unwrap(),
        AccountOutcome::Locked { until: None }
    );

    assert_eq!(
        store
            .apply_account(&key, AccountOp::Unlock, much_later, &policy)
            .await
            .unwrap(),
        AccountOutcome::Unlocked { was_locked: true }
    );
    let mut unlocked = AccountLockState::default();
    unlocked.pending_since = Some(T0);
    assert_eq!(store.account_state(&key).await.unwrap(), Some(unlocked));
    assert_eq!(
        store
            .apply_account(&key, AccountOp::Begin, much_later, &policy)
            .await
            .unwrap(),
        AccountOutcome::Proceed {
            lock_expired: false
        }
    );
    assert_eq!(
        store
            .apply_account(&key, AccountOp::Unlock, much_later, &policy)
            .await
            .unwrap(),
        AccountOutcome::Unlocked { was_locked: false }
    );
}

/// Every field of the state survives the store: after each step it equals the state the
/// reference state machine reaches.
pub async fn account_state_round_trips_exactly(backend: &impl LockoutBackend) {
    let store = backend.open().await;
    let policy = strict().with_threshold(3);
    let key = account();
    assert_eq!(store.account_state(&key).await.unwrap(), None);
    let locked_at = at(7);
    let script = [
        (AccountOp::Begin, at(0)),
        (AccountOp::Fail, at(1)),
        (AccountOp::Begin, at(2)),
        (AccountOp::Begin, at(3)),
        (AccountOp::Abandon, at(4)),
        (AccountOp::Fail, at(5)),
        (AccountOp::Begin, at(6)),
        (AccountOp::Fail, locked_at),
        (AccountOp::Begin, at(8)),
        (AccountOp::Begin, locked_at + LOCK),
        (
            AccountOp::Fail,
            locked_at + LOCK + Duration::microseconds(1),
        ),
        (AccountOp::Begin, locked_at + LOCK + Duration::seconds(1)),
        (AccountOp::Succeed, locked_at + LOCK + Duration::seconds(2)),
        (AccountOp::Unlock, locked_at + LOCK + Duration::seconds(3)),
    ];
    let mut expected = AccountLockState::default();
    for (step, (op, now)) in script.into_iter().enumerate() {
        let outcome = store.apply_account(&key, op, now, &policy).await.unwrap();
        assert_eq!(outcome, expected.apply(op, now, &policy), "step {step}");
        assert_eq!(
            store.account_state(&key).await.unwrap(),
            Some(expected.clone()),
            "step {step}"
        );
    }

    let ghost = LockoutKey::UnknownName(Username::parse("Ghost").unwrap());
    store
        .apply_account(&ghost, AccountOp::Fail, T0, &policy)
        .await
        .unwrap();
    let same_name = LockoutKey::UnknownName(Username::parse("GHOST").unwrap());
    assert_eq!(
        store
            .account_state(&same_name)
            .await
            .unwrap()
            .unwrap()
            .failures,
        1
    );
    assert_eq!(store.account_state(&account()).await.unwrap(), None);
}

pub async fn ip_failures_are_counted_and_throttled(backend: &impl LockoutBackend) {
    let store = backend.open().await;
    let policy = strict().with_ip_throttle(3, IP_WINDOW);
    let (client, other) = (ip("203.0.113.9"), ip("2001:db8::1"));
    assert_eq!(
        store
            .apply_ip(client, IpOp::Check, T0, &policy)
            .await
            .unwrap(),
        IpOutcome::Allowed
    );
    for second in 0..3 {
        assert_eq!(
            store
                .apply_ip(client, IpOp::Fail, at(second), &policy)
                .await
                .unwrap(),
            IpOutcome::Counted
        );
    }
    let throttled = |seconds| IpOutcome::Throttled {
        retry_after: StdDuration::from_secs(seconds),
    };
    assert_eq!(
        store
            .apply_ip(client, IpOp::Check, at(60), &policy)
            .await
            .unwrap(),
        throttled(840)
    );
    assert_eq!(
        store
            .apply_ip(other, IpOp::Check, at(60), &policy)
            .await
            .unwrap(),
        IpOutcome::Allowed
    );
    // The next bucket starts at T0 + 15 min with the three failures fully weighted, then
    // forgets them in proportion: 5 min in, they count as 2.
    assert_eq!(
        store
            .apply_ip(client, IpOp::Check, T0 + IP_WINDOW, &policy)
            .await
            .unwrap(),
        throttled(900)
    );
    assert_eq!(
        store
            .apply_ip(
                client,
                IpOp::Check,
                T0 + IP_WINDOW + Duration::minutes(5),
                &policy
            )
            .await
            .unwrap(),
        IpOutcome::Allowed
    );
}

pub async fn idle_rows_go_locks_in_force_stay(backend: &impl LockoutBackend) {
    let store = backend.open().await;
    let policy = strict().with_ip_throttle(1, IP_WINDOW);
    let (idle, locked, admin, fresh) = (account(), account(), account(), account());
    store
        .apply_account(&idle, AccountOp::Begin, T0, &policy)
        .await
        .unwrap();
    store
        .apply_account(&idle, AccountOp::Succeed, T0, &policy)
        .await
        .unwrap();
    lock(store.as_ref(), &locked, T0, &policy).await;
    lock(
        store.as_ref(),
        &admin,
        T0,
        &policy.clone().with_lock_until_admin(true),
    )
    .await;
    let twenty = T0 + Duration::minutes(20);
    store
        .apply_account(&fresh, AccountOp::Begin, twenty, &policy)
        .await
        .unwrap();
    let (old_ip, new_ip) = (ip("198.51.100.1"), ip("198.51.100.2"));
    store
        .apply_ip(old_ip, IpOp::Fail, T0, &policy)
        .await
        .unwrap();
    store
        .apply_ip(new_ip, IpOp::Fail, twenty, &policy)
        .await
        .unwrap();

    // Before T0 + 10 min: the idle counter and the old IP go; the lock (until T0 + 30 min)
    // and the admin lock stay.
    assert_eq!(
        store.remove_idle(T0 + Duration::minutes(10)).await.unwrap(),
        2
    );
    assert_eq!(store.account_state(&idle).await.unwrap(), None);
    for key in [&locked, &admin, &fresh] {
        assert!(store.account_state(key).await.unwrap().is_some(), "{key:?}");
    }
    let eleven = T0 + Duration::minutes(11);
    assert_eq!(
        store
            .apply_ip(old_ip, IpOp::Check, eleven, &policy)
            .await
            .unwrap(),
        IpOutcome::Allowed
    );
    assert!(matches!(
        store
            .apply_ip(new_ip, IpOp::Check, twenty, &policy)
            .await
            .unwrap(),
        IpOutcome::Throttled { .. }
    ));

    // An hour on, the expired lock, the fresh counter and both IPs go; the admin lock stays.
    let hour = T0 + Duration::hours(1);
    assert_eq!(store.remove_idle(hour).await.unwrap(), 4);
    for key in [&locked, &fresh] {
        assert_eq!(store.account_state(key).await.unwrap(), None, "{key:?}");
    }
    assert!(
        store
            .account_state(&admin)
            .await
            .unwrap()
            .unwrap()
            .admin_lock
    );
    assert_eq!(store.remove_idle(hour).await.unwrap(), 0);
}

/// 200 attempts race on one account from two app instances; `Busy` answers retry until the
/// attempts in flight have failed. Exactly `threshold` passwords get checked.
pub async fn racing_attempts_check_exactly_threshold_passwords(backend: &impl LockoutBackend) {
    let stores = [backend.open().await, backend.open().await];
    let policy = strict();
    let key = account();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let (key, policy) = (key.clone(), policy.clone());
            tokio::spawn(async move {
                loop {
                    match store
                        .apply_account(&key, AccountOp::Begin, T0, &policy)
                        .await
                        .unwrap()
                    {
                        AccountOutcome::Busy => tokio::task::yield_now().await,
                        begun @ AccountOutcome::Proceed { .. } => {
                            let failed = store
                                .apply_account(&key, AccountOp::Fail, T0, &policy)
                                .await
                                .unwrap();
                            return (begun, Some(failed));
                        }
                        refused => return (refused, None),
                    }
                }
            })
        })
        .collect();
    let (mut proceeded, mut refused, mut locks_started) = (0, 0, 0);
    for task in tasks {
        match task.await.unwrap() {
            (
                AccountOutcome::Proceed {
                    lock_expired: false,
                },
                Some(AccountOutcome::Counted { locked }),
            ) => {
                proceeded += 1;
                if let Some(started) = locked {
                    assert_eq!(
                        started,
                        LockStarted {
                            until: Some(T0 + LOCK),
                            lockouts: 1
                        }
                    );
                    locks_started += 1;
                }
            }
            (AccountOutcome::Locked { until }, None) => {
                assert_eq!(until, Some(T0 + LOCK));
                refused += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((proceeded, refused, locks_started), (5, 195, 1));
    let state = stores[1].account_state(&key).await.unwrap().unwrap();
    assert_eq!(
        (
            state.failures,
            state.pending,
            state.locked_until,
            state.lockouts
        ),
        (0, 0, Some(T0 + LOCK), 1)
    );
}

/// 200 failures from one IP race from two app instances; every one counts.
pub async fn racing_ip_failures_all_count(backend: &impl LockoutBackend) {
    let stores = [backend.open().await, backend.open().await];
    // Throttled from 201 failures on: 200 are allowed, 201 are not.
    let policy = strict().with_ip_throttle(201, IP_WINDOW);
    let client = ip("192.0.2.77");
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let policy = policy.clone();
            tokio::spawn(async move {
                store
                    .apply_ip(client, IpOp::Fail, T0, &policy)
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), IpOutcome::Counted);
    }
    assert_eq!(
        stores[0]
            .apply_ip(client, IpOp::Check, T0, &policy)
            .await
            .unwrap(),
        IpOutcome::Allowed
    );
    stores[1]
        .apply_ip(client, IpOp::Fail, T0, &policy)
        .await
        .unwrap();
    assert_eq!(
        stores[0]
            .apply_ip(client, IpOp::Check, T0, &policy)
            .await
            .unwrap(),
        IpOutcome::Throttled {
            retry_after: IP_WINDOW
        }
    );
}

/// Expands to one test per `LockoutStore` conformance case for `$backend` (an async
/// expression yielding `Option<impl LockoutBackend>`).
#[macro_export]
macro_rules! lockout_store_conformance {
    ($backend:expr) => {
        $crate::lockout_store_conformance!(@cases $backend;
            a_lock_runs_its_course,
            unlock_lifts_an_admin_lock,
            account_state_round_trips_exactly,
            ip_failures_are_counted_and_throttled,
            idle_rows_go_locks_in_force_stay,
            racing_attempts_check_exactly_threshold_passwords,
            racing_ip_failures_all_count,
        );
    };
    (@cases $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(backend) = $backend {
                    $crate::lockout::$case(&backend).await;
                    $crate::lockout::LockoutBackend::cleanup(&backend).await;
                }
            }
        )*
    };
}
