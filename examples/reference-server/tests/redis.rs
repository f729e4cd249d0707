//! The reference server on SQLite with sessions and lockouts on Redis (`server.redis_url`),
//! over real HTTP: the end-to-end flows that involve sessions and lockouts pass; the sessions
//! and lockout counters really are in Redis (keys under the test's prefix) and the SQLite
//! session and lockout tables stay empty; and a revocation made through another
//! `SessionManager` on the same Redis prefix ends a session the server's cache holds.
//!
//! Skipped with a notice without `SOC2_TEST_REDIS_URL`, failed with
//! `SOC2_TEST_REDIS_REQUIRED=1` (see `soc2_testkit::redis`). Each test runs under a random
//! prefix whose keys it deletes at the end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ADMIN_PASSWORD, STRONG, TestServer, flows, mfa};
use hyper::StatusCode;
use serde_json::json;
use soc2_audit::{Actor, AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_core::{KeyId, KeyRing, Preset, RequestContext, SystemClock, UserId};
use soc2_redis::redis::{self, aio::ConnectionManager};
use soc2_redis::{RedisSessionStore, follow_changes};
use soc2_session::{SessionManager, SessionPolicy, SessionToken};
use soc2_testkit::redis::TestPrefix;

/// How long a revocation through another manager may take to reach the server's cache
/// before the test fails (in practice a pub/sub message takes well under a millisecond).
const REVOCATION_DEADLINE: Duration = Duration::from_secs(5);

/// A server on a fresh SQLite file with sessions and lockouts on Redis under a test prefix.
struct RedisServer {
    server: TestServer,
    prefix: TestPrefix,
}

impl RedisServer {
    /// `None` (skip) when no Redis server is configured.
    async fn start(test: &str) -> Option<Self> {
        let prefix = TestPrefix::create(test)?;
        let server = TestServer::sqlite_with(
            &format!(
                "bootstrap_admin_password = \"{ADMIN_PASSWORD}\"\nredis_url = \"{}\"\n\
                 redis_prefix = \"{}\"",
                prefix.url(),
                prefix.prefix()
            ),
            "",
        )
        .await;
        Some(Self { server, prefix })
    }

    async fn redis(&self) -> ConnectionManager {
        soc2_redis::connect(self.prefix.url()).await.unwrap()
    }

    /// The rows of a table in the server's SQLite file.
    async fn rows(&self, table: &str) -> i64 {
        let pool = soc2_sqlx::sqlite::connect_existing(&self.server.database_url)
            .await
            .unwrap();
        let count =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        count
    }

    /// The SQLite session and lockout tables are empty: nothing went to them.
    async fn assert_nothing_on_sql(&self) {
        for table in ["soc2_sessions", "soc2_lockouts", "soc2_ip_throttle"] {
            assert_eq!(self.rows(table).await, 0, "{table}");
        }
    }

    /// A user's id, from the server's SQLite file.
    async fn user_id(&self, username: &str) -> UserId {
        let pool = soc2_sqlx::sqlite::connect_existing(&self.server.database_url)
            .await
            .unwrap();
        let id: String =
            sqlx::query_scalar("SELECT user_id FROM soc2_credentials WHERE username = $1")
                .bind(username)
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        id.parse().unwrap()
    }

    /// Checks that nothing went to SQL, stops the app and deletes the prefix's keys.
    async fn finish(self) {
        self.assert_nothing_on_sql().await;
        self.server.app.shutdown().await.unwrap();
        self.prefix.delete_all().await;
        assert_eq!(self.prefix.keys().await, Vec::<String>::new());
    }
}

/// Lower-case hex of a session token's digest: the Redis session key's suffix.
fn digest_hex(token: &str) -> String {
    SessionToken::parse(token.as_bytes())
        .unwrap()
        .digest()
        .as_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Runs a flow against a server on SQLite + Redis, then checks SQL held none of it.
macro_rules! flow_on_redis {
    ($($module:ident::$flow:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $flow() {
                let test = concat!("reference_server::redis::", stringify!($flow));
                let Some(server) = RedisServer::start(test).await else {
                    return;
                };
                $module::$flow(&server.server).await;
                assert!(!server.prefix.keys().await.is_empty(), "nothing reached Redis");
                server.finish().await;
            }
        )*
    };
}

flow_on_redis!(
    flows::registration_and_login,
    flows::lockout,
    flows::csrf_and_logout,
    flows::sessions_by_id,
    flows::password_change,
    flows::idle_timeout,
    // Second factors count failures in the Redis lockout store (the MFA store does not read
    // the SQL lockout table then).
    mfa::totp_enrollment_and_login,
);

/// The sessions and the account and per-IP lockout counters of the flows are Redis keys under
/// the prefix, with exactly the expected contents.
#[tokio::test]
async fn sessions_and_lockout_counters_are_kept_in_redis() {
    let Some(server) =
        RedisServer::start("reference_server::redis::sessions_and_lockout_counters").await
    else {
        return;
    };
    let first = server.server.sign_up("olive").await;
    let second = server.server.login("olive", STRONG).await;
    for _ in 0..2 {
        let refused = server
            .server
            .login_reply("olive", "wrong wrong wrong wrong")
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    }
    let olive = server.user_id("olive").await;
    let prefix = server.prefix.prefix().to_owned();
    let mut conn = server.redis().await;

    let mut listed: Vec<String> = redis::cmd("SMEMBERS")
        .arg(format!("{prefix}user-sessions:{olive}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    listed.sort();
    let mut expected = vec![digest_hex(first.token()), digest_hex(second.token())];
    expected.sort();
    assert_eq!(listed, expected);
    for digest in &expected {
        let user: Option<String> = redis::cmd("HGET")
            .arg(format!("{prefix}session:{digest}"))
            .arg("user")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(user, Some(olive.to_string()));
    }
    let failures: Option<String> = redis::cmd("HGET")
        .arg(format!("{prefix}lockout:account:{olive}"))
        .arg("failures")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(failures.as_deref(), Some("2"));
    let ip_window: bool = redis::cmd("EXISTS")
        .arg(format!("{prefix}ip-window:127.0.0.1"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ip_window);

    // Logging out removes the session from Redis.
    let logout = server
        .server
        .unsafe_request(hyper::Method::POST, "/api/auth/logout", None, &second)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let listed: Vec<String> = redis::cmd("SMEMBERS")
        .arg(format!("{prefix}user-sessions:{olive}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(listed, vec![digest_hex(first.token())]);
    server.finish().await;
}

/// A revocation through another `SessionManager` on the same Redis prefix (what `soc2ctl user
/// revoke-sessions --config` does) ends a session the server's cache holds: first the test
/// shows the cache serves what it holds (a session deleted behind the change channel's back),
/// then polls until the revoked session is refused, failing after a deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_through_another_manager_ends_a_cached_session() {
    let Some(server) =
        RedisServer::start("reference_server::redis::a_revocation_through_another_manager").await
    else {
        return;
    };
    let peggy = server.server.sign_up("peggy").await;
    // Twice: the first request reads the store and caches the session, the second is served
    // from the cache.
    for _ in 0..2 {
        assert_eq!(
            server.server.get("/api/me", Some(&peggy)).await.status,
            StatusCode::OK
        );
    }
    let prefix = server.prefix.prefix().to_owned();
    let mut conn = server.redis().await;

    // The cache is on and holds what the server validated: a session key deleted without a
    // change message is still served.
    let probe = server.server.login("peggy", STRONG).await;
    for _ in 0..2 {
        assert_eq!(
            server.server.get("/api/me", Some(&probe)).await.status,
            StatusCode::OK
        );
    }
    let deleted: u32 = redis::cmd("DEL")
        .arg(format!("{prefix}session:{}", digest_hex(probe.token())))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(
        server.server.get("/api/me", Some(&probe)).await.status,
        StatusCode::OK,
        "served from the cache"
    );

    // Another manager on its own connection under the same prefix, with its own follower to
    // see its revocation go out.
    let client = redis::Client::open(server.prefix.url()).unwrap();
    let watcher = follow_changes(client, prefix.clone(), soc2_redis::FollowConfig::default())
        .await
        .unwrap();
    let mut changes = watcher.feed().subscribe();
    let keys = KeyRing::single(KeyId::new("tool").unwrap(), [5; 32]);
    let tool = SessionManager::new(
        Arc::new(RedisSessionStore::new(server.redis().await).with_prefix(prefix.clone())),
        SessionPolicy::from_preset(Preset::Soc2Strict),
        Arc::new(SystemClock),
        AuditLog::start(
            Arc::new(MemoryAuditStore::new(&keys)),
            AuditLogConfig::default(),
        ),
    );
    let peggy_id = server.user_id("peggy").await;
    let revoked_at = Instant::now();
    // Peggy's first session, which the cache also holds, is what the tool revokes (the probe's
    // key is already gone).
    let revoked = tool
        .revoke_user(peggy_id, Actor::System, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(revoked, 1);
    let refused = server
        .server
        .get_until(
            "/api/me",
            &peggy,
            StatusCode::UNAUTHORIZED,
            REVOCATION_DEADLINE,
        )
        .await;
    assert_eq!(refused.json(), json!({"error": "unauthenticated"}));
    eprintln!("refused {:?} after the revocation", revoked_at.elapsed());

    // What ended it: the session's change on the prefix's channel.
    common::await_session_change(&mut changes, &peggy, REVOCATION_DEADLINE).await;
    watcher.stop().await;
    server.finish().await;
}

/// A `server.redis_url` that does not parse stops the start with a message naming the key
/// and the URL without its password.
#[tokio::test]
async fn a_bad_redis_url_stops_the_start() {
    let config = reference_server::Config::from_toml(
        "[server]\ndatabase_url = \"sqlite::memory:\"\nredis_url = \"mysql://:hunter2@cache:6379\"\n",
    )
    .unwrap();
    let clock = Arc::new(soc2_core::ManualClock::new(time::macros::datetime!(
        2026-11-23 09:00 UTC
    )));
    let error = reference_server::App::build(&config, clock)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(
            "server.redis_url: mysql://:***@cache:6379 is not a Redis URL \
             (redis://[:password@]host:port[/db]): "
        ),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}

/// A Redis server that cannot be reached stops the start, naming it.
#[tokio::test]
async fn an_unreachable_redis_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("unreachable.db").display());
    let config = reference_server::Config::from_toml(&common::settings(
        &url,
        "redis_url = \"redis://127.0.0.1:1\"",
        "",
        common::ADMIN_GRACE,
    ))
    .unwrap();
    let clock = Arc::new(soc2_core::ManualClock::new(time::macros::datetime!(
        2026-11-23 09:00 UTC
    )));
    let error = reference_server::App::build(&config, clock)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("redis (redis://127.0.0.1:1): "),
        "{error}"
    );
}
