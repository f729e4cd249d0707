//! The cases, each over a fresh app served by the adapter under test.

use std::time::Duration;

use hyper::Method;
use serde_json::json;
use soc2_auth::{IpOp, LockoutStore};
use soc2_core::{Clock, UserId};
use soc2_rbac::{ResourceEntity, ResourceRef};

use super::{
    BROKEN_CHANGE, Harness, IP_THRESHOLD, IP_WINDOW, Login, ORIGIN, Reply, TRUSTED_PEER,
    UNTRUSTED_PEER, WebAdapter,
};

fn error(status: u16, code: &str) -> (u16, String) {
    (status, format!(r#"{{"error":"{code}"}}"#))
}

fn ok(body: &str) -> (u16, String) {
    (200, body.to_owned())
}

pub async fn requests_without_a_session_are_rejected_with_a_generic_body(
    adapter: &impl WebAdapter,
) {
    let harness = Harness::start(adapter).await;
    let unauthenticated = error(401, "unauthenticated");
    assert_eq!(harness.send(Method::GET, "/me", &[]).await, unauthenticated);
    let garbage = [("cookie", "__Host-soc2_session=soc2s_nope")];
    assert_eq!(
        harness.send(Method::GET, "/me", &garbage).await,
        unauthenticated
    );
    let bearer = [("authorization", "Bearer soc2s_nope")];
    assert_eq!(
        harness.send(Method::GET, "/me", &bearer).await,
        unauthenticated
    );
    assert_eq!(
        harness.send(Method::GET, "/bare", &[]).await,
        error(500, "internal")
    );
}

pub async fn cookie_and_bearer_sessions_resolve_the_user(adapter: &impl WebAdapter) {
    let harness = Harness::start(adapter).await;
    let login = harness.login(UserId::new_v7()).await;
    let user = login.user.to_string();
    let by_cookie = [("cookie", login.cookie.as_str())];
    assert_eq!(
        harness.send(Method::GET, "/me", &by_cookie).await,
        ok(&user)
    );
    let by_bearer = [("authorization", login.bearer.as_str())];
    assert_eq!(
        harness.send(Method::GET, "/me", &by_bearer).await,
        ok(&user)
    );
}

pub async fn step_up_and_idle_timeout_follow_the_clock(adapter: &impl WebAdapter) {
    let harness = Harness::start(adapter).await;
    let login = harness.login(UserId::new_v7()).await;
    let headers = [("cookie", login.cookie.as_str())];
    assert_eq!(
        harness.send(Method::GET, "/fresh", &headers).await,
        ok("fresh")
    );
    harness.app.clock.advance(Duration::from_secs(6 * 60));
    assert_eq!(
        harness.send(Method::GET, "/fresh", &headers).await,
        error(403, "reauthentication_required")
    );
    assert_eq!(harness.send(Method::GET, "/me", &headers).await.0, 200);
    // Soc2Strict's idle timeout is 15 minutes; the request above was the last activity.
    harness.app.clock.advance(Duration::from_secs(16 * 60));
    assert_eq!(
        harness.send(Method::GET, "/me", &headers).await,
        error(401, "unauthenticated")
    );
}

pub async fn unsafe_cookie_requests_need_origin_and_token_but_bearer_does_not(
    adapter: &impl WebAdapter,
) {
    let harness = Harness::start(adapter).await;
    let Login {
        cookie,
        csrf,
        bearer,
        ..
    } = harness.login(UserId::new_v7()).await;
    let (cookie, csrf) = (cookie.as_str(), csrf.as_str());
    let refused = error(403, "csrf");
    let cases: [(&[(&str, &str)], _); 5] = [
        (&[("cookie", cookie), ("origin", ORIGIN)], refused.clone()),
        (
            &[("cookie", cookie), ("x-csrf-token", csrf)],
            refused.clone(),
        ),
        (
            &[
                ("cookie", cookie),
                ("origin", "https://evil.example"),
                ("x-csrf-token", csrf),
            ],
            refused.clone(),
        ),
        (
            &[
                ("cookie", cookie),
                ("origin", ORIGIN),
                ("x-csrf-token", "AAAA"),
            ],
            refused.clone(),
        ),
        (
            &[
                ("cookie", cookie),
                ("referer", "https://app.example/page"),
                ("x-csrf-token", csrf),
            ],
            ok("written"),
        ),
    ];
    for (headers, expected) in cases {
        assert_eq!(
            harness.send(Method::POST, "/write", headers).await,
            expected,
            "{headers:?}"
        );
    }
    let by_bearer = [("authorization", bearer.as_str())];
    assert_eq!(
        harness.send(Method::POST, "/write", &by_bearer).await,
        ok("written")
    );
    let anonymous_foreign = [("origin", "https://evil.example")];
    assert_eq!(
        harness
            .send(Method::POST, "/write", &anonymous_foreign)
            .await,
        refused
    );
    assert_eq!(
        harness.send(Method::POST, "/write", &[]).await,
        error(401, "unauthenticated")
    );
}

pub async fn client_ip_is_the_right_most_untrusted_forwarded_entry(adapter: &impl WebAdapter) {
    let harness = Harness::start(adapter).await;
    let forwarded = [("x-forwarded-for", "6.6.6.6, 198.51.100.7")];
    assert_eq!(
        harness.send(Method::GET, "/ip", &forwarded).await,
        ok("198.51.100.7")
    );
    assert_eq!(harness.send(Method::GET, "/ip", &[]).await, ok("127.0.0.1"));
    let spoofed = harness
        .send_from(UNTRUSTED_PEER, Method::GET, "/ip", &forwarded)
        .await;
    assert_eq!((spoofed.status, spoofed.body.as_str()), (200, "127.0.0.2"));
}

fn change(requester: UserId, status: &str) -> ResourceEntity {
    ResourceEntity::new()
        .with_attribute("requester", requester)
        .with_attribute("status", status)
}

/// `login` approves the change `id` (bearer, so no CSRF token is needed).
async fn approve(harness: &Harness, login: &Login, id: &str) -> (u16, String) {
    let headers = [("authorization", login.bearer.as_str())];
    let path = format!("/changes/{id}/approve");
    harness.send(Method::POST, &path, &headers).await
}

pub async fn authorization_allows_and_audits_denials(adapter: &impl WebAdapter) {
    let harness = Harness::start(adapter).await;
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    for user in [alice, bob] {
        harness.app.grant(user, "approver").await;
    }
    harness.app.add_resource(
        &ResourceRef::new("Change", "CHG-1"),
        change(alice, "pending"),
    );
    let (alice, bob) = (harness.login(alice).await, harness.login(bob).await);
    assert_eq!(approve(&harness, &bob, "CHG-1").await, ok("approved"));
    assert_eq!(
        approve(&harness, &alice, "CHG-1").await,
        error(403, "forbidden")
    );
    assert_eq!(
        approve(&harness, &bob, "CHG-404").await,
        error(403, "forbidden")
    );
    assert_eq!(
        harness
            .send(Method::POST, "/changes/CHG-1/approve", &[])
            .await,
        error(401, "unauthenticated")
    );
    let denied = harness.app.events_of("authz.denied").await;
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert_eq!(denied[0].0, "denied");
    assert_eq!(denied[0].1["action"], "approve_change");
    assert_eq!(
        denied[0].1["policies"],
        json!(["changes.approve-own-forbidden"])
    );
    assert_eq!(denied[1].0, "error");
}

pub async fn authorization_fails_closed(adapter: &impl WebAdapter) {
    let harness = Harness::start(adapter).await;
    let user = UserId::new_v7();
    harness.app.grant(user, "approver").await;
    let login = harness.login(user).await;
    assert_eq!(
        approve(&harness, &login, BROKEN_CHANGE).await,
        error(503, "unavailable")
    );
    let denied = harness.app.events_of("authz.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].0, "error");
}

pub async fn fixed_actions_are_authorized_before_the_handler(adapter: &impl WebAdapter) {
    let harness = Harness::start(adapter).await;
    harness
        .app
        .add_resource(&ResourceRef::new("AuditLog", "main"), ResourceEntity::new());
    let (auditor, engineer) = (UserId::new_v7(), UserId::new_v7());
    harness.app.grant(auditor, "auditor").await;
    harness.app.grant(engineer, "engineer").await;
    for (user, expected) in [(auditor, ok("audit")), (engineer, error(403, "forbidden"))] {
        let login = harness.login(user).await;
        let headers = [("authorization", login.bearer.as_str())];
        assert_eq!(
            harness.send(Method::GET, "/audit", &headers).await,
            expected
        );
    }
    assert_eq!(
        harness.send(Method::GET, "/audit", &[]).await,
        error(401, "unauthenticated")
    );
    let denied = harness.app.events_of("authz.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].1["action"], "read_audit");
}

pub async fn throttled_addresses_get_429_with_retry_after(adapter: &impl WebAdapter) {
    let harness = Harness::start(adapter).await;
    let app = &harness.app;
    let attacker = "198.51.100.7".parse().unwrap();
    for _ in 0..IP_THRESHOLD {
        app.lockouts
            .apply_ip(attacker, IpOp::Fail, app.clock.now(), &app.lockout_policy)
            .await
            .unwrap();
    }
    let from_attacker = [("x-forwarded-for", "198.51.100.7")];
    let throttled = harness
        .send_from(TRUSTED_PEER, Method::POST, "/login", &from_attacker)
        .await;
    assert_eq!(
        throttled,
        Reply {
            status: 429,
            retry_after: Some(IP_WINDOW.as_secs().to_string()),
            body: r#"{"error":"too_many_requests"}"#.into(),
        }
    );
    assert_eq!(harness.send(Method::POST, "/login", &[]).await, ok("login"));
    // An untrusted peer cannot borrow (or escape into) another address's budget.
    let spoofed = harness
        .send_from(UNTRUSTED_PEER, Method::POST, "/login", &from_attacker)
        .await;
    assert_eq!((spoofed.status, spoofed.body.as_str()), (200, "login"));
    let events = app.events_of("auth.login.throttled").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "denied");
    assert_eq!(events[0].1["retry_after_secs"], IP_WINDOW.as_secs());
    assert_eq!(events[0].2, "198.51.100.7");
    app.clock.advance(IP_WINDOW * 2);
    assert_eq!(
        harness.send(Method::POST, "/login", &from_attacker).await,
        ok("login")
    );
}
