//! The end-to-end scenarios, run against every backend. Each uses its own usernames, so
//! several can share one server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

use std::time::Duration;

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::{ADMIN_PASSWORD, ORIGIN, STRONG, TestServer};

/// Weak then strong password, duplicate and reserved names, login, `/api/me`.
pub async fn registration_and_login(server: &TestServer) {
    let weak = server.register("alice", "alice2024").await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = weak.json();
    assert_eq!(body["error"], "password_policy");
    let codes: Vec<&str> = body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"too_short"), "{codes:?}");
    assert!(codes.contains(&"contains_user_context"), "{codes:?}");
    assert!(body["violations"][0]["message"].is_string());

    let created = server.register("alice", STRONG).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["username"], "alice");
    let taken = server.register("Alice", STRONG).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.json(), json!({"error": "username_taken"}));
    let reserved = server.register("admin", STRONG).await;
    assert_eq!(reserved.status, StatusCode::CONFLICT);

    let wrong = server.login_reply("alice", "not the password at all").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json(), json!({"error": "invalid_credentials"}));
    let unknown = server.login_reply("nobody", STRONG).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.body, wrong.body);

    let reply = server.login_reply("alice", STRONG).await;
    assert_eq!(reply.status, StatusCode::OK);
    let cookie = reply.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-soc2_session=soc2s_"), "{cookie}");
    assert!(
        cookie.ends_with("; Path=/; HttpOnly; SameSite=Strict; Secure"),
        "{cookie}"
    );
    let alice = server.login("alice", STRONG).await;
    let me = server.get("/api/me", Some(&alice)).await;
    assert_eq!(me.status, StatusCode::OK);
    let me = me.json();
    assert_eq!(me["username"], "alice");
    assert_eq!(me["roles"], json!([]));
    assert_eq!(
        me["mfa"],
        json!({"totp": false, "passkeys": 0, "recovery_codes_left": 0})
    );
    assert_eq!(me["id"], created.json()["id"]);

    let anonymous = server.get("/api/me", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.json(), json!({"error": "unauthenticated"}));
}

/// A cookie POST needs the CSRF token and an allowed origin; bearer requests are exempt;
/// logout deletes the server-side session.
pub async fn csrf_and_logout(server: &TestServer) {
    let bob = server.sign_up("bob").await;
    let cookie = bob.cookie.as_str();

    let no_token = server
        .send(
            Method::POST,
            "/api/auth/logout",
            None,
            &[("cookie", cookie), ("origin", ORIGIN)],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(no_token.json(), json!({"error": "csrf"}));
    let wrong_token = server
        .send(
            Method::POST,
            "/api/auth/logout",
            None,
            &[
                ("cookie", cookie),
                ("origin", ORIGIN),
                ("x-csrf-token", "AAAA"),
            ],
        )
        .await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    let foreign = server
        .send(
            Method::POST,
            "/api/auth/logout",
            None,
            &[
                ("cookie", cookie),
                ("origin", "https://evil.test"),
                ("x-csrf-token", &bob.csrf),
            ],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(foreign.json(), json!({"error": "csrf"}));
    let no_origin = server
        .send(
            Method::POST,
            "/api/auth/logout",
            None,
            &[("cookie", cookie), ("x-csrf-token", &bob.csrf)],
        )
        .await;
    assert_eq!(no_origin.status, StatusCode::FORBIDDEN);
    let login_csrf = server
        .send(
            Method::POST,
            "/api/auth/login",
            Some(json!({"username": "bob", "password": STRONG})),
            &[("origin", "https://evil.test")],
        )
        .await;
    assert_eq!(login_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(
        server.get("/api/me", Some(&bob)).await.status,
        StatusCode::OK
    );

    // The same token as a bearer token needs no CSRF header.
    let second = server.login("bob", STRONG).await;
    let bearer = format!("Bearer {}", second.token());
    let me = server
        .send(Method::GET, "/api/me", None, &[("authorization", &bearer)])
        .await;
    assert_eq!(me.status, StatusCode::OK);
    let out = server
        .send(
            Method::POST,
            "/api/auth/logout",
            None,
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);

    let logout = server
        .unsafe_request(Method::POST, "/api/auth/logout", None, &bob)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(
        logout.header("set-cookie"),
        Some("__Host-soc2_session=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0")
    );
    let after = server.get("/api/me", Some(&bob)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.json(), json!({"error": "unauthenticated"}));
}

/// After the threshold the right password answers exactly like a wrong one, until an
/// administrator unlocks.
pub async fn lockout(server: &TestServer) {
    server.create_user("carol").await;
    let mut refusals = Vec::new();
    for _ in 0..3 {
        refusals.push(server.login_reply("carol", "wrong wrong wrong wrong").await);
    }
    let locked = server.login_reply("carol", STRONG).await;
    for reply in refusals.iter().chain([&locked]) {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body, br#"{"error":"invalid_credentials"}"#);
    }
    let admin = server.login("admin", ADMIN_PASSWORD).await;
    let not_admin = server.sign_up("carol2").await;
    let forbidden = server
        .unsafe_request(
            Method::POST,
            "/api/admin/users/carol/unlock",
            None,
            &not_admin,
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(forbidden.json(), json!({"error": "forbidden"}));
    let missing = server
        .unsafe_request(Method::POST, "/api/admin/users/nobody/unlock", None, &admin)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let unlock = server
        .unsafe_request(Method::POST, "/api/admin/users/carol/unlock", None, &admin)
        .await;
    assert_eq!(unlock.status, StatusCode::NO_CONTENT);
    server.login("carol", STRONG).await;

    server
        .assert_audited(&[
            "auth.lockout.locked",
            "auth.lockout.unlocked",
            "authz.denied",
        ])
        .await;
}

/// Reuse is refused, a wrong current password too, and a change ends the other sessions.
pub async fn password_change(server: &TestServer) {
    let here = server.sign_up("dave").await;
    let elsewhere = server.login("dave", STRONG).await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});

    let reused = server
        .unsafe_request(
            Method::PUT,
            "/api/me/password",
            Some(change(STRONG, STRONG)),
            &here,
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.json()["error"], "password_policy");
    assert_eq!(reused.json()["violations"][0]["code"], "reused");
    let wrong = server
        .unsafe_request(
            Method::PUT,
            "/api/me/password",
            Some(change(
                "not my password at all",
                "vivid ocelot prism 77 harbor",
            )),
            &here,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.json(), json!({"error": "invalid_current_password"}));
    let new = "vivid ocelot prism 77 harbor";
    let changed = server
        .unsafe_request(
            Method::PUT,
            "/api/me/password",
            Some(change(STRONG, new)),
            &here,
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text());
    assert_eq!(
        server.get("/api/me", Some(&here)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.get("/api/me", Some(&elsewhere)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login_reply("dave", STRONG).await.status,
        StatusCode::UNAUTHORIZED
    );
    server.login("dave", new).await;
}

/// The user lists sessions and ends one by id; another user's id is not found.
pub async fn sessions_by_id(server: &TestServer) {
    let first = server.sign_up("erin").await;
    let second = server.login("erin", STRONG).await;
    let listed = server.get("/api/me/sessions", Some(&first)).await.json();
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["factors"], json!(["password"]));
    assert_eq!(current[0]["client_ip"], "127.0.0.1");
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let path = format!("/api/me/sessions/{}", other["id"].as_str().unwrap());

    let stranger = server.sign_up("erin2").await;
    let foreign = server
        .unsafe_request(Method::DELETE, &path, None, &stranger)
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    let ended = server
        .unsafe_request(Method::DELETE, &path, None, &first)
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/api/me", Some(&second)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.get("/api/me", Some(&first)).await.status,
        StatusCode::OK
    );
}

/// Reads keep a session alive; after the idle timeout it is gone, and audited as expired.
pub async fn idle_timeout(server: &TestServer) {
    let frank = server.sign_up("frank").await;
    server.clock.advance(Duration::from_secs(4 * 60));
    assert_eq!(
        server.get("/api/me", Some(&frank)).await.status,
        StatusCode::OK
    );
    server.clock.advance(Duration::from_secs(4 * 60));
    assert_eq!(
        server.get("/api/me", Some(&frank)).await.status,
        StatusCode::OK
    );
    server.clock.advance(Duration::from_secs(5 * 60));
    let expired = server.get("/api/me", Some(&frank)).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.json(), json!({"error": "unauthenticated"}));
    server.assert_audited(&["session.expired"]).await;
}

/// The administrator exports the log as JSON Lines and CSV and verifies the chain.
pub async fn audit_export_and_verify(server: &TestServer) {
    let grace = server.sign_up("grace").await;
    let refused = server.get("/api/admin/audit/verify", Some(&grace)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let admin = server.login("admin", ADMIN_PASSWORD).await;
    let me = server.get("/api/me", Some(&admin)).await.json();
    assert_eq!(me["roles"], json!(["admin"]));
    let not_an_auditor = server.get("/api/admin/audit/verify", Some(&admin)).await;
    assert_eq!(not_an_auditor.status, StatusCode::FORBIDDEN);
    let auditor = server.auditor().await;
    let verified = server.get("/api/admin/audit/verify", Some(&auditor)).await;
    assert_eq!(verified.status, StatusCode::OK);
    let verified = verified.json();
    assert_eq!(verified["ok"], true);
    let checked = verified["checked"].as_u64().unwrap();
    assert!(checked >= 6, "{verified}");
    assert_eq!(verified["last_seq"].as_u64(), Some(checked));

    server
        .assert_audited(&[
            "auth.password.set",
            "auth.password.verified",
            "session.created",
            "authz.denied",
        ])
        .await;
    let csv = server
        .get(
            "/api/admin/audit?format=csv&from=2026-01-01&to=2027-01-01",
            Some(&auditor),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.text().starts_with("seq,event_id,occurred_at,"),
        "{}",
        csv.text()
    );
    let empty = server
        .get(
            "/api/admin/audit?from=2020-01-01&to=2020-01-02",
            Some(&auditor),
        )
        .await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.text(), "");
    let bad = server
        .get("/api/admin/audit?format=xml", Some(&auditor))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
