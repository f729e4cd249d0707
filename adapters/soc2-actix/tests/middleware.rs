//! The middleware and extractors over real HTTP (the web adapters' conformance suite) on
//! actix's test server, with memory stores and a manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use actix_web::{App, web};
use soc2_actix::{
    AllowedOrigins, Authorize, ClientContext, CsrfToken, CurrentUser, FreshAuth, LoginThrottle,
    LoginThrottleMiddleware, Rejection, RequireAction, SessionMiddleware, TrustedProxies,
};
use soc2_rbac::ResourceRef;
use soc2_session::SessionToken;
use soc2_testkit::web::{ORIGIN, Served, TRUSTED_PROXY, WebAdapter, WebApp};

struct Actix;

impl WebAdapter for Actix {
    fn serve(&self, app: &WebApp) -> Served {
        let session = SessionMiddleware::new(app.sessions.clone(), app.clock.clone())
            .with_allowed_origins(AllowedOrigins::new([ORIGIN]).unwrap())
            .with_trusted_proxies(TrustedProxies::parse([TRUSTED_PROXY]).unwrap())
            .with_authorizer(app.authorizer.clone());
        let throttle = LoginThrottleMiddleware::new(LoginThrottle::new(
            app.lockouts.clone(),
            app.lockout_policy.clone(),
            app.audit.clone(),
            app.clock.clone(),
        ));
        let server = actix_test::start(move || {
            let guarded = web::scope("")
                .wrap(session.clone())
                .route(
                    "/me",
                    web::get().to(|CurrentUser(user): CurrentUser| async move {
                        user.user_id().to_string()
                    }),
                )
                .route("/fresh", web::get().to(|_: FreshAuth<5>| async { "fresh" }))
                .route(
                    "/ip",
                    web::get().to(|ClientContext(context): ClientContext| async move {
                        context
                            .client_ip()
                            .map(|ip| ip.to_string())
                            .unwrap_or_default()
                    }),
                )
                .route(
                    "/write",
                    web::post().to(|_: CurrentUser| async { "written" }),
                )
                .route("/changes/{id}/approve", web::post().to(approve))
                .service(
                    web::resource("/audit")
                        .wrap(RequireAction::new("read_audit", |_| {
                            ResourceRef::new("AuditLog", "main")
                        }))
                        .route(web::get().to(|| async { "audit" })),
                )
                .service(
                    web::resource("/login")
                        .wrap(throttle.clone())
                        .route(web::post().to(|| async { "login" })),
                );
            App::new()
                .route(
                    "/bare",
                    web::get().to(|_: CurrentUser| async { "unreachable" }),
                )
                .service(guarded)
        });
        Served {
            addr: server.addr(),
            guard: Box::new(server),
        }
    }

    fn csrf_token(token: &SessionToken) -> String {
        CsrfToken::for_session(token).as_str().to_owned()
    }
}

async fn approve(authorize: Authorize, id: web::Path<String>) -> Result<&'static str, Rejection> {
    let change = ResourceRef::new("Change", id.into_inner());
    authorize
        .require("approve_change", &change, serde_json::Value::Null)
        .await?;
    Ok("approved")
}

soc2_testkit::web_adapter_conformance!(Actix);
