//! The `MfaStore` conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_auth::LockoutStore;
use soc2_auth::mfa::{Ceremony, MfaStore, PASSWORD_RESET, RecoveryDigest, TotpRecord};
use soc2_core::{KeyId, StoreError, UserId};
use time::OffsetDateTime;
use time::macros::datetime;

/// A backend under test.
#[async_trait]
pub trait MfaBackend: Send + Sync + 'static {
    /// A store handle on this backend's database. Each call opens a separate pool, like a
    /// separate app instance.
    async fn open(&self) -> Arc<dyn MfaStore>;

    /// An MFA store told it shares its database with the returned lockout store, for
    /// `accept_totp_step_if_clear`; `None` where the backend has no such pairing.
    async fn open_sharing_counters(&self) -> Option<(Arc<dyn MfaStore>, Arc<dyn LockoutStore>)> {
        None
    }

    /// Releases the database after a passing case.
    async fn cleanup(&self) {}
}

mod fast_path;

pub use fast_path::*;

const T0: OffsetDateTime = datetime!(2026-11-23 09:00:00.123456 UTC);

fn sealed(user: UserId, key: &str) -> String {
    format!("v1.{key}.c2VhbGVk-{user}")
}

fn pending(user: UserId, key: &str) -> TotpRecord {
    TotpRecord::pending(user, sealed(user, key), T0)
}

fn digests(seed: u8) -> Vec<RecoveryDigest> {
    (0..10).map(|i| [seed.wrapping_add(i); 32]).collect()
}

pub async fn totp_records_round_trip_and_confirm_once(backend: &impl MfaBackend) {
    let store = backend.open().await;
    let user = UserId::new_v7();
    assert_eq!(store.totp(user).await.unwrap(), None);
    let record = pending(user, "k1");
    store.put_pending_totp(&record).await.unwrap();
    assert_eq!(store.totp(user).await.unwrap(), Some(record.clone()));
    let replacement =
        TotpRecord::pending(user, "v1.k1.b3RoZXI".into(), T0 + time::Duration::SECOND);
    store.put_pending_totp(&replacement).await.unwrap();
    assert_eq!(store.totp(user).await.unwrap(), Some(replacement.clone()));

    let current = replacement.sealed_secret.as_str();
    assert!(
        !store
            .accept_totp_step(user, current, 100, false)
            .await
            .unwrap(),
        "pending: no login"
    );
    assert!(
        !store
            .accept_totp_step(user, &record.sealed_secret, 100, true)
            .await
            .unwrap(),
        "a replaced seed"
    );
    assert!(
        store
            .accept_totp_step(user, current, 100, true)
            .await
            .unwrap()
    );
    assert!(
        !store
            .accept_totp_step(user, current, 101, true)
            .await
            .unwrap(),
        "already confirmed"
    );
    let confirmed = store.totp(user).await.unwrap().unwrap();
    assert_eq!(
        (confirmed.confirmed, confirmed.last_step),
        (true, Some(100))
    );
    assert!(matches!(
        store.put_pending_totp(&pending(user, "k1")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        !store
            .accept_totp_step(UserId::new_v7(), current, 1, true)
            .await
            .unwrap()
    );
}

pub async fn accepted_steps_only_move_forward(backend: &impl MfaBackend) {
    let store = backend.open().await;
    let user = UserId::new_v7();
    store.put_pending_totp(&pending(user, "k1")).await.unwrap();
    assert!(
        store
            .accept_totp_step(user, &sealed(user, "k1"), 10, true)
            .await
            .unwrap()
    );
    assert!(
        !store
            .accept_totp_step(user, &sealed(user, "k1"), 10, false)
            .await
            .unwrap(),
        "same step"
    );
    assert!(
        !store
            .accept_totp_step(user, &sealed(user, "k1"), 9, false)
            .await
            .unwrap(),
        "older step"
    );
    assert!(
        store
            .accept_totp_step(user, &sealed(user, "k1"), 11, false)
            .await
            .unwrap()
    );
    assert!(
        store
            .accept_totp_step(user, &sealed(user, "k1"), 59_000_000, false)
            .await
            .unwrap()
    );
    assert_eq!(
        store.totp(user).await.unwrap().unwrap().last_step,
        Some(59_000_000)
    );
}

pub async fn racing_uses_of_one_step_let_exactly_one_through(backend: &impl MfaBackend) {
    let stores = [backend.open().await, backend.open().await];
    let user = UserId::new_v7();
    stores[0]
        .put_pending_totp(&pending(user, "k1"))
        .await
        .unwrap();
    assert!(
        stores[0]
            .accept_totp_step(user, &sealed(user, "k1"), 10, true)
            .await
            .unwrap()
    );
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            tokio::spawn(async move {
                store
                    .accept_totp_step(user, &sealed(user, "k1"), 11, false)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        accepted += usize::from(task.await.unwrap());
    }
    assert_eq!(accepted, 1);
}

pub async fn recovery_codes_are_replaced_and_consumed_once(backend: &impl MfaBackend) {
    let stores = [backend.open().await, backend.open().await];
    let user = UserId::new_v7();
    assert_eq!(stores[0].recovery_codes_left(user).await.unwrap(), 0);
    let first = digests(1);
    stores[0]
        .replace_recovery_codes(user, &first, T0)
        .await
        .unwrap();
    assert_eq!(stores[0].recovery_codes_left(user).await.unwrap(), 10);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let digest = first[0];
            tokio::spawn(async move { store.consume_recovery_code(user, &digest).await.unwrap() })
        })
        .collect();
    let mut consumed = 0;
    for task in tasks {
        consumed += usize::from(task.await.unwrap());
    }
    assert_eq!(consumed, 1);
    assert_eq!(stores[1].recovery_codes_left(user).await.unwrap(), 9);
    assert!(
        !stores[0]
            .consume_recovery_code(UserId::new_v7(), &first[1])
            .await
            .unwrap()
    );
    stores[0]
        .replace_recovery_codes(user, &digests(100), T0)
        .await
        .unwrap();
    assert!(
        !stores[0]
            .consume_recovery_code(user, &first[1])
            .await
            .unwrap(),
        "old set void"
    );
    assert!(
        stores[0]
            .consume_recovery_code(user, &[105; 32])
            .await
            .unwrap()
    );
    assert_eq!(stores[0].recovery_codes_left(user).await.unwrap(), 9);
}

pub async fn reseal_queries_match_key_prefixes_exactly(backend: &impl MfaBackend) {
    let store = backend.open().await;
    let key = |id: &str| KeyId::new(id).unwrap();
    // `_` and `%` are wildcards in SQL LIKE; the match must be literal.
    let mut on_old = Vec::new();
    for id in ["k_1", "k_1", "k%1"] {
        let user = UserId::new_v7();
        store.put_pending_totp(&pending(user, id)).await.unwrap();
        on_old.push(user);
    }
    for _ in 0..2 {
        store
            .put_pending_totp(&pending(UserId::new_v7(), "kx1"))
            .await
            .unwrap();
    }
    assert_eq!(store.count_sealed_with(&key("k_1")).await.unwrap(), 2);
    assert_eq!(store.count_sealed_with(&key("kx1")).await.unwrap(), 2);
    assert_eq!(store.count_sealed_with(&key("k")).await.unwrap(), 0);
    let stale = store
        .totp_sealed_with_other_keys(&key("kx1"), 10)
        .await
        .unwrap();
    let mut stale_users: Vec<_> = stale.iter().map(|r| r.user_id).collect();
    stale_users.sort();
    on_old.sort();
    assert_eq!(stale_users, on_old);
    assert_eq!(
        store
            .totp_sealed_with_other_keys(&key("kx1"), 2)
            .await
            .unwrap()
            .len(),
        2
    );
    let first = &stale[0];
    assert!(
        !store
            .reseal_totp(first.user_id, "v1.other.x", "v1.kx1.new")
            .await
            .unwrap()
    );
    assert!(
        store
            .reseal_totp(first.user_id, &first.sealed_secret, "v1.kx1.new")
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .totp(first.user_id)
            .await
            .unwrap()
            .unwrap()
            .sealed_secret,
        "v1.kx1.new"
    );
    assert_eq!(store.count_sealed_with(&key("kx1")).await.unwrap(), 3);
}

pub async fn removing_a_factor_leaves_others(backend: &impl MfaBackend) {
    let store = backend.open().await;
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    store.put_pending_totp(&pending(alice, "k1")).await.unwrap();
    store.put_pending_totp(&pending(bob, "k1")).await.unwrap();
    assert!(store.remove_totp(alice).await.unwrap());
    assert!(!store.remove_totp(alice).await.unwrap());
    assert_eq!(store.totp(alice).await.unwrap(), None);
    assert!(store.totp(bob).await.unwrap().is_some());
}

pub async fn ceremonies_are_single_use_and_expire(backend: &impl MfaBackend) {
    let stores = [backend.open().await, backend.open().await];
    let user = UserId::new_v7();
    let ceremony = |byte: u8, minutes: i64| {
        Ceremony::new(
            [byte; 32],
            "mfa_login",
            user,
            r#"{"methods":["totp"]}"#.into(),
            T0 + time::Duration::minutes(minutes),
        )
    };
    stores[0].put_ceremony(&ceremony(1, 5)).await.unwrap();
    assert!(matches!(
        stores[0].put_ceremony(&ceremony(1, 5)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        stores[1]
            .take_ceremony(&[1; 32], "webauthn", T0)
            .await
            .unwrap(),
        None,
        "other kind"
    );
    assert_eq!(
        stores[1]
            .take_ceremony(&[1; 32], "mfa_login", T0)
            .await
            .unwrap(),
        Some(ceremony(1, 5))
    );
    assert_eq!(
        stores[0]
            .take_ceremony(&[1; 32], "mfa_login", T0)
            .await
            .unwrap(),
        None,
        "used"
    );

    stores[0].put_ceremony(&ceremony(2, 5)).await.unwrap();
    let at_expiry = T0 + time::Duration::minutes(5);
    assert_eq!(
        stores[0]
            .take_ceremony(&[2; 32], "mfa_login", at_expiry)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        stores[0]
            .take_ceremony(&[2; 32], "mfa_login", T0)
            .await
            .unwrap(),
        None,
        "gone"
    );

    stores[0].put_ceremony(&ceremony(3, 1)).await.unwrap();
    stores[0].put_ceremony(&ceremony(4, 10)).await.unwrap();
    assert_eq!(
        stores[0]
            .purge_ceremonies(T0 + time::Duration::minutes(2))
            .await
            .unwrap(),
        1
    );
    assert!(
        stores[0]
            .take_ceremony(&[4; 32], "mfa_login", T0)
            .await
            .unwrap()
            .is_some()
    );

    stores[0].put_ceremony(&ceremony(5, 5)).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            tokio::spawn(async move {
                store
                    .take_ceremony(&[5; 32], "mfa_login", T0)
                    .await
                    .unwrap()
                    .is_some()
            })
        })
        .collect();
    let mut taken = 0;
    for task in tasks {
        taken += usize::from(task.await.unwrap());
    }
    assert_eq!(taken, 1);
}

pub async fn a_newer_password_reset_replaces_the_older(backend: &impl MfaBackend) {
    let stores = [backend.open().await, backend.open().await];
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let reset = |byte: u8, user: UserId| {
        Ceremony::new(
            [byte; 32],
            PASSWORD_RESET,
            user,
            "{}".into(),
            T0 + time::Duration::minutes(15),
        )
    };
    let take = |store: &Arc<dyn MfaStore>, byte: u8| {
        let store = Arc::clone(store);
        async move {
            store
                .take_ceremony(&[byte; 32], PASSWORD_RESET, T0)
                .await
                .unwrap()
                .map(|c| c.user_id)
        }
    };
    stores[0]
        .put_password_reset(&reset(1, alice))
        .await
        .unwrap();
    stores[1].put_password_reset(&reset(2, bob)).await.unwrap();
    stores[1]
        .put_password_reset(&reset(3, alice))
        .await
        .unwrap();
    assert_eq!(
        take(&stores[0], 1).await,
        None,
        "replaced by the newer token"
    );
    assert_eq!(take(&stores[0], 3).await, Some(alice));
    assert_eq!(
        take(&stores[1], 2).await,
        Some(bob),
        "another user's token stays"
    );
    assert!(matches!(
        stores[0]
            .put_password_reset(&Ceremony::new([4; 32], "mfa_login", alice, "{}".into(), T0))
            .await,
        Err(StoreError::Conflict(_))
    ));

    let tasks: Vec<_> = (0..20u8)
        .map(|i| {
            let store = Arc::clone(&stores[usize::from(i % 2)]);
            let ceremony = reset(10 + i, alice);
            tokio::spawn(async move { store.put_password_reset(&ceremony).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut live = 0;
    for i in 0..20u8 {
        live += usize::from(take(&stores[0], 10 + i).await.is_some());
    }
    assert_eq!(live, 1, "exactly one of the racing tokens survives");
}

/// Expands to one `#[tokio::test]` per `MfaStore` case for a backend expression yielding
/// `Option<impl MfaBackend>`.
#[macro_export]
macro_rules! mfa_store_conformance {
    ($backend:expr) => {
        $crate::mfa_store_conformance!(@cases $backend;
            totp_records_round_trip_and_confirm_once,
            accepted_steps_only_move_forward,
            racing_uses_of_one_step_let_exactly_one_through,
            recovery_codes_are_replaced_and_consumed_once,
            reseal_queries_match_key_prefixes_exactly,
            removing_a_factor_leaves_others,
            ceremonies_are_single_use_and_expire,
            a_newer_password_reset_replaces_the_older,
            a_store_without_the_counter_declines_the_fast_path,
            the_fast_path_accepts_only_while_the_counter_is_clear,
            a_login_on_the_fast_path_counts_clears_and_locks,
        );
    };
    (@cases $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(backend) = $backend {
                    $crate::mfa::$case(&backend).await;
                    $crate::mfa::MfaBackend::cleanup(&backend).await;
                }
            }
        )*
    };
}
