//! End-to-end tests of the reference server on SQLite, over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{STRONG, TestServer, flows};
use hyper::StatusCode;
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
    let reply = server.login_reply("admin", &generated).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!({
            "status": "password_change_required",
            "reason": "administrator_required",
            "change_endpoint": "/api/auth/password",
        })
    );
    assert!(reply.header("set-cookie").is_none());
    let change = |current: &str| json!({"username": "admin", "current_password": current, "new_password": STRONG});
    let wrong = server
        .send(
            hyper::Method::POST,
            "/api/auth/password",
            Some(change("not the generated one")),
            &[],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let changed = server
        .send(
            hyper::Method::POST,
            "/api/auth/password",
            Some(change(&generated)),
            &[],
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text());
    let admin = server.login("admin", STRONG).await;
    let me = server.get("/api/me", Some(&admin)).await.json();
    assert_eq!(me["roles"], json!(["admin"]));
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
async fn audit_key_file_is_generated_beside_the_database_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    let config = common::settings(&url, "", "");
    let _server = TestServer::start(&config).await;
    let keys = dir.path().join("keys.db.audit-keys");
    let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(soc2_core::KeyRing::parse(&std::fs::read_to_string(&keys).unwrap()).is_ok());
}
