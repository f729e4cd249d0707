//! The `CredentialStore` conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_auth::{CredentialFlags, CredentialRecord, CredentialStore, StoredHash, Username};
use soc2_core::{StoreError, UserId};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// A backend under test.
#[async_trait]
pub trait CredentialBackend: Send + Sync + 'static {
    /// A store handle on this backend's database (each call a separate pool, like a separate
    /// app instance).
    async fn open(&self) -> Arc<dyn CredentialStore>;

    /// Releases the database after a passing case.
    async fn cleanup(&self) {}
}

const T0: OffsetDateTime = datetime!(2026-11-23 09:00:00.123456 UTC);

/// A well-formed argon2 PHC string, distinct for each `n`.
pub fn hash(n: u8) -> StoredHash {
    StoredHash::parse(&format!(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0{n:04}AA\
         $Dyn5p2AmnbPw5bZW9NKxzKcj4yKxaRV1NUSsXhsuCqU"
    ))
    .unwrap()
}

fn name(raw: &str) -> Username {
    Username::parse(raw).unwrap()
}

/// A credential of a new user with password `hash(password)`, created at T0.
fn credential(username: &str, password: u8) -> CredentialRecord {
    CredentialRecord::new(UserId::new_v7(), name(username), Some(hash(password)), T0)
}

pub async fn credentials_round_trip_exactly(backend: &impl CredentialBackend) {
    let store = backend.open().await;
    let mut record = credential("Zoë", 3);
    record.password_changed_at = Some(T0 + Duration::days(3) + Duration::microseconds(7));
    record.history = vec![hash(2), hash(1)];
    record.flags = CredentialFlags::default()
        .with_must_change(true)
        .with_disabled(true);
    store.insert(&record).await.unwrap();
    assert_eq!(
        store.get(record.user_id).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        store.find(&record.username).await.unwrap(),
        Some(record.clone())
    );

    let bare = CredentialRecord::new(
        UserId::new_v7(),
        name("bob"),
        None,
        T0 - Duration::days(400),
    );
    store.insert(&bare).await.unwrap();
    assert_eq!(store.get(bare.user_id).await.unwrap(), Some(bare));

    assert_eq!(store.get(UserId::new_v7()).await.unwrap(), None);
    assert_eq!(store.find(&name("carol")).await.unwrap(), None);
}

pub async fn taken_user_id_or_username_conflicts(backend: &impl CredentialBackend) {
    let store = backend.open().await;
    let record = credential("alice", 1);
    store.insert(&record).await.unwrap();

    let mut same_id = CredentialRecord::new(record.user_id, name("mallory"), Some(hash(2)), T0);
    same_id.history = vec![hash(9)];
    assert!(matches!(
        store.insert(&same_id).await,
        Err(StoreError::Conflict(_))
    ));
    let same_name = credential("ALICE", 3);
    assert!(matches!(
        store.insert(&same_name).await,
        Err(StoreError::Conflict(_))
    ));

    assert_eq!(store.get(record.user_id).await.unwrap(), Some(record));
    assert_eq!(store.get(same_name.user_id).await.unwrap(), None);
    assert_eq!(store.find(&name("mallory")).await.unwrap(), None);
}

pub async fn find_matches_the_normalised_name(backend: &impl CredentialBackend) {
    let store = backend.open().await;
    let record = credential("Ａｌｉｃｅ", 1);
    assert_eq!(record.username.as_str(), "alice");
    store.insert(&record).await.unwrap();
    for variant in ["alice", "ALICE", "  Alice ", "ａｌｉｃｅ"] {
        assert_eq!(
            store.find(&name(variant)).await.unwrap(),
            Some(record.clone()),
            "{variant}"
        );
    }
    assert_eq!(store.find(&name("alice2")).await.unwrap(), None);
    assert_eq!(store.find(&name("alic")).await.unwrap(), None);
}

pub async fn password_change_is_compare_and_swap(backend: &impl CredentialBackend) {
    let store = backend.open().await;
    let mut record = credential("alice", 1);
    record.flags = CredentialFlags::default()
        .with_must_change(true)
        .with_disabled(true);
    store.insert(&record).await.unwrap();
    let id = record.user_id;
    let at = T0 + Duration::hours(1);

    assert!(
        !store
            .replace_password(id, Some(&hash(9)), &hash(2), at, 5)
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_password(id, None, &hash(2), at, 5)
            .await
            .unwrap()
    );
    let unknown = UserId::new_v7();
    assert!(
        !store
            .replace_password(unknown, Some(&hash(1)), &hash(2), at, 5)
            .await
            .unwrap()
    );
    assert_eq!(store.get(id).await.unwrap(), Some(record.clone()));

    assert!(
        store
            .replace_password(id, Some(&hash(1)), &hash(2), at, 5)
            .await
            .unwrap()
    );
    let mut changed = record.clone();
    changed.password = Some(hash(2));
    changed.password_changed_at = Some(at);
    changed.history = vec![hash(1)];
    changed.flags = CredentialFlags::default().with_disabled(true);
    assert_eq!(store.get(id).await.unwrap(), Some(changed.clone()));

    let later = at + Duration::hours(1);
    assert!(
        !store
            .replace_password(id, Some(&hash(1)), &hash(3), later, 5)
            .await
            .unwrap()
    );
    assert_eq!(store.get(id).await.unwrap(), Some(changed));
}

pub async fn first_password_of_a_passwordless_account(backend: &impl CredentialBackend) {
    let store = backend.open().await;
    let record = CredentialRecord::new(UserId::new_v7(), name("svc"), None, T0);
    store.insert(&record).await.unwrap();
    let id = record.user_id;
    let at = T0 + Duration::minutes(1);
    assert!(
        !store
            .replace_password(id, Some(&hash(1)), &hash(2), at, 5)
            .await
            .unwrap()
    );
    assert!(
        store
            .replace_password(id, None, &hash(1), at, 5)
            .await
            .unwrap()
    );
    let stored = store.get(id).await.unwrap().unwrap();
    assert_eq!(
        (stored.password, stored.password_changed_at, stored.history),
        (Some(hash(1)), Some(at), vec![])
    );
}

pub async fn history_keeps_the_most_recent_first(backend: &impl CredentialBackend) {
    let store = backend.open().await;
    let mut record = credential("alice", 2);
    record.history = vec![hash(1)];
    store.insert(&record).await.unwrap();
    let id = record.user_id;
    let change = |n: u8, keep: usize| {
        let store = Arc::clone(&store);
        async move {
            let at = T0 + Duration::minutes(n.into());
            assert!(
                store
                    .replace_password(id, Some(&hash(n - 1)), &hash(n), at, keep)
                    .await
                    .unwrap(),
                "change to {n}"
            );
            store.get(id).await.unwrap().unwrap()
        }
    };

    // Inserted history is older than what changes add.
    assert_eq!(change(3, 10).await.history, [hash(2), hash(1)]);
    for n in 4..7 {
        change(n, 3).await;
    }
    let stored = change(7, 3).await;
    assert_eq!(stored.password, Some(hash(7)));
    assert_eq!(stored.password_changed_at, Some(T0 + Duration::minutes(7)));
    assert_eq!(stored.history, [hash(6), hash(5), hash(4)]);

    assert_eq!(
        change(8, 10).await.history,
        [hash(7), hash(6), hash(5), hash(4)]
    );
    assert_eq!(change(9, 1).await.history, [hash(8)]);
    assert_eq!(change(10, 0).await.history, []);
    assert_eq!(change(11, 2).await.history, [hash(10)]);
}

pub async fn concurrent_changes_have_one_winner(backend: &impl CredentialBackend) {
    let stores = [backend.open().await, backend.open().await];
    let record = credential("alice", 1);
    stores[0].insert(&record).await.unwrap();
    let tasks: Vec<_> = (0..8u8)
        .map(|i| {
            let store = Arc::clone(&stores[usize::from(i % 2)]);
            let id = record.user_id;
            tokio::spawn(async move {
                let won = store
                    .replace_password(id, Some(&hash(1)), &hash(10 + i), T0, 5)
                    .await
                    .unwrap();
                won.then_some(10 + i)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        winners.extend(task.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = stores[1].get(record.user_id).await.unwrap().unwrap();
    assert_eq!(
        (stored.password, stored.history),
        (Some(hash(winners[0])), vec![hash(1)])
    );
}

pub async fn rehash_is_compare_and_swap_and_keeps_the_rest(backend: &impl CredentialBackend) {
    let store = backend.open().await;
    let record = credential("alice", 1);
    store.insert(&record).await.unwrap();
    let id = record.user_id;
    let changed_at = T0 + Duration::hours(2);
    assert!(
        store
            .replace_password(id, Some(&hash(1)), &hash(2), changed_at, 5)
            .await
            .unwrap()
    );
    let flags = CredentialFlags::default().with_must_change(true);
    assert!(store.set_flags(id, flags).await.unwrap());
    let before = store.get(id).await.unwrap().unwrap();

    assert!(!store.rehash(id, &hash(1), &hash(3)).await.unwrap());
    assert!(
        !store
            .rehash(UserId::new_v7(), &hash(2), &hash(3))
            .await
            .unwrap()
    );
    assert_eq!(store.get(id).await.unwrap(), Some(before.clone()));

    assert!(store.rehash(id, &hash(2), &hash(3)).await.unwrap());
    let mut rehashed = before;
    rehashed.password = Some(hash(3));
    assert_eq!(store.get(id).await.unwrap(), Some(rehashed.clone()));
    assert_eq!(
        (
            rehashed.password_changed_at,
            rehashed.history,
            rehashed.flags
        ),
        (Some(changed_at), vec![hash(1)], flags)
    );
    assert!(!store.rehash(id, &hash(2), &hash(4)).await.unwrap());
}

pub async fn flags_are_set_and_removal_takes_the_history(backend: &impl CredentialBackend) {
    let store = backend.open().await;
    let flags = CredentialFlags::default()
        .with_must_change(true)
        .with_disabled(true);
    assert!(!store.set_flags(UserId::new_v7(), flags).await.unwrap());
    let mut record = credential("alice", 2);
    record.history = vec![hash(1)];
    store.insert(&record).await.unwrap();
    let id = record.user_id;

    assert!(store.set_flags(id, flags).await.unwrap());
    assert_eq!(store.get(id).await.unwrap().unwrap().flags, flags);
    let enabled = CredentialFlags::default().with_must_change(true);
    assert!(store.set_flags(id, enabled).await.unwrap());
    assert_eq!(store.get(id).await.unwrap().unwrap().flags, enabled);

    assert!(store.remove(id).await.unwrap());
    assert_eq!(store.get(id).await.unwrap(), None);
    assert_eq!(store.find(&name("alice")).await.unwrap(), None);
    assert!(!store.remove(id).await.unwrap());

    // A new credential under the same id starts without the old history.
    let again = CredentialRecord::new(id, name("alice"), Some(hash(5)), T0 + Duration::days(1));
    store.insert(&again).await.unwrap();
    assert_eq!(store.get(id).await.unwrap(), Some(again));
}

/// Expands to one test per `CredentialStore` conformance case for `$backend` (an async
/// expression yielding `Option<impl CredentialBackend>`).
#[macro_export]
macro_rules! credential_store_conformance {
    ($backend:expr) => {
        $crate::credential_store_conformance!(@cases $backend;
            credentials_round_trip_exactly,
            taken_user_id_or_username_conflicts,
            find_matches_the_normalised_name,
            password_change_is_compare_and_swap,
            first_password_of_a_passwordless_account,
            history_keeps_the_most_recent_first,
            concurrent_changes_have_one_winner,
            rehash_is_compare_and_swap_and_keeps_the_rest,
            flags_are_set_and_removal_takes_the_history,
        );
    };
    (@cases $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(backend) = $backend {
                    $crate::credential::$case(&backend).await;
                    $crate::credential::CredentialBackend::cleanup(&backend).await;
                }
            }
        )*
    };
}
