//! `SessionResolver` without a web framework: the typed reasons adapters hand to hosts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Head, resolver, state};
use soc2_core::UserId;
use soc2_session::Expiry;
use soc2_testkit::web::{ORIGIN, WebApp};
use soc2_web::{CsrfToken, RejectionKind, Transport, current_user, fresh_auth};

#[tokio::test]
async fn missing_and_bad_credentials_have_distinct_kinds() {
    let app = WebApp::new().await;
    let kind = |state: &soc2_web::SessionState| current_user(Some(state)).unwrap_err();
    assert_eq!(
        kind(&state(&app, &Head::get()).await),
        RejectionKind::NoCredentials
    );
    for head in [
        Head::get().header("cookie", "__Host-soc2_session=soc2s_nope"),
        Head::get().header("authorization", "Bearer soc2s_nope"),
        Head::get().header("authorization", &format!("Bearer {}", "x".repeat(10_000))),
    ] {
        assert_eq!(
            kind(&state(&app, &head).await),
            RejectionKind::InvalidSession,
            "{head:?}"
        );
    }
    assert_eq!(current_user(None).unwrap_err(), RejectionKind::MissingLayer);
    assert_eq!(
        fresh_auth(None, 5).unwrap_err(),
        RejectionKind::MissingLayer
    );
}

#[tokio::test]
async fn bearer_wins_over_cookie_and_timeouts_are_typed() {
    let app = WebApp::new().await;
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let (alice_token, bob_token) = (app.login(alice).await, app.login(bob).await);
    let cookie = format!("__Host-soc2_session={}", alice_token.expose_secret());
    let both = Head::get().header("cookie", &cookie).header(
        "authorization",
        &format!("bearer {}", bob_token.expose_secret()),
    );
    let principal = current_user(Some(&state(&app, &both).await)).unwrap();
    assert_eq!(
        (principal.user_id(), principal.transport()),
        (bob, Transport::Bearer)
    );
    let by_cookie = Head::get().header("cookie", &cookie);
    let state_now = state(&app, &by_cookie).await;
    assert_eq!(
        current_user(Some(&state_now)).unwrap().transport(),
        Transport::Cookie
    );
    app.clock.advance(Duration::from_secs(6 * 60));
    let later = state(&app, &by_cookie).await;
    assert_eq!(
        fresh_auth(Some(&later), 5).unwrap_err(),
        RejectionKind::StepUpRequired
    );
    assert_eq!(fresh_auth(Some(&later), 10).unwrap().user_id(), alice);
    app.clock.advance(Duration::from_secs(16 * 60));
    assert_eq!(
        current_user(Some(&state(&app, &by_cookie).await)).unwrap_err(),
        RejectionKind::Expired(Expiry::Idle)
    );
}

#[tokio::test]
async fn csrf_refusals_say_which_check_failed() {
    let app = WebApp::new().await;
    let token = app.login(UserId::new_v7()).await;
    let cookie = format!("__Host-soc2_session={}", token.expose_secret());
    let csrf = CsrfToken::for_session(&token);
    let resolver = resolver(&app);
    let refusal = |head: Head| {
        let resolver = resolver.clone();
        async move { resolver.resolve(&head).await.err() }
    };
    let post = || Head::post().header("cookie", &cookie);
    assert_eq!(
        refusal(post().header("x-csrf-token", csrf.as_str())).await,
        Some(RejectionKind::CsrfOrigin)
    );
    assert_eq!(
        refusal(post().header("origin", ORIGIN)).await,
        Some(RejectionKind::CsrfToken)
    );
    assert_eq!(
        refusal(
            post()
                .header("origin", ORIGIN)
                .header("x-csrf-token", csrf.as_str())
        )
        .await,
        None
    );
    assert_eq!(
        refusal(Head::get().header("origin", "https://evil.example")).await,
        None
    );
    assert_eq!(
        refusal(Head::post().header("origin", "https://evil.example")).await,
        Some(RejectionKind::CsrfOrigin)
    );
    for safe in ["GET", "HEAD", "OPTIONS", "TRACE"] {
        let mut head = Head::get().header("cookie", &cookie);
        head.method = safe;
        assert_eq!(refusal(head).await, None, "{safe}");
    }
}

#[tokio::test]
async fn the_context_carries_address_agent_and_request_id() {
    let app = WebApp::new().await;
    let resolver = resolver(&app);
    let head = Head::get()
        .peer(Some("127.0.0.1"))
        .header("x-forwarded-for", "6.6.6.6, 198.51.100.7")
        .header("user-agent", "curl/8")
        .header("x-request-id", "req-1");
    let context = resolver.resolve(&head).await.unwrap().context;
    assert_eq!(context.client_ip(), Some("198.51.100.7".parse().unwrap()));
    assert_eq!(context.user_agent(), Some("curl/8"));
    assert_eq!(context.request_id(), Some("req-1"));
    let untrusted = Head::get().header("x-forwarded-for", "198.51.100.7");
    let context = resolver.resolve(&untrusted).await.unwrap().context;
    assert_eq!(context.client_ip(), Some("203.0.113.9".parse().unwrap()));
    let no_peer = Head::get().peer(None);
    assert_eq!(
        resolver
            .resolve(&no_peer)
            .await
            .unwrap()
            .context
            .client_ip(),
        None
    );
}
