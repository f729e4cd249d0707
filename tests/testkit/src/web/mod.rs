//! The web adapters' conformance suite: the same requests, over real HTTP, against the same
//! routes served by each adapter (soc2-tower with axum, soc2-actix with actix-web).
//!
//! An adapter's test file implements [`WebAdapter`], serving these routes over a
//! [`WebApp`]'s services with the session middleware configured with
//! `AllowedOrigins::new([ORIGIN])`, `TrustedProxies::parse([TRUSTED_PROXY])` and the app's
//! authorizer:
//!
//! | route | handler |
//! |---|---|
//! | `GET /me` | `CurrentUser`: the user id |
//! | `GET /fresh` | `FreshAuth<5>`: `fresh` |
//! | `GET /ip` | `ClientContext`: the client address |
//! | `POST /write` | `CurrentUser`: `written` |
//! | `POST /changes/{id}/approve` | `Authorize::require("approve_change", Change {id}, null)`: `approved` |
//! | `GET /audit` | behind `RequireAction("read_audit", AuditLog "main")`: `audit` |
//! | `POST /login` | behind the login throttle over the app's lockout store and policy: `login` |
//! | `GET /bare` | `CurrentUser`, outside the session middleware |
//!
//! and invokes the macro, which expands to one `#[tokio::test]` per case:
//!
//! ```text
//! soc2_testkit::web_adapter_conformance!(MyAdapter);
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod app;
mod cases;
mod client;

use std::any::Any;
use std::net::SocketAddr;

use soc2_session::SessionToken;

pub use app::{BROKEN_CHANGE, IP_THRESHOLD, IP_WINDOW, WebApp};
pub use cases::*;
pub use client::{Harness, Login, Reply, TRUSTED_PEER, UNTRUSTED_PEER};

/// The only origin whose pages may send unsafe cookie-authenticated requests.
pub const ORIGIN: &str = "https://app.example";
/// The proxy whose `X-Forwarded-For` entries the adapters believe ([`TRUSTED_PEER`]).
pub const TRUSTED_PROXY: &str = "127.0.0.1";

/// A web framework adapter under test.
pub trait WebAdapter {
    /// Serves the routes of the [module docs](self) over `app` on a loopback port (bound to
    /// `127.0.0.1`), with the peer address passed to the middleware.
    fn serve(&self, app: &WebApp) -> Served;

    /// The CSRF token of the session `token` (the adapter's `CsrfToken::for_session`).
    fn csrf_token(token: &SessionToken) -> String;
}

/// A running test server.
#[derive(Debug)]
pub struct Served {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Keeps the server running (dropped with the test).
    pub guard: Box<dyn Any>,
}

/// One `#[tokio::test]` per case of this suite, for the adapter `$adapter`.
#[macro_export]
macro_rules! web_adapter_conformance {
    ($adapter:expr) => {
        $crate::web_adapter_conformance!(@cases $adapter;
            requests_without_a_session_are_rejected_with_a_generic_body,
            cookie_and_bearer_sessions_resolve_the_user,
            step_up_and_idle_timeout_follow_the_clock,
            unsafe_cookie_requests_need_origin_and_token_but_bearer_does_not,
            client_ip_is_the_right_most_untrusted_forwarded_entry,
            authorization_allows_and_audits_denials,
            authorization_fails_closed,
            fixed_actions_are_authorized_before_the_handler,
            throttled_addresses_get_429_with_retry_after,
        );
    };
    (@cases $adapter:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::web::$case(&$adapter).await;
            }
        )*
    };
}
