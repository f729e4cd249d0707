//! End-to-end tests of the reference server on SQLite, over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Browser, STRONG, TestServer, flows, mfa, rbac};
use hyper::{Method, StatusCode};
use serde_json::json;

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
    assert_eq!(
        server.register("olga", STRONG).await.status,
        StatusCode::CREATED
    );
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
    assert_eq!(
        server.register("una", STRONG).await.status,
        StatusCode::CREATED
    );
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
