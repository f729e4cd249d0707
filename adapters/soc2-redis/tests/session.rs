//! The session store conformance suite on Redis (`SOC2_TEST_REDIS_URL`), and what is
//! particular to Redis: key expiry, the key layout, malformed data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::RedisBackend;

soc2_testkit::session_store_conformance!(RedisBackend::new(module_path!()));

use std::time::Duration as StdDuration;

use soc2_core::{StoreError, UserId, truncate_to_micros, unix_micros};
use soc2_redis::{DEFAULT_EXPIRY_GRACE, RedisSessionStore};
use soc2_session::jwt::TokenDenyList;
use soc2_session::{SessionRecord, SessionStore, SessionToken};
use soc2_testkit::session::session;
use time::{Duration, OffsetDateTime};

/// A session whose times lie ahead of the wall clock (Redis expires keys by it).
fn future_session(user: UserId, absolute_hours: i64) -> (SessionToken, SessionRecord) {
    let token = SessionToken::generate().unwrap();
    let mut record = session(user, 0);
    let now = truncate_to_micros(OffsetDateTime::now_utc());
    record.digest = token.digest();
    record.created_at = now;
    record.last_seen_at = now;
    record.idle_expires_at = now + Duration::minutes(30);
    record.absolute_expires_at = now + Duration::hours(absolute_hours);
    record.auth.authenticated_at = now;
    record.auth.mfa_verified_at = Some(now);
    (token, record)
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap()
}

async fn query<T: redis::FromRedisValue>(backend: &RedisBackend, cmd: &redis::Cmd) -> T {
    cmd.query_async(&mut backend.connect().await).await.unwrap()
}

async fn expire_time(backend: &RedisBackend, key: &str) -> i64 {
    query(backend, redis::cmd("PEXPIRETIME").arg(key)).await
}

#[tokio::test]
async fn keys_expire_after_the_absolute_expiry_and_hold_no_token() {
    let Some(backend) = RedisBackend::new(module_path!()) else {
        return;
    };
    let prefix = backend.test.prefix().to_owned();
    let store = RedisSessionStore::new(backend.connect().await).with_prefix(prefix.as_str());
    assert_eq!(DEFAULT_EXPIRY_GRACE, StdDuration::from_secs(7 * 24 * 3600));
    let grace = Duration::days(7);
    let user = UserId::new_v7();
    let (token, record) = future_session(user, 12);
    store.insert(&record).await.unwrap();
    let hex = hex::encode(record.digest.as_bytes());
    let (session_key, user_key) = (
        format!("{prefix}session:{hex}"),
        format!("{prefix}user-sessions:{user}"),
    );
    let expiry_key = format!("{prefix}session-expiry");
    assert_eq!(
        backend.keys().await,
        [expiry_key.clone(), session_key.clone(), user_key.clone()]
    );
    let at = unix_ms(record.absolute_expires_at + grace);
    assert_eq!(expire_time(&backend, &session_key).await, at);
    assert_eq!(expire_time(&backend, &user_key).await, at);
    let score: String = query(&backend, redis::cmd("ZSCORE").arg(&expiry_key).arg(&hex)).await;
    assert_eq!(score, unix_micros(record.idle_expires_at).to_string());

    // Only the digest is stored, never the token.
    let stored: Vec<String> = query(&backend, redis::cmd("HGETALL").arg(&session_key)).await;
    assert!(stored.contains(&hex));
    assert!(
        !stored
            .iter()
            .any(|value| value.contains(token.expose_secret()))
    );

    // A touch re-scores the expiry index; the index holds the earlier of the two expiries.
    let seen = record.last_seen_at + Duration::minutes(5);
    assert!(
        store
            .touch(&record.digest, seen, seen + Duration::minutes(30))
            .await
            .unwrap()
    );
    let score: String = query(&backend, redis::cmd("ZSCORE").arg(&expiry_key).arg(&hex)).await;
    assert_eq!(score, unix_micros(seen + Duration::minutes(30)).to_string());

    // The user's set lives as long as its longest session; a shorter one never shortens it.
    let (_, longer) = future_session(user, 24);
    store.insert(&longer).await.unwrap();
    let longer_at = unix_ms(longer.absolute_expires_at + grace);
    assert_eq!(expire_time(&backend, &user_key).await, longer_at);
    let (_, shorter) = future_session(user, 1);
    store.insert(&shorter).await.unwrap();
    assert_eq!(expire_time(&backend, &user_key).await, longer_at);

    // A rotated session's key expires by the new record.
    let (_, mut rotated) = future_session(user, 2);
    rotated.id = record.id;
    assert!(store.rotate(&record.digest, &rotated).await.unwrap());
    let rotated_key = format!("{prefix}session:{}", hex::encode(rotated.digest.as_bytes()));
    assert_eq!(
        expire_time(&backend, &rotated_key).await,
        unix_ms(rotated.absolute_expires_at + grace)
    );
    assert_eq!(expire_time(&backend, &session_key).await, -2);

    // A session whose key Redis dropped leaves no trace in listings.
    query::<i64>(&backend, redis::cmd("DEL").arg(&rotated_key)).await;
    let listed = store.list_user(user).await.unwrap();
    assert_eq!(listed, [longer.clone(), shorter.clone()]);
    let members: Vec<String> = query(&backend, redis::cmd("SMEMBERS").arg(&user_key)).await;
    assert_eq!(members.len(), 2);
    backend.delete_all().await;
}

#[tokio::test]
async fn malformed_data_is_a_typed_error() {
    let Some(backend) = RedisBackend::new(module_path!()) else {
        return;
    };
    let prefix = backend.test.prefix().to_owned();
    let store = backend.sessions().await;
    let corrupt = |result: Result<_, StoreError>| matches!(result, Err(StoreError::Corrupt(_)));
    let user = UserId::new_v7();
    let user_key = format!("{prefix}user-sessions:{user}");

    // A string where a session hash belongs.
    let record = session(user, 0);
    let key = format!("{prefix}session:{}", hex::encode(record.digest.as_bytes()));
    query::<()>(&backend, redis::cmd("SET").arg(&key).arg("garbage")).await;
    assert!(corrupt(store.get(&record.digest).await.map(|_| ())));
    assert!(corrupt(
        store
            .touch(&record.digest, record.last_seen_at, record.idle_expires_at)
            .await
            .map(|_| ())
    ));
    assert!(corrupt(store.remove(&record.digest).await.map(|_| ())));
    assert!(matches!(
        store.insert(&record).await,
        Err(StoreError::Conflict(_))
    ));
    query::<i64>(
        &backend,
        redis::cmd("SADD")
            .arg(&user_key)
            .arg(hex::encode(record.digest.as_bytes())),
    )
    .await;
    assert!(corrupt(store.list_user(user).await.map(|_| ())));
    assert!(corrupt(store.remove_user(user, None).await.map(|_| ())));
    query::<i64>(&backend, redis::cmd("DEL").arg(&key).arg(&user_key)).await;

    // Hashes with a field missing, a field that does not parse, an unknown version.
    let cases: [(&str, &str); 5] = [
        ("created", "yesterday"),
        ("id", "not-a-uuid"),
        ("factors", "password,carrier-pigeon"),
        ("digest", "00"),
        ("v", "2"),
    ];
    for (field, value) in cases {
        let record = session(user, 0);
        store.insert(&record).await.unwrap();
        let key = format!("{prefix}session:{}", hex::encode(record.digest.as_bytes()));
        query::<i64>(&backend, redis::cmd("HSET").arg(&key).arg(field).arg(value)).await;
        assert!(
            corrupt(store.get(&record.digest).await.map(|_| ())),
            "{field}"
        );
        assert!(corrupt(store.list_user(user).await.map(|_| ())), "{field}");
        store.remove(&record.digest).await.unwrap_err();
        query::<i64>(&backend, redis::cmd("DEL").arg(&key).arg(&user_key)).await;
    }
    let record = session(user, 0);
    store.insert(&record).await.unwrap();
    let key = format!("{prefix}session:{}", hex::encode(record.digest.as_bytes()));
    query::<i64>(&backend, redis::cmd("HDEL").arg(&key).arg("idle")).await;
    assert!(corrupt(store.get(&record.digest).await.map(|_| ())));
    assert!(corrupt(
        store
            .touch(&record.digest, record.last_seen_at, record.idle_expires_at)
            .await
            .map(|_| ())
    ));

    // The deny list: a score that is not whole microseconds, a string where the set belongs.
    let denied = format!("{prefix}denied-tokens");
    query::<i64>(
        &backend,
        redis::cmd("ZADD").arg(&denied).arg("1.5").arg("jti-x"),
    )
    .await;
    let now = OffsetDateTime::now_utc();
    assert!(corrupt(store.is_denied("jti-x", now).await.map(|_| ())));
    query::<i64>(&backend, redis::cmd("DEL").arg(&denied)).await;
    query::<()>(&backend, redis::cmd("SET").arg(&denied).arg("garbage")).await;
    assert!(corrupt(store.deny("jti-y", now).await));
    assert!(corrupt(store.is_denied("jti-y", now).await.map(|_| ())));
    assert!(corrupt(store.purge_expired(now).await.map(|_| ())));
    backend.delete_all().await;
}

#[tokio::test]
async fn debug_output_names_the_prefix_only() {
    let Some(backend) = RedisBackend::new(module_path!()) else {
        return;
    };
    let store = RedisSessionStore::new(backend.connect().await).with_prefix("app:soc2:");
    assert_eq!(
        format!("{store:?}"),
        "RedisSessionStore { prefix: \"app:soc2:\", expiry_grace: 604800s, .. }"
    );
    assert_eq!(store.prefix(), "app:soc2:");
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let Some(_backend) = RedisBackend::new(module_path!()) else {
        return;
    };
    let once = soc2_redis::ConnectionManagerConfig::new().set_number_of_retries(0);
    assert!(matches!(
        soc2_redis::connect_with("redis://127.0.0.1:1", once).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        soc2_redis::connect("not a url").await,
        Err(StoreError::Backend(_))
    ));
}
