//! The layers and extractors over real HTTP (the web adapters' conformance suite), with
//! memory stores and a manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use soc2_rbac::ResourceRef;
use soc2_session::SessionToken;
use soc2_testkit::web::{ORIGIN, Served, TRUSTED_PROXY, WebAdapter, WebApp};
use soc2_tower::{
    AllowedOrigins, Authorize, ClientContext, CsrfToken, CurrentUser, FreshAuth, LoginThrottle,
    LoginThrottleLayer, Rejection, RequireAction, SessionLayer, TrustedProxies,
};

struct Axum;

impl WebAdapter for Axum {
    fn serve(&self, app: &WebApp) -> Served {
        let layer = SessionLayer::new(app.sessions.clone(), app.clock.clone())
            .with_allowed_origins(AllowedOrigins::new([ORIGIN]).unwrap())
            .with_trusted_proxies(TrustedProxies::parse([TRUSTED_PROXY]).unwrap())
            .with_authorizer(app.authorizer.clone());
        let throttle = LoginThrottle::new(
            app.lockouts.clone(),
            app.lockout_policy.clone(),
            app.audit.clone(),
            app.clock.clone(),
        );
        let router = Router::new()
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
            .route("/changes/{id}/approve", post(approve))
            .route(
                "/audit",
                get(|| async { "audit" }).route_layer(RequireAction::new("read_audit", |_| {
                    ResourceRef::new("AuditLog", "main")
                })),
            )
            .route(
                "/login",
                post(|| async { "login" }).route_layer(LoginThrottleLayer::new(throttle)),
            )
            .layer(layer)
            .route("/bare", get(|_: CurrentUser| async { "unreachable" }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Served {
            addr,
            guard: Box::new(server),
        }
    }

    fn csrf_token(token: &SessionToken) -> String {
        CsrfToken::for_session(token).as_str().to_owned()
    }
}

async fn approve(authorize: Authorize, Path(id): Path<String>) -> Result<&'static str, Rejection> {
    let change = ResourceRef::new("Change", id);
    authorize
        .require("approve_change", &change, serde_json::Value::Null)
        .await?;
    Ok("approved")
}

soc2_testkit::web_adapter_conformance!(Axum);
