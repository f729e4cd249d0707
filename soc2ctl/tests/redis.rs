//! `soc2ctl user unlock|revoke-sessions --config` with a server configuration that sets
//! `server.redis_url`: they act on the Redis stores under `server.redis_prefix`, where the
//! server keeps sessions and lockouts, and audit to the SQL database as usual.
//!
//! Skipped with a notice without `SOC2_TEST_REDIS_URL`, failed with
//! `SOC2_TEST_REDIS_REQUIRED=1` (see `soc2_testkit::redis`). Each test runs under a random
//! prefix whose keys it deletes at the end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// The shared helpers; the per-backend macro is not used here.
#[allow(unused_macros)]
#[macro_use]
mod common;

use std::sync::Arc;

use common::{Db, assert_exit, run, soc2ctl, text};
use serde_json::json;
use soc2_auth::password::UserContext;
use soc2_auth::{HashParams, LockoutStore, PasswordAuth, PasswordCheck, PasswordHasher};
use soc2_core::{Clock, ManualClock, Preset, RequestContext, UserId};
use soc2_redis::redis;
use soc2_redis::{RedisLockoutStore, RedisSessionStore};
use soc2_session::{Factor, SessionError, SessionManager, SessionPolicy};
use soc2_testkit::redis::TestPrefix;
use time::OffsetDateTime;

/// A password the Soc2Strict policy accepts.
const PASSWORD: &str = "plinth quasar tundra 42 marmot";

/// The server configuration soc2ctl reads: the test database, Redis under the test prefix.
fn write_config(db: &mut Db, prefix: &TestPrefix) -> String {
    let path = db.dir().join("server.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\ndatabase_url = \"{}\"\nredis_url = \"{}\"\nredis_prefix = \"{}\"\n",
            db.url,
            prefix.url(),
            prefix.prefix()
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Deletes every key under the test's prefix.
async fn delete_keys(prefix: &TestPrefix) {
    let mut conn = soc2_redis::connect(prefix.url()).await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", prefix.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

async fn verified(auth: &PasswordAuth, password: &str) -> bool {
    matches!(
        auth.verify("alice", password, &RequestContext::new())
            .await
            .unwrap(),
        PasswordCheck::Verified(_)
    )
}

#[tokio::test]
async fn unlock_and_revoke_sessions_act_on_the_servers_redis() {
    let Some(prefix) = TestPrefix::create("soc2ctl::redis::unlock_and_revoke_sessions") else {
        return;
    };
    let mut db = Db::sqlite().await;
    let config = write_config(&mut db, &prefix);
    let conn = soc2_redis::connect(prefix.url()).await.unwrap();
    let lockouts: Arc<dyn LockoutStore> =
        Arc::new(RedisLockoutStore::new(conn.clone()).with_prefix(prefix.prefix()));
    let log = db.audit_log();
    // Stopped at the real now, so that the lock is still in force when soc2ctl runs.
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let auth = PasswordAuth::new(
        Arc::clone(&db.credentials),
        Arc::clone(&lockouts),
        PasswordHasher::new(HashParams::default()).unwrap(),
        log.clone(),
        Arc::clone(&clock),
    );
    let mut users = Vec::new();
    for name in ["alice", "bob"] {
        let user: UserId = auth
            .register(
                UserId::new_v7(),
                name,
                Some(PASSWORD),
                &UserContext::default(),
                &RequestContext::new(),
            )
            .await
            .unwrap()
            .user_id;
        users.push(user);
    }
    let (alice, bob) = (users[0], users[1]);
    for _ in 0..5 {
        assert!(!verified(&auth, "wrong password entirely").await);
    }
    let locked = auth.lock_state(alice).await.unwrap().unwrap();
    assert!(locked.locked_until.is_some());
    let sessions = SessionManager::new(
        Arc::new(RedisSessionStore::new(conn).with_prefix(prefix.prefix())),
        SessionPolicy::from_preset(Preset::Soc2Strict),
        Arc::clone(&clock),
        log.clone(),
    );
    let context = RequestContext::new();
    let mut tokens = Vec::new();
    for user in [alice, alice, bob] {
        let (token, _) = sessions
            .create(user, &[Factor::Password], &context)
            .await
            .unwrap();
        tokens.push(token);
    }
    log.flush().await.unwrap();

    let unlock = soc2ctl(&["user", "unlock", "alice", "--config", &config]);
    assert_exit(&unlock, 0);
    assert_eq!(text(&unlock.stdout), "unlocked alice\n");
    let state = auth.lock_state(alice).await.unwrap().unwrap();
    assert_eq!(
        (state.failures, state.locked_until, state.lockouts),
        (0, None, 0)
    );
    assert!(verified(&auth, PASSWORD).await);

    let revoke = soc2ctl(&["user", "revoke-sessions", "alice", "--config", &config]);
    assert_exit(&revoke, 0);
    assert_eq!(text(&revoke.stdout), "revoked 2 sessions of alice\n");
    for token in &tokens[..2] {
        assert!(matches!(
            sessions
                .validate(token.expose_secret().as_bytes(), &context)
                .await,
            Err(SessionError::Invalid)
        ));
    }
    let kept = sessions
        .validate(tokens[2].expose_secret().as_bytes(), &context)
        .await
        .unwrap();
    assert_eq!(kept.user_id(), bob);
    log.shutdown().await.unwrap();

    // Audited on the SQL database, with the operator as actor.
    let unlocked = db.events_of("auth.lockout.unlocked").await;
    assert_eq!(unlocked.len(), 1);
    assert_eq!(unlocked[0]["metadata"]["was_locked"], true);
    assert_eq!(
        unlocked[0]["target"],
        json!({"kind": "user", "id": alice.to_string()})
    );
    assert_eq!(db.events_of("session.revoked").await.len(), 2);
    delete_keys(&prefix).await;
}

/// `REDIS_URL` replaces the configuration's `server.redis_url`, as for the server; a URL
/// that does not parse is a configuration error (exit 2) naming the key, without the
/// password.
#[tokio::test]
async fn a_bad_redis_url_exits_2_without_its_password() {
    let Some(prefix) = TestPrefix::create("soc2ctl::redis::a_bad_redis_url") else {
        return;
    };
    let mut db = Db::sqlite().await;
    let config = write_config(&mut db, &prefix);
    let out = run(
        &["user", "unlock", "alice", "--config", &config],
        &[
            ("SOC2_AUDIT_KEYS", common::KEYS),
            ("REDIS_URL", "mysql://:hunter2@cache:6379"),
        ],
    );
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "soc2ctl: server.redis_url: mysql://:***@cache:6379 is not a Redis URL \
             (redis://[:password@]host:port[/db]): "
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
