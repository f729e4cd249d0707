//! The lockout store conformance suite on Redis (`SOC2_TEST_REDIS_URL`), and malformed data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::RedisBackend;

soc2_testkit::lockout_store_conformance!(RedisBackend::new(module_path!()));

use soc2_auth::{AccountOp, AccountOutcome, IpOp, LockoutKey, LockoutPolicy, LockoutStore};
use soc2_core::{Preset, StoreError, UserId, unix_micros};
use time::Duration;
use time::macros::datetime;

async fn query<T: redis::FromRedisValue>(backend: &RedisBackend, cmd: &redis::Cmd) -> T {
    cmd.query_async(&mut backend.connect().await).await.unwrap()
}

/// Operations that change nothing record the time but keep the revision, so they never make
/// racing attempts that do change the counter start over.
#[tokio::test]
async fn only_changes_bump_the_revision() {
    let Some(backend) = RedisBackend::new(module_path!()) else {
        return;
    };
    let store = backend.lockouts().await;
    let policy = LockoutPolicy::from_preset(Preset::Soc2Strict).with_threshold(2);
    let user = UserId::new_v7();
    let key = format!("{}lockout:account:{user}", backend.test.prefix());
    let touched = format!("{}lockout-touched", backend.test.prefix());
    let t0 = datetime!(2026-11-23 09:00 UTC);
    let account = LockoutKey::Account(user);
    for _ in 0..2 {
        store
            .apply_account(&account, AccountOp::Begin, t0, &policy)
            .await
            .unwrap();
        store
            .apply_account(&account, AccountOp::Fail, t0, &policy)
            .await
            .unwrap();
    }
    let later = t0 + Duration::minutes(1);
    assert!(matches!(
        store
            .apply_account(&account, AccountOp::Begin, later, &policy)
            .await
            .unwrap(),
        AccountOutcome::Locked { .. }
    ));
    let fields: Vec<Option<String>> =
        query(&backend, redis::cmd("HMGET").arg(&key).arg("rev").arg("at")).await;
    let later_us = unix_micros(later).to_string();
    assert_eq!(fields, [Some("4".to_owned()), Some(later_us.clone())]);
    let score: String = query(&backend, redis::cmd("ZSCORE").arg(&touched).arg(&key)).await;
    assert_eq!(score, later_us);
    backend.delete_all().await;
}

#[tokio::test]
async fn malformed_data_is_a_typed_error() {
    let Some(backend) = RedisBackend::new(module_path!()) else {
        return;
    };
    let store = backend.lockouts().await;
    let policy = LockoutPolicy::from_preset(Preset::Soc2Strict);
    let t0 = datetime!(2026-11-23 09:00 UTC);
    let prefix = backend.test.prefix().to_owned();
    let corrupt = |result: Result<(), StoreError>| matches!(result, Err(StoreError::Corrupt(_)));

    // A string where the counter's hash belongs.
    let user = UserId::new_v7();
    let account = LockoutKey::Account(user);
    let key = format!("{prefix}lockout:account:{user}");
    query::<()>(&backend, redis::cmd("SET").arg(&key).arg("garbage")).await;
    assert!(corrupt(
        store
            .apply_account(&account, AccountOp::Begin, t0, &policy)
            .await
            .map(|_| ())
    ));
    assert!(corrupt(store.account_state(&account).await.map(|_| ())));
    query::<i64>(&backend, redis::cmd("DEL").arg(&key)).await;

    // Fields that do not parse, a missing revision.
    let cases: [(&str, &str); 4] = [
        ("failures", "many"),
        ("locked_until", "soon"),
        ("admin_lock", "yes"),
        ("rev", ""),
    ];
    for (field, value) in cases {
        store
            .apply_account(&account, AccountOp::Fail, t0, &policy)
            .await
            .unwrap();
        if value.is_empty() {
            query::<i64>(&backend, redis::cmd("HDEL").arg(&key).arg(field)).await;
        } else {
            query::<i64>(&backend, redis::cmd("HSET").arg(&key).arg(field).arg(value)).await;
            assert!(
                corrupt(store.account_state(&account).await.map(|_| ())),
                "{field}"
            );
        }
        assert!(
            corrupt(
                store
                    .apply_account(&account, AccountOp::Begin, t0, &policy)
                    .await
                    .map(|_| ())
            ),
            "{field}"
        );
        query::<i64>(&backend, redis::cmd("DEL").arg(&key)).await;
    }

    // An IP window, and the idle sweep over a counter whose time does not parse.
    let ip = "192.0.2.1".parse().unwrap();
    store.apply_ip(ip, IpOp::Fail, t0, &policy).await.unwrap();
    let ip_key = format!("{prefix}ip-window:192.0.2.1");
    query::<i64>(
        &backend,
        redis::cmd("HSET").arg(&ip_key).arg("current").arg("-1"),
    )
    .await;
    assert!(corrupt(
        store
            .apply_ip(ip, IpOp::Check, t0, &policy)
            .await
            .map(|_| ())
    ));
    query::<i64>(
        &backend,
        redis::cmd("HSET").arg(&ip_key).arg("at").arg("noon"),
    )
    .await;
    assert!(corrupt(
        store.remove_idle(t0 + Duration::hours(1)).await.map(|_| ())
    ));
    backend.delete_all().await;
}
