//! Two reference-server processes (the real binary, twice) on one PostgreSQL schema, driven
//! over HTTP: a lockout reached through one instance holds on the other, an unlock through
//! one frees the account on the other, a session made on one works on the other, and a
//! revocation through one ends the session on the other promptly. Each instance serves
//! sessions from its in-process cache (`[session] cache`, on by default), which drops a
//! session when PostgreSQL's NOTIFY for it arrives: the test shows that A's cache serves what
//! it holds (a session deleted behind the change log's back), makes sure A's cache holds the
//! sessions B then revokes, and polls A until it refuses them, failing after a 5 s deadline
//! (in practice it takes milliseconds). Roles work the same way (`server.role_cache`): a role
//! granted and revoked through B takes effect on A, which had cached the user's roles.
//!
//! Skipped with a notice without `SOC2_TEST_POSTGRES_URL`, failed with
//! `SOC2_TEST_POSTGRES_REQUIRED=1` (see `soc2_testkit::postgres`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use common::{ADMIN_PASSWORD, Browser, Http, STRONG, postgres_settings};
use hyper::{Method, StatusCode};
use serde_json::json;
use soc2_testkit::postgres::TestSchema;

/// How long a child may take to migrate, bootstrap and bind before the test gives up.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a revocation through one instance may take to reach the other's cache before
/// the test fails.
const REVOCATION_DEADLINE: Duration = Duration::from_secs(5);

/// A `reference-server` child process and a client for it.
struct Instance {
    _process: KillOnDrop,
    http: Http,
}

/// Kills and reaps the child when dropped, also when the test panics.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Instance {
    /// Starts the binary with `config` and waits for its `listening on ADDR` line; its output
    /// goes on to the test's stderr, each line prefixed with `name`.
    fn start(name: &'static str, config: &Path) -> Self {
        let mut process = KillOnDrop(
            Command::new(env!("CARGO_BIN_EXE_reference-server"))
                .arg("--config")
                .arg(config)
                .env_remove("DATABASE_URL")
                .env_remove("SOC2_AUDIT_KEYS")
                .env_remove("SOC2_SEALING_KEYS")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let stdout = process.0.stdout.take().unwrap();
        let (address, listening) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("[{name}] {line}");
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = address.send(addr.parse::<SocketAddr>().unwrap());
                }
            }
        });
        let addr = listening.recv_timeout(START_TIMEOUT).unwrap_or_else(|_| {
            panic!("instance {name} did not start: {:?}", process.0.try_wait())
        });
        Self {
            _process: process,
            http: Http::new(addr),
        }
    }
}

#[tokio::test]
async fn two_processes_share_lockouts_sessions_and_revocations() {
    let Some(schema) = TestSchema::create("reference_server_two_instances").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    let text = postgres_settings(&schema, dir.path(), r#"listen = "127.0.0.1:0""#);
    std::fs::write(&config, text).unwrap();
    // One after the other: the first migrates the schema and creates the administrator.
    let a = Instance::start("a", &config);
    let b = Instance::start("b", &config);
    assert_ne!(a.http.addr, b.http.addr);

    lockout_and_unlock_across(&a.http, &b.http).await;
    the_cache_serves_what_it_holds(&a.http, &b.http, &schema).await;
    sessions_and_revocations_across(&a.http, &b.http).await;
    role_changes_across(&a.http, &b.http).await;

    let auditor = a.http.auditor().await;
    let verified = b.http.get("/api/admin/audit/verify", Some(&auditor)).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text());
    let verified = verified.json();
    assert_eq!(
        verified["ok"], true,
        "one chain from both writers: {verified}"
    );
    b.http
        .assert_audited(&[
            "auth.lockout.locked",
            "auth.lockout.unlocked",
            "session.revoked",
        ])
        .await;

    drop((a, b));
    schema.drop_schema().await;
}

/// Failures through A reach the threshold (3); the right password through B is refused as
/// locked; an administrator's unlock through B lets the user log in through A.
async fn lockout_and_unlock_across(a: &Http, b: &Http) {
    assert_eq!(
        a.register("olivia", STRONG).await.status,
        StatusCode::CREATED
    );
    for _ in 0..3 {
        let refused = a.login_reply("olivia", "not the password at all").await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    }
    let locked = b.login_reply("olivia", STRONG).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(locked.body, br#"{"error":"invalid_credentials"}"#);

    let admin = b.login("admin", ADMIN_PASSWORD).await;
    let unlocked = b
        .unsafe_request(Method::POST, "/api/admin/users/olivia/unlock", None, &admin)
        .await;
    assert_eq!(
        unlocked.status,
        StatusCode::NO_CONTENT,
        "{}",
        unlocked.text()
    );
    let olivia = a.login("olivia", STRONG).await;
    let me = b.get("/api/me", Some(&olivia)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["username"], "olivia");
}

/// A's cache is on and holds what A validated: a session deleted behind the change log's
/// back (triggers off for that transaction, as only a superuser can) is still served by A,
/// which read it twice, and refused by B, which never cached it. So the revocations below
/// reach A through the change feed, not through a cache miss.
async fn the_cache_serves_what_it_holds(a: &Http, b: &Http, schema: &TestSchema) {
    let probe = a.login("olivia", STRONG).await;
    for _ in 0..2 {
        assert_eq!(a.get("/api/me", Some(&probe)).await.status, StatusCode::OK);
    }
    let digest = soc2_session::SessionToken::parse(probe.token().as_bytes())
        .unwrap()
        .digest();
    let pool = schema.pool().await;
    let mut unpublished = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *unpublished)
        .await
        .unwrap();
    let deleted = sqlx::query("DELETE FROM soc2_sessions WHERE token_digest = $1")
        .bind(digest.as_bytes().to_vec())
        .execute(&mut *unpublished)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    unpublished.commit().await.unwrap();
    pool.close().await;
    assert_eq!(a.get("/api/me", Some(&probe)).await.status, StatusCode::OK);
    assert_eq!(
        b.get("/api/me", Some(&probe)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Requests `session` on `at` until it is refused as unauthenticated; fails after
/// [`REVOCATION_DEADLINE`].
async fn until_refused(at: &Http, session: &Browser) {
    let reply = at
        .get_until(
            "/api/me",
            session,
            StatusCode::UNAUTHORIZED,
            REVOCATION_DEADLINE,
        )
        .await;
    assert_eq!(reply.json(), json!({"error": "unauthenticated"}));
}

/// A role granted through B lets the user do on A what it allows once the change arrives (A
/// cached the user's roles by deciding twice before), and its revocation through B ends that.
async fn role_changes_across(a: &Http, b: &Http) {
    const VERIFY: &str = "/api/admin/audit/verify";
    let quinn = a.sign_up("quinn").await;
    for _ in 0..2 {
        let refused = a.get(VERIFY, Some(&quinn)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    }
    let admin = b.login("admin", ADMIN_PASSWORD).await;
    let path = "/api/admin/users/quinn/roles/auditor";
    let granted = b.unsafe_request(Method::PUT, path, None, &admin).await;
    assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.text());
    a.get_until(VERIFY, &quinn, StatusCode::OK, REVOCATION_DEADLINE)
        .await;
    let revoked = b.unsafe_request(Method::DELETE, path, None, &admin).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text());
    a.get_until(VERIFY, &quinn, StatusCode::FORBIDDEN, REVOCATION_DEADLINE)
        .await;
}

/// Sessions made on A work on B and sit in A's cache (two requests each on A); ending one by
/// id through B, then all of the user's through B's admin route, ends them on A once the
/// change notification arrives.
async fn sessions_and_revocations_across(a: &Http, b: &Http) {
    assert_eq!(
        b.register("peggy", STRONG).await.status,
        StatusCode::CREATED
    );
    let first = a.login("peggy", STRONG).await;
    let second = a.login("peggy", STRONG).await;
    for session in [&first, &second] {
        let me = b.get("/api/me", Some(session)).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.text());
        assert_eq!(me.json()["username"], "peggy");
        // The first request on A reads the store and caches the session; the second is
        // served from the cache.
        for _ in 0..2 {
            assert_eq!(a.get("/api/me", Some(session)).await.status, StatusCode::OK);
        }
    }

    let listed = b.get("/api/me/sessions", Some(&first)).await.json();
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let path = format!("/api/me/sessions/{}", other["id"].as_str().unwrap());
    let ended = b.unsafe_request(Method::DELETE, &path, None, &first).await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.text());
    until_refused(a, &second).await;
    assert_eq!(a.get("/api/me", Some(&first)).await.status, StatusCode::OK);

    let admin = b.login("admin", ADMIN_PASSWORD).await;
    let revoked = b
        .unsafe_request(
            Method::DELETE,
            "/api/admin/users/peggy/sessions",
            None,
            &admin,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text());
    until_refused(a, &first).await;
}

/// Two instances building at the same moment on one empty database: both start (migrations
/// and the bootstrap race harmlessly), and exactly one administrator exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_on_an_empty_database_both_start() {
    let Some(schema) = TestSchema::create("reference_server_start_together").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config =
        reference_server::Config::from_toml(&postgres_settings(&schema, dir.path(), "")).unwrap();
    let clock = || Arc::new(soc2_core::SystemClock) as Arc<dyn soc2_core::Clock>;
    let (first, second) = tokio::join!(
        reference_server::App::build(&config, clock()),
        reference_server::App::build(&config, clock())
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    let pool = schema.pool().await;
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM soc2_credentials WHERE username = 'admin'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(admins, 1);
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
    schema.drop_schema().await;
}
