//! The layer and extractors over real HTTP, with memory stores and a manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use soc2_audit::{AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_core::{Clock, KeyId, KeyRing, ManualClock, Preset, RequestContext, UserId};
use soc2_session::{Factor, MemorySessionStore, SessionManager, SessionPolicy};
use soc2_tower::{
    AllowedOrigins, ClientContext, CsrfToken, CurrentUser, FreshAuth, SessionLayer, TrustedProxies,
};
use time::macros::datetime;

const ORIGIN: &str = "https://app.example";

struct Harness {
    addr: SocketAddr,
    clock: Arc<ManualClock>,
    manager: SessionManager,
}

async fn start() -> Harness {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
    let keys = KeyRing::single(KeyId::new("k").unwrap(), [1; 32]);
    let audit = AuditLog::start(
        Arc::new(MemoryAuditStore::new(&keys)),
        AuditLogConfig::default(),
    );
    let manager = SessionManager::new(
        Arc::new(MemorySessionStore::new()),
        SessionPolicy::from_preset(Preset::Soc2Strict),
        clock.clone() as Arc<dyn Clock>,
        audit,
    );
    let layer = SessionLayer::new(manager.clone(), clock.clone())
        .with_allowed_origins(AllowedOrigins::new([ORIGIN]).unwrap())
        .with_trusted_proxies(TrustedProxies::parse(["127.0.0.1"]).unwrap());
    let app = Router::new()
        .route(
            "/me",
            get(|CurrentUser(user): CurrentUser| async move { user.user_id().to_string() }),
        )
        .route("/fresh", get(|_: FreshAuth<5>| async { "fresh" }))
        .route(
            "/ip",
            get(|ClientContext(context): ClientContext| async move {
                context
                    .client_ip()
                    .map(|ip| ip.to_string())
                    .unwrap_or_default()
            }),
        )
        .route("/write", post(|_: CurrentUser| async { "written" }))
        .layer(layer)
        .route("/bare", get(|_: CurrentUser| async { "unreachable" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Harness {
        addr,
        clock,
        manager,
    }
}

impl Harness {
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let client = Client::builder(TokioExecutor::new()).build_http();
        let response = client
            .request(request.body(Full::new(Bytes::new())).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn login(&self, user: UserId) -> (String, String) {
        let (token, _) = self
            .manager
            .create(user, &[Factor::Password], &RequestContext::new())
            .await
            .unwrap();
        let csrf = CsrfToken::for_session(&token);
        (
            format!("__Host-soc2_session={}", token.expose_secret()),
            csrf.as_str().to_owned(),
        )
    }
}

#[tokio::test]
async fn requests_without_a_session_are_rejected_with_a_generic_body() {
    let harness = start().await;
    let unauthenticated = (
        StatusCode::UNAUTHORIZED,
        r#"{"error":"unauthenticated"}"#.into(),
    );
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
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":"internal"}"#.into()
        )
    );
}

#[tokio::test]
async fn cookie_and_bearer_sessions_resolve_the_user() {
    let harness = start().await;
    let user = UserId::new_v7();
    let (cookie, _) = harness.login(user).await;
    let by_cookie = harness
        .send(Method::GET, "/me", &[("cookie", &cookie)])
        .await;
    assert_eq!(by_cookie, (StatusCode::OK, user.to_string()));
    let token = cookie.split_once('=').unwrap().1;
    let bearer = format!("Bearer {token}");
    let by_bearer = harness
        .send(Method::GET, "/me", &[("authorization", &bearer)])
        .await;
    assert_eq!(by_bearer, (StatusCode::OK, user.to_string()));
}

#[tokio::test]
async fn step_up_and_idle_timeout_follow_the_clock() {
    let harness = start().await;
    let (cookie, _) = harness.login(UserId::new_v7()).await;
    let headers = [("cookie", cookie.as_str())];
    assert_eq!(
        harness.send(Method::GET, "/fresh", &headers).await.0,
        StatusCode::OK
    );
    harness.clock.advance(Duration::from_secs(6 * 60));
    assert_eq!(
        harness.send(Method::GET, "/fresh", &headers).await,
        (
            StatusCode::FORBIDDEN,
            r#"{"error":"reauthentication_required"}"#.into()
        )
    );
    assert_eq!(
        harness.send(Method::GET, "/me", &headers).await.0,
        StatusCode::OK
    );
    harness.clock.advance(Duration::from_secs(16 * 60));
    assert_eq!(
        harness.send(Method::GET, "/me", &headers).await,
        (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"unauthenticated"}"#.into()
        )
    );
}

#[tokio::test]
async fn unsafe_cookie_requests_need_origin_and_token_but_bearer_does_not() {
    let harness = start().await;
    let (cookie, csrf) = harness.login(UserId::new_v7()).await;
    let refused = (StatusCode::FORBIDDEN, r#"{"error":"csrf"}"#.to_owned());
    let cases: [(&[(&str, &str)], _); 4] = [
        (&[("cookie", &cookie), ("origin", ORIGIN)], refused.clone()),
        (
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            refused.clone(),
        ),
        (
            &[
                ("cookie", &cookie),
                ("origin", "https://evil.example"),
                ("x-csrf-token", &csrf),
            ],
            refused.clone(),
        ),
        (
            &[
                ("cookie", &cookie),
                ("referer", "https://app.example/page"),
                ("x-csrf-token", &csrf),
            ],
            (StatusCode::OK, "written".into()),
        ),
    ];
    for (headers, expected) in cases {
        assert_eq!(
            harness.send(Method::POST, "/write", headers).await,
            expected,
            "{headers:?}"
        );
    }
    let bearer = format!("Bearer {}", cookie.split_once('=').unwrap().1);
    assert_eq!(
        harness
            .send(Method::POST, "/write", &[("authorization", &bearer)])
            .await,
        (StatusCode::OK, "written".into())
    );
    let anonymous_foreign = [("origin", "https://evil.example")];
    assert_eq!(
        harness
            .send(Method::POST, "/write", &anonymous_foreign)
            .await,
        refused
    );
}

#[tokio::test]
async fn client_ip_is_the_right_most_untrusted_forwarded_entry() {
    let harness = start().await;
    let forwarded = [("x-forwarded-for", "6.6.6.6, 198.51.100.7")];
    assert_eq!(
        harness.send(Method::GET, "/ip", &forwarded).await,
        (StatusCode::OK, "198.51.100.7".into())
    );
    assert_eq!(
        harness.send(Method::GET, "/ip", &[]).await,
        (StatusCode::OK, "127.0.0.1".into())
    );
}
