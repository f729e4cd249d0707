//! The `PasskeyStore` conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_auth::passkey::{PasskeyRecord, PasskeyStore, StoredPasskey};
use soc2_core::{StoreError, UserId};
use time::OffsetDateTime;
use time::macros::datetime;

/// A backend under test.
#[async_trait]
pub trait PasskeyBackend: Send + Sync + 'static {
    /// A store handle on this backend's database. Each call opens a separate pool, like a
    /// separate app instance.
    async fn open(&self) -> Arc<dyn PasskeyStore>;

    /// Releases the database after a passing case.
    async fn cleanup(&self) {}
}

const T0: OffsetDateTime = datetime!(2026-11-23 09:00:00.123456 UTC);

/// Verification data whose JSON names its counter (stores treat it as opaque text).
fn key(sign_count: u32, backed_up: bool) -> StoredPasskey {
    StoredPasskey::new(
        format!(r#"{{"cred":{{"counter":{sign_count},"backup_state":{backed_up}}}}}"#),
        sign_count,
        true,
        backed_up,
    )
}

fn record(user: UserId, id: &str, name: &str, minutes: i64) -> PasskeyRecord {
    PasskeyRecord::new(
        user,
        id.to_owned(),
        name.to_owned(),
        key(0, false),
        T0 + time::Duration::minutes(minutes),
    )
}

pub async fn passkeys_round_trip_oldest_first(backend: &impl PasskeyBackend) {
    let stores = [backend.open().await, backend.open().await];
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    assert_eq!(stores[0].passkeys(alice).await.unwrap(), []);
    assert_eq!(stores[0].count_passkeys(alice).await.unwrap(), 0);
    let laptop = record(alice, "bGFwdG9w", "Laptop", 2);
    let phone = record(alice, "cGhvbmU", "Phone 📱", 1);
    let bobs = record(bob, "Ym9i", "Key", 0);
    for record in [&laptop, &phone, &bobs] {
        stores[0].add_passkey(record).await.unwrap();
    }
    assert_eq!(
        stores[1].passkeys(alice).await.unwrap(),
        [phone.clone(), laptop.clone()]
    );
    assert_eq!(stores[1].count_passkeys(alice).await.unwrap(), 2);
    assert_eq!(stores[1].count_passkeys(bob).await.unwrap(), 1);
    assert_eq!(
        stores[1].passkey(&bobs.credential_id).await.unwrap(),
        Some(bobs),
        "found by id with its owner"
    );
    assert_eq!(stores[1].passkey("no-such-id").await.unwrap(), None);
    assert_eq!(stores[1].passkey("").await.unwrap(), None);
}

pub async fn a_credential_id_is_registered_once(backend: &impl PasskeyBackend) {
    let stores = [backend.open().await, backend.open().await];
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let first = record(alice, "ZHVw", "First", 0);
    stores[0].add_passkey(&first).await.unwrap();
    for (user, name) in [(bob, "Stolen"), (alice, "Again")] {
        let again = record(user, &first.credential_id, name, 1);
        assert!(matches!(
            stores[1].add_passkey(&again).await,
            Err(StoreError::Conflict(_))
        ));
    }
    assert_eq!(
        stores[0].passkey(&first.credential_id).await.unwrap(),
        Some(first)
    );
    assert_eq!(stores[0].count_passkeys(bob).await.unwrap(), 0);
}

pub async fn a_use_replaces_the_state_it_was_checked_against(backend: &impl PasskeyBackend) {
    let store = backend.open().await;
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let registered = record(alice, "dXNl", "Laptop", 0);
    store.add_passkey(&registered).await.unwrap();
    let id = registered.credential_id.as_str();
    let used_at = T0 + time::Duration::hours(1);
    let previous = registered.passkey.json.as_str();
    assert!(
        !store
            .record_passkey_use(bob, id, previous, &key(1, true), used_at)
            .await
            .unwrap(),
        "another user's"
    );
    assert!(
        !store
            .record_passkey_use(alice, id, "{}", &key(1, true), used_at)
            .await
            .unwrap(),
        "stale state"
    );
    assert!(
        store
            .record_passkey_use(alice, id, previous, &key(1, true), used_at)
            .await
            .unwrap()
    );
    let used = store.passkey(id).await.unwrap().unwrap();
    assert_eq!(used.passkey, key(1, true));
    assert_eq!(used.last_used_at, Some(used_at));
    assert_eq!((used.name.as_str(), used.created_at), ("Laptop", T0));
    assert!(
        !store
            .record_passkey_use(alice, id, previous, &key(2, true), used_at)
            .await
            .unwrap(),
        "the state moved on"
    );
}

pub async fn racing_uses_of_one_state_let_exactly_one_through(backend: &impl PasskeyBackend) {
    let stores = [backend.open().await, backend.open().await];
    let user = UserId::new_v7();
    let registered = record(user, "cmFjZQ", "Key", 0);
    stores[0].add_passkey(&registered).await.unwrap();
    let tasks: Vec<_> = (0..20_u32)
        .map(|i| {
            let store = Arc::clone(&stores[(i % 2) as usize]);
            let (id, previous) = (
                registered.credential_id.clone(),
                registered.passkey.json.clone(),
            );
            tokio::spawn(async move {
                let won = store
                    .record_passkey_use(user, &id, &previous, &key(i + 1, false), T0)
                    .await
                    .unwrap();
                won.then_some(i + 1)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        winners.extend(task.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = stores[1]
        .passkey(&registered.credential_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.passkey, key(winners[0], false));
}

pub async fn renaming_and_removal_touch_only_the_owners_credential(backend: &impl PasskeyBackend) {
    let store = backend.open().await;
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    // `_` and `%` are wildcards in SQL LIKE; ids must match literally.
    let odd = record(alice, "ab_1", "Odd", 0);
    let other = record(alice, "abx1", "Other", 1);
    store.add_passkey(&odd).await.unwrap();
    store.add_passkey(&other).await.unwrap();
    let pattern = "a%";
    assert!(!store.rename_passkey(alice, pattern, "X").await.unwrap());
    assert!(
        !store
            .rename_passkey(bob, &odd.credential_id, "Mine")
            .await
            .unwrap()
    );
    assert!(
        store
            .rename_passkey(alice, &odd.credential_id, "Work key")
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .passkey(&odd.credential_id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Work key"
    );
    assert!(!store.remove_passkey(alice, pattern).await.unwrap());
    assert!(!store.remove_passkey(bob, &odd.credential_id).await.unwrap());
    assert!(
        store
            .remove_passkey(alice, &odd.credential_id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_passkey(alice, &odd.credential_id)
            .await
            .unwrap()
    );
    assert_eq!(store.passkey(&odd.credential_id).await.unwrap(), None);
    assert_eq!(store.passkeys(alice).await.unwrap(), [other]);
    assert_eq!(store.count_passkeys(alice).await.unwrap(), 1);
}

/// Expands to one `#[tokio::test]` per `PasskeyStore` case for a backend expression yielding
/// `Option<impl PasskeyBackend>`.
#[macro_export]
macro_rules! passkey_store_conformance {
    ($backend:expr) => {
        $crate::passkey_store_conformance!(@cases $backend;
            passkeys_round_trip_oldest_first,
            a_credential_id_is_registered_once,
            a_use_replaces_the_state_it_was_checked_against,
            racing_uses_of_one_state_let_exactly_one_through,
            renaming_and_removal_touch_only_the_owners_credential,
        );
    };
    (@cases $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(backend) = $backend {
                    $crate::passkey::$case(&backend).await;
                    $crate::passkey::PasskeyBackend::cleanup(&backend).await;
                }
            }
        )*
    };
}
