//! The `SessionStore` conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_core::{SessionId, StoreError, UserId};
use soc2_session::jwt::TokenDenyList;
use soc2_session::{AuthLevel, Factor, SessionRecord, SessionStore, SessionToken};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// A backend under test.
#[async_trait]
pub trait SessionBackend: Send + Sync + 'static {
    /// A store handle on this backend's database (each call a separate pool).
    async fn open(&self) -> Arc<dyn SessionStore>;

    /// The service-token deny list on the same database.
    async fn open_deny_list(&self) -> Arc<dyn TokenDenyList>;

    /// Releases the database after a passing case.
    async fn cleanup(&self) {}
}

const T0: OffsetDateTime = datetime!(2026-11-23 09:00 UTC);

/// A fresh session of `user` created `minutes` after T0, idle for 30 min, absolute 12 h.
pub fn session(user: UserId, minutes: i64) -> SessionRecord {
    let created = T0 + Duration::minutes(minutes);
    SessionRecord {
        id: SessionId::new_v7(),
        digest: SessionToken::generate().unwrap().digest(),
        user_id: user,
        created_at: created,
        last_seen_at: created,
        idle_expires_at: created + Duration::minutes(30),
        absolute_expires_at: created + Duration::hours(12),
        auth: AuthLevel {
            authenticated_at: created,
            factors: vec![Factor::Password, Factor::Totp],
            mfa_verified_at: Some(created),
        },
        client_ip: Some("198.51.100.4".parse().unwrap()),
        user_agent: Some("Mozilla/5.0 ünïcødé".into()),
    }
}

pub async fn sessions_round_trip_exactly(backend: &impl SessionBackend) {
    let store = backend.open().await;
    let record = session(UserId::new_v7(), 0);
    store.insert(&record).await.unwrap();
    assert_eq!(
        store.get(&record.digest).await.unwrap(),
        Some(record.clone())
    );
    let unknown = SessionToken::generate().unwrap().digest();
    assert_eq!(store.get(&unknown).await.unwrap(), None);
}

pub async fn insert_never_overwrites(backend: &impl SessionBackend) {
    let store = backend.open().await;
    let record = session(UserId::new_v7(), 0);
    store.insert(&record).await.unwrap();
    let mut other = session(UserId::new_v7(), 5);
    other.digest = record.digest;
    assert!(matches!(
        store.insert(&other).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.get(&record.digest).await.unwrap(), Some(record));
}

pub async fn touch_only_moves_forward(backend: &impl SessionBackend) {
    let store = backend.open().await;
    let record = session(UserId::new_v7(), 0);
    store.insert(&record).await.unwrap();
    let later = T0 + Duration::minutes(10);
    assert!(
        store
            .touch(&record.digest, later, later + Duration::minutes(30))
            .await
            .unwrap()
    );
    assert!(store.touch(&record.digest, T0, T0).await.unwrap());
    let stored = store.get(&record.digest).await.unwrap().unwrap();
    assert_eq!(
        (stored.last_seen_at, stored.idle_expires_at),
        (later, later + Duration::minutes(30))
    );
    let gone = SessionToken::generate().unwrap().digest();
    assert!(!store.touch(&gone, later, later).await.unwrap());
}

pub async fn rotation_kills_the_old_token(backend: &impl SessionBackend) {
    let store = backend.open().await;
    let old = session(UserId::new_v7(), 0);
    store.insert(&old).await.unwrap();
    let mut new = old.clone();
    new.digest = SessionToken::generate().unwrap().digest();
    assert!(store.rotate(&old.digest, &new).await.unwrap());
    assert_eq!(store.get(&old.digest).await.unwrap(), None);
    assert_eq!(store.get(&new.digest).await.unwrap(), Some(new.clone()));
    let mut again = old.clone();
    again.digest = SessionToken::generate().unwrap().digest();
    assert!(!store.rotate(&old.digest, &again).await.unwrap());
    assert_eq!(store.get(&again.digest).await.unwrap(), None);
}

pub async fn concurrent_rotations_have_one_winner(backend: &impl SessionBackend) {
    let stores = [backend.open().await, backend.open().await];
    for round in 0..10 {
        let old = session(UserId::new_v7(), round);
        stores[0].insert(&old).await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = Arc::clone(&stores[i % 2]);
                let mut new = old.clone();
                new.digest = SessionToken::generate().unwrap().digest();
                let old_digest = old.digest;
                tokio::spawn(async move { store.rotate(&old_digest, &new).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.unwrap());
        }
        assert_eq!(winners, 1, "round {round}");
        assert_eq!(stores[1].list_user(old.user_id).await.unwrap().len(), 1);
    }
}

pub async fn user_sessions_list_and_revoke(backend: &impl SessionBackend) {
    let store = backend.open().await;
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let alice_sessions = [session(alice, 2), session(alice, 0), session(alice, 1)];
    for record in &alice_sessions {
        store.insert(record).await.unwrap();
    }
    store.insert(&session(bob, 0)).await.unwrap();
    let listed = store.list_user(alice).await.unwrap();
    let minutes: Vec<_> = listed
        .iter()
        .map(|r| (r.created_at - T0).whole_minutes())
        .collect();
    assert_eq!(minutes, [0, 1, 2]);

    let keep = alice_sessions[0].digest;
    let removed = store.remove_user(alice, Some(&keep)).await.unwrap();
    assert_eq!(removed.len(), 2);
    assert_eq!(
        store.list_user(alice).await.unwrap(),
        [alice_sessions[0].clone()]
    );
    assert_eq!(store.remove_user(alice, None).await.unwrap().len(), 1);
    assert_eq!(store.list_user(bob).await.unwrap().len(), 1);
    assert_eq!(store.remove(&keep).await.unwrap(), None);
}

pub async fn sweeper_removes_only_expired_in_batches(backend: &impl SessionBackend) {
    let store = backend.open().await;
    let user = UserId::new_v7();
    for minutes in 0..5 {
        store.insert(&session(user, minutes)).await.unwrap();
    }
    let mut absolute_old = session(user, -600);
    absolute_old.idle_expires_at = T0 + Duration::hours(6);
    absolute_old.absolute_expires_at = T0 + Duration::minutes(1);
    store.insert(&absolute_old).await.unwrap();
    // At T0+32min, sessions created at minutes 0..=2 are idle and `absolute_old` is past its lifetime.
    let now = T0 + Duration::minutes(32);
    let first = store.remove_expired(now, 3).await.unwrap();
    let second = store.remove_expired(now, 3).await.unwrap();
    assert_eq!((first.len(), second.len()), (3, 1));
    assert!(store.remove_expired(now, 3).await.unwrap().is_empty());
    let left: Vec<_> = store
        .list_user(user)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.created_at - T0).whole_minutes())
        .collect();
    assert_eq!(left, [3, 4]);
}

pub async fn denied_tokens_stay_denied_until_they_expire(backend: &impl SessionBackend) {
    let (writer, reader) = (
        backend.open_deny_list().await,
        backend.open_deny_list().await,
    );
    let until = T0 + Duration::minutes(10);
    writer.deny("jti-1", until).await.unwrap();
    writer
        .deny("jti-1", T0 + Duration::minutes(5))
        .await
        .unwrap(); // an earlier time never shortens it
    writer
        .deny("jti-2", T0 + Duration::minutes(1))
        .await
        .unwrap();
    assert!(reader.is_denied("jti-1", T0).await.unwrap());
    assert!(
        reader
            .is_denied("jti-1", until - Duration::microseconds(1))
            .await
            .unwrap()
    );
    assert!(!reader.is_denied("jti-1", until).await.unwrap());
    assert!(!reader.is_denied("jti-3", T0).await.unwrap());
    assert_eq!(
        writer
            .purge_expired(T0 + Duration::minutes(2))
            .await
            .unwrap(),
        1
    );
    assert!(
        reader
            .is_denied("jti-1", T0 + Duration::minutes(2))
            .await
            .unwrap()
    );
    assert_eq!(writer.purge_expired(until).await.unwrap(), 1);
}

/// Expands to one test per `SessionStore` conformance case for `$backend` (an async
/// expression yielding `Option<impl SessionBackend>`).
#[macro_export]
macro_rules! session_store_conformance {
    ($backend:expr) => {
        $crate::session_store_conformance!(@cases $backend;
            sessions_round_trip_exactly,
            insert_never_overwrites,
            touch_only_moves_forward,
            rotation_kills_the_old_token,
            concurrent_rotations_have_one_winner,
            user_sessions_list_and_revoke,
            sweeper_removes_only_expired_in_batches,
            denied_tokens_stay_denied_until_they_expire,
        );
    };
    (@cases $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(backend) = $backend {
                    $crate::session::$case(&backend).await;
                    $crate::session::SessionBackend::cleanup(&backend).await;
                }
            }
        )*
    };
}
