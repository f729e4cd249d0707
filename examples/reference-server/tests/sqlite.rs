//! End-to-end tests of the reference server on SQLite, over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Browser, STRONG, TestServer, flows, mfa, passkey, rbac};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use soc2_audit::{Actor, AuditEvent, AuditSink as _, Outcome, SdkAction};
use soc2_core::Clock as _;

#[tokio::test]
async fn registration_and_login() {
    flows::registration_and_login(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn csrf_and_logout() {
    flows::csrf_and_logout(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn lockout() {
    flows::lockout(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn password_change() {
    flows::password_change(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn sessions_by_id() {
    flows::sessions_by_id(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn idle_timeout() {
    flows::idle_timeout(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn audit_export_and_verify() {
    flows::audit_export_and_verify(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn health_and_unknown_routes() {
    let server = TestServer::sqlite().await;
    let health = server.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json(), json!({"status": "ok"}));
    let missing = server.get("/nope", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json(), json!({"error": "not_found"}));
}

#[tokio::test]
async fn generated_admin_password_must_be_changed() {
    let server = TestServer::sqlite_with("", "").await;
    let generated = server
        .app
        .generated_admin_password()
        .unwrap()
        .expose_secret()
        .clone();
    let challenge = |reply: &common::Reply| {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert!(reply.header("set-cookie").is_none());
        let body = reply.json();
        assert_eq!(body["status"], "password_change_required");
        assert_eq!(body["reason"], "administrator_required");
        assert_eq!(body["change_endpoint"], "/api/auth/password");
        body["challenge"].as_str().unwrap().to_owned()
    };
    let change = |challenge: &str, new: &str| json!({"challenge": challenge, "new_password": new});
    let first = challenge(&server.login_reply("admin", &generated).await);
    let weak = server
        .send(
            Method::POST,
            "/api/auth/password",
            Some(change(&first, "short")),
            &[],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak.json()["error"], "password_policy");
    // A refused password spends the challenge.
    let spent = server
        .send(
            Method::POST,
            "/api/auth/password",
            Some(change(&first, STRONG)),
            &[],
        )
        .await;
    assert_eq!(spent.status, StatusCode::UNAUTHORIZED);
    assert_eq!(spent.json(), json!({"error": "invalid_credentials"}));
    let unknown = server
        .send(
            Method::POST,
            "/api/auth/password",
            Some(change("soc2c_unknown", STRONG)),
            &[],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    let second = challenge(&server.login_reply("admin", &generated).await);
    let changed = server
        .send(
            Method::POST,
            "/api/auth/password",
            Some(change(&second, STRONG)),
            &[("origin", common::ORIGIN)],
        )
        .await;
    let admin = Browser::from_reply(&changed, "authenticated");
    let me = server.get("/api/me", Some(&admin)).await.json();
    assert_eq!(me["roles"], json!(["admin"]));
    assert_eq!(
        server.login_reply("admin", &generated).await.status,
        StatusCode::UNAUTHORIZED
    );
    server.login("admin", STRONG).await;
}

#[tokio::test]
async fn totp_enrollment_and_login() {
    mfa::totp_enrollment_and_login(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn factor_changes_need_fresh_auth() {
    mfa::factor_changes_need_fresh_auth(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn passkey_registration_and_management() {
    passkey::registration_and_management(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn passkey_second_factor_login() {
    passkey::second_factor_login(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn passkey_passwordless_login() {
    passkey::passwordless_login(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn passkeys_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("off.db").display());
    let config =
        common::settings(&url, "", "", common::ADMIN_GRACE) + "\n[passkey]\nenabled = false\n";
    let server = TestServer::start(&config).await;
    let vera = server.sign_up("vera").await;
    for (method, path) in [
        (Method::POST, "/api/me/passkeys"),
        (Method::GET, "/api/me/passkeys"),
        (Method::POST, "/api/auth/passkey/options"),
    ] {
        let reply = server.unsafe_request(method, path, None, &vera).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.json(), json!({"error": "not_found"}));
    }
    let me = server.get("/api/me", Some(&vera)).await.json();
    assert_eq!(me["mfa"]["passkeys"], 0);
}

#[tokio::test]
async fn an_origin_that_cannot_run_passkeys_stops_the_start() {
    let config = reference_server::Config::from_toml(
        "[server]\ndatabase_url = \"sqlite::memory:\"\nallowed_origins = [\"http://app.test\"]\n",
    )
    .unwrap();
    let clock = std::sync::Arc::new(soc2_core::ManualClock::new(time::macros::datetime!(
        2026-11-23 09:00 UTC
    )));
    let error = reference_server::App::build(&config, clock)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "[passkey]: `http://app.test` is not https (only http://localhost may be plain) (or set enabled = false)"
    );
}

#[tokio::test]
async fn required_mfa_confines_users_without_a_factor_to_enrolment() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("required.db").display());
    let config = common::settings(
        &url,
        &format!(r#"bootstrap_admin_password = "{}""#, common::ADMIN_PASSWORD),
        "",
        "required = true",
    );
    let server = TestServer::start(&config).await;
    let _dir = dir;
    server.create_user("olga").await;
    let olga = Browser::from_reply(
        &server.login_reply("olga", STRONG).await,
        "enrollment_required",
    );
    let me = server.get("/api/me", Some(&olga)).await;
    assert_eq!(me.status, StatusCode::OK);
    let sessions = server.get("/api/me/sessions", Some(&olga)).await;
    assert_eq!(sessions.status, StatusCode::FORBIDDEN);
    assert_eq!(sessions.json(), json!({"error": "mfa_enrollment_required"}));
    let (seed, _) = mfa::enroll_totp(&server, &olga).await;
    let challenge = server.login_challenge("olga", STRONG).await;
    let full = Browser::from_reply(
        &server
            .mfa_reply(&challenge, "totp", &server.totp_code(&seed))
            .await,
        "authenticated",
    );
    let sessions = server.get("/api/me/sessions", Some(&full)).await;
    assert_eq!(sessions.status, StatusCode::OK);
    let logout = server
        .unsafe_request(Method::POST, "/api/auth/logout", None, &olga)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn registration_can_be_closed() {
    let server = TestServer::sqlite_with("allow_registration = false", "").await;
    let reply = server.register("henry", STRONG).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn throttled_ip_gets_429() {
    let server = TestServer::sqlite_with(
        r#"bootstrap_admin_password = "x y z w correct horse battery""#,
        "ip_threshold = 2",
    )
    .await;
    for name in ["ivy", "jack"] {
        let reply = server.login_reply(name, "wrong wrong wrong wrong").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = server.login_reply("kim", STRONG).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.json()["error"], "too_many_requests");
    assert!(throttled.header("retry-after").is_some());
}

#[tokio::test]
async fn key_files_are_generated_beside_the_database_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    let config = common::settings(&url, "", "", common::ADMIN_GRACE);
    let _server = TestServer::start(&config).await;
    for name in ["keys.db.audit-keys", "keys.db.sealing-keys"] {
        let keys = dir.path().join(name);
        let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
        assert!(soc2_core::KeyRing::parse(&std::fs::read_to_string(&keys).unwrap()).is_ok());
    }
    let audit = std::fs::read_to_string(dir.path().join("keys.db.audit-keys")).unwrap();
    let sealing = std::fs::read_to_string(dir.path().join("keys.db.sealing-keys")).unwrap();
    assert_ne!(
        audit.lines().last(),
        sealing.lines().last(),
        "separate keys"
    );
}

#[tokio::test]
async fn change_approval() {
    rbac::change_approval(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn roles_under_segregation_of_duties() {
    rbac::roles_under_segregation_of_duties(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn administrators_must_enrol_mfa_without_a_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("admins.db").display());
    let password = format!(r#"bootstrap_admin_password = "{}""#, common::ADMIN_PASSWORD);
    let server = TestServer::start(&common::settings(&url, &password, "", "")).await;
    let admin = server.login_reply("admin", common::ADMIN_PASSWORD).await;
    assert_eq!(admin.json()["status"], "enrollment_required");
    server.create_user("una").await;
    assert_eq!(
        server.login_reply("una", STRONG).await.json()["status"],
        "authenticated"
    );

    let graced = TestServer::sqlite().await;
    let admin = graced
        .login_reply("admin", common::ADMIN_PASSWORD)
        .await
        .json();
    assert_eq!(admin["status"], "authenticated");
    assert_eq!(admin["mfa_enrollment_due"], "2026-12-23T09:00:00Z");
}

/// A server on a SQLite file in `dir` with a copy of the example policies in
/// `dir/policies` (returned) and `extra` `[server]` lines.
async fn with_policy_copy(dir: &std::path::Path, extra: &str) -> (TestServer, std::path::PathBuf) {
    let policies = dir.join("policies");
    std::fs::create_dir(&policies).unwrap();
    for entry in std::fs::read_dir(reference_server::DEFAULT_POLICY_DIR).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), policies.join(entry.file_name())).unwrap();
    }
    let url = format!("sqlite://{}", dir.join("reload.db").display());
    let server_lines = format!(
        "bootstrap_admin_password = \"{}\"\npolicy_dir = \"{}\"\n{extra}",
        common::ADMIN_PASSWORD,
        policies.display()
    );
    let server = TestServer::start(&common::settings(
        &url,
        &server_lines,
        "",
        common::ADMIN_GRACE,
    ))
    .await;
    (server, policies)
}

#[tokio::test]
async fn a_broken_policy_edit_is_refused_and_the_previous_set_stays() {
    let dir = tempfile::tempdir().unwrap();
    let (server, policies) = with_policy_copy(dir.path(), "").await;
    assert!(server.app.policy_watcher().is_none(), "off by default");
    let admin = server.login("admin", common::ADMIN_PASSWORD).await;
    let reload = || server.unsafe_request(Method::POST, "/api/admin/policies/reload", None, &admin);

    let same = reload().await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.json()["version"], same.json()["previous_version"]);

    std::fs::write(
        policies.join("extra.cedar"),
        "@id(\"bad\")\npermit (principal, action == Action::\"read_audit\", resource)\nwhen { principal.clearance > 3 };\n",
    )
    .unwrap();
    let refused = reload().await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"], "invalid_policies");
    let problem = refused.json()["problems"][0].as_str().unwrap().to_owned();
    assert!(problem.contains("extra.cedar:3:8: "), "{problem}");
    let still = server
        .unsafe_request(Method::POST, "/api/admin/users/nobody/unlock", None, &admin)
        .await;
    assert_eq!(
        still.status,
        StatusCode::NOT_FOUND,
        "allowed by the previous set, then not found"
    );

    std::fs::remove_file(policies.join("extra.cedar")).unwrap();
    assert_eq!(reload().await.status, StatusCode::OK);
    server.assert_audited(&["rbac.policy.reloaded"]).await;
}

/// The rows in the server's session table, read from its SQLite file.
async fn stored_sessions(server: &TestServer) -> i64 {
    let pool = soc2_sqlx::sqlite::connect(&server.database_url)
        .await
        .unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM soc2_sessions")
        .fetch_one(&pool)
        .await
        .unwrap()
}

/// The rows in the server's ceremony table (challenges, passkey ceremonies, reset tokens).
async fn stored_ceremonies(server: &TestServer) -> i64 {
    let pool = soc2_sqlx::sqlite::connect(&server.database_url)
        .await
        .unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM soc2_ceremonies")
        .fetch_one(&pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sweep_deletes_expired_sessions_and_ceremonies_from_the_store() {
    let server = TestServer::sqlite().await;
    for user in ["ivy", "judy"] {
        server.create_user(user).await;
    }
    // An anonymous passkey sign-in that is never finished leaves a ceremony (5 minutes).
    let options = server
        .send(
            Method::POST,
            "/api/auth/passkey/options",
            Some(json!({})),
            &[("origin", common::ORIGIN)],
        )
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.text());
    server.login("ivy", STRONG).await;
    server.clock.advance(Duration::from_secs(3 * 60));
    let judy = server.login("judy", STRONG).await;
    // Ivy's session is 6 minutes idle (the test idle timeout is 5), Judy's 3.
    server.clock.advance(Duration::from_secs(3 * 60));
    assert_eq!(stored_sessions(&server).await, 2);

    assert_eq!(stored_ceremonies(&server).await, 1);
    let swept = server.app.sweep().await.unwrap();
    assert_eq!((swept.sessions, swept.ceremonies), (1, 1));
    assert_eq!(stored_sessions(&server).await, 1);
    assert_eq!(stored_ceremonies(&server).await, 0);
    let again = server.app.sweep().await.unwrap();
    assert_eq!((again.sessions, again.ceremonies), (0, 0));
    assert_eq!(
        server.get("/api/me", Some(&judy)).await.status,
        StatusCode::OK
    );
    server.assert_audited(&["session.expired"]).await;
}

#[tokio::test]
async fn a_large_audit_export_is_streamed_whole() {
    const EXTRA: u64 = 3000;
    let server = TestServer::sqlite().await;
    // A second writer on the same database and chain, with the server's generated keys.
    let config = reference_server::Config::from_toml(&format!(
        "[server]\ndatabase_url = \"{}\"",
        server.database_url
    ))
    .unwrap();
    let keys_file = reference_server::audit_keys_file(&config.audit, &server.database_url)
        .unwrap()
        .unwrap();
    let keys = soc2_core::KeyRing::parse(&std::fs::read_to_string(keys_file).unwrap()).unwrap();
    let pool = soc2_sqlx::sqlite::connect(&server.database_url)
        .await
        .unwrap();
    let store = soc2_sqlx::sqlite::SqliteAuditStore::new(pool, &keys);
    let events: Vec<_> = (0..EXTRA)
        .map(|n| {
            AuditEvent::new(
                SdkAction::LoginFailed,
                Outcome::Failure,
                Actor::System,
                server.clock.now(),
            )
            .with_metadata("n", n)
        })
        .collect();
    store.append_events(&events).await.unwrap();

    let auditor = server.auditor().await;
    let verified = server
        .get("/api/admin/audit/verify", Some(&auditor))
        .await
        .json();
    assert_eq!(verified["ok"], true);
    let last = verified["last_seq"].as_u64().unwrap();
    assert!(last > EXTRA, "{verified}");

    let export = server.get("/api/admin/audit", Some(&auditor)).await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(export.header("content-type"), Some("application/x-ndjson"));
    assert_eq!(export.header("content-length"), None);
    assert_eq!(export.header("transfer-encoding"), Some("chunked"));
    let lines: Vec<Value> = export
        .text()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs.len() as u64, last);
    assert_eq!(seqs.first(), Some(&1));
    assert_eq!(seqs.last(), Some(&last));
    assert!(seqs.windows(2).all(|pair| pair[1] == pair[0] + 1));
    let extra: Vec<u64> = lines
        .iter()
        .filter_map(|l| l["event"]["metadata"]["n"].as_u64())
        .collect();
    assert_eq!(extra, (0..EXTRA).collect::<Vec<_>>());
}

#[tokio::test]
async fn with_watch_policies_an_edit_is_in_force_without_a_reload_request() {
    let dir = tempfile::tempdir().unwrap();
    let (server, policies) = with_policy_copy(dir.path(), "watch_policies = true").await;
    let mut reloads = server.app.policy_watcher().unwrap().subscribe();
    let admin = server.login("admin", common::ADMIN_PASSWORD).await;
    let verify = || server.get("/api/admin/audit/verify", Some(&admin));
    assert_eq!(
        verify().await.status,
        StatusCode::FORBIDDEN,
        "only auditors"
    );

    std::fs::write(
        policies.join("extra.cedar"),
        "@id(\"admins-read\")\npermit (principal in Role::\"admin\", action == Action::\"read_audit\", resource);\n",
    )
    .unwrap();
    let event = tokio::time::timeout(std::time::Duration::from_secs(30), reloads.recv())
        .await
        .expect("the watcher reloads within the timeout")
        .unwrap();
    assert!(
        matches!(event, soc2_rbac::WatchEvent::Reloaded(_)),
        "{event:?}"
    );
    assert_eq!(verify().await.status, StatusCode::OK);
    server.assert_audited(&["rbac.policy.reloaded"]).await;
}

/// A revocation by another process on the same SQLite file (what `soc2ctl user
/// revoke-sessions` does: `SessionManager::revoke_user` on a pool of its own) ends a session
/// the running server's cache holds, within one poll interval of the change log. First the
/// test shows the cache is on: a session deleted behind the log's back is still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_by_another_process_ends_a_cached_session_within_a_poll_interval() {
    use std::sync::Arc;
    use std::time::Instant;

    use soc2_audit::{AuditLog, AuditLogConfig, MemoryAuditStore};
    use soc2_core::{KeyId, KeyRing, Preset, RequestContext, SystemClock, UserId};
    use soc2_session::{SessionManager, SessionPolicy, SessionToken};
    use soc2_sqlx::sqlite;

    const POLL: Duration = Duration::from_millis(100);
    let server = TestServer::sqlite_with(
        &format!(
            "bootstrap_admin_password = \"{}\"\nchange_poll_interval = \"100ms\"",
            common::ADMIN_PASSWORD
        ),
        "",
    )
    .await;
    let mut changes = server.app.changes().subscribe();
    let peggy = server.sign_up("peggy").await;
    // Twice: the first request reads the store and caches the session, the second is served
    // from the cache.
    for _ in 0..2 {
        assert_eq!(
            server.get("/api/me", Some(&peggy)).await.status,
            StatusCode::OK
        );
    }

    // The other process: its own pool on the file, its own session manager.
    let pool = sqlite::connect_existing(&server.database_url)
        .await
        .unwrap();

    // The cache is on and holds what the server validated: a session deleted behind the change
    // log's back (its trigger dropped for that transaction) is still served.
    let probe = server.login("peggy", STRONG).await;
    for _ in 0..2 {
        assert_eq!(
            server.get("/api/me", Some(&probe)).await.status,
            StatusCode::OK
        );
    }
    let probe_digest = SessionToken::parse(probe.token().as_bytes())
        .unwrap()
        .digest();
    let mut unpublished = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
    let trigger: String = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE name = 'soc2_sessions_deleted_change'",
    )
    .fetch_one(&mut *unpublished)
    .await
    .unwrap();
    sqlx::query("DROP TRIGGER soc2_sessions_deleted_change")
        .execute(&mut *unpublished)
        .await
        .unwrap();
    sqlx::query("DELETE FROM soc2_sessions WHERE token_digest = $1")
        .bind(probe_digest.as_bytes().to_vec())
        .execute(&mut *unpublished)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(trigger))
        .execute(&mut *unpublished)
        .await
        .unwrap();
    unpublished.commit().await.unwrap();
    assert_eq!(
        server.get("/api/me", Some(&probe)).await.status,
        StatusCode::OK,
        "served from the cache"
    );

    let user: String =
        sqlx::query_scalar("SELECT user_id FROM soc2_credentials WHERE username = 'peggy'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let keys = KeyRing::single(KeyId::new("tool").unwrap(), [5; 32]);
    let tool = SessionManager::new(
        Arc::new(sqlite::SqliteSessionStore::new(pool.clone())),
        SessionPolicy::from_preset(Preset::Soc2Strict),
        Arc::new(SystemClock),
        AuditLog::start(
            Arc::new(MemoryAuditStore::new(&keys)),
            AuditLogConfig::default(),
        ),
    );
    let revoked_at = Instant::now();
    // Peggy's first session, which the cache also holds, is what the tool revokes.
    let revoked = tool
        .revoke_user(
            user.parse::<UserId>().unwrap(),
            Actor::System,
            &RequestContext::new(),
        )
        .await
        .unwrap();
    assert_eq!(revoked, 1);

    let refused = server
        .get_until(
            "/api/me",
            &peggy,
            StatusCode::UNAUTHORIZED,
            POLL + Duration::from_secs(5),
        )
        .await;
    assert_eq!(refused.json(), json!({"error": "unauthenticated"}));
    eprintln!("refused {:?} after the revocation", revoked_at.elapsed());

    // What ended it: the change log's entry for the session, through the server's feed.
    common::await_session_change(&mut changes, &peggy, Duration::from_secs(5)).await;
    pool.close().await;
}

/// A role granted, then revoked, by another process on the same SQLite file (a role store on a
/// pool of its own) takes effect on the running server within one poll interval, although the
/// server had cached the user's roles (two decisions before the grant).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_changed_by_another_process_applies_within_a_poll_interval() {
    use std::time::Instant;

    use soc2_core::{SystemClock, UserId};
    use soc2_rbac::{RoleName, RoleStore as _, SodRules};
    use soc2_sqlx::sqlite;

    const POLL: Duration = Duration::from_millis(100);
    let server = TestServer::sqlite_with("change_poll_interval = \"100ms\"", "").await;
    let quinn = server.sign_up("quinn").await;
    let verify = "/api/admin/audit/verify";
    for _ in 0..2 {
        assert_eq!(
            server.get(verify, Some(&quinn)).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let pool = sqlite::connect_existing(&server.database_url)
        .await
        .unwrap();
    let user: String =
        sqlx::query_scalar("SELECT user_id FROM soc2_credentials WHERE username = 'quinn'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let user: UserId = user.parse().unwrap();
    let store = sqlite::SqliteRoleStore::new(pool.clone());
    let auditor = RoleName::new("auditor").unwrap();

    store
        .assign(user, &auditor, &SodRules::none(), SystemClock.now())
        .await
        .unwrap();
    let granted_at = Instant::now();
    let deadline = POLL + Duration::from_secs(5);
    server
        .get_until(verify, &quinn, StatusCode::OK, deadline)
        .await;
    eprintln!("grant seen {:?} after it", granted_at.elapsed());

    assert!(store.revoke(user, &auditor).await.unwrap());
    server
        .get_until(verify, &quinn, StatusCode::FORBIDDEN, deadline)
        .await;
    pool.close().await;
}
