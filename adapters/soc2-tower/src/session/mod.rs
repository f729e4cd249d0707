//! The session middleware.
//!
//! For every request, [`SessionLayer`]:
//!
//! 1. resolves the client address (socket peer from axum's `ConnectInfo<SocketAddr>`, or the
//!    right-most untrusted `X-Forwarded-For` entry behind [`TrustedProxies`]) and puts a
//!    [`RequestContext`](soc2_core::RequestContext) with it, the user agent and any
//!    `X-Request-Id` into the extensions ([`ClientContext`](crate::ClientContext) reads it);
//! 2. takes the session token from `Authorization: Bearer`, else from the
//!    [`SessionCookie`], and validates it with
//!    [`SessionManager::validate`](soc2_session::SessionManager::validate) (idle and absolute
//!    timeouts, touch);
//! 3. on unsafe methods (anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`) refuses with 403
//!    `{"error":"csrf"}` a cookie-authenticated request whose `Origin` (or `Referer`) is not
//!    in [`AllowedOrigins`] or whose `X-CSRF-Token` is not the session's [`CsrfToken`], and
//!    any request that names a foreign `Origin` (login CSRF). Bearer requests are exempt;
//! 4. puts a [`Principal`](crate::Principal) into the extensions when the session is valid.
//!    Requests without one pass through: extractors such as
//!    [`CurrentUser`](crate::CurrentUser) decide, with the reason the layer recorded.
//!
//! [`TrustedProxies`]: crate::TrustedProxies
//! [`SessionCookie`]: crate::SessionCookie
//! [`AllowedOrigins`]: crate::AllowedOrigins
//! [`CsrfToken`]: crate::CsrfToken

mod layer;
mod service;

pub use layer::SessionLayer;
pub use service::SessionService;

use crate::RejectionKind;

/// Left in the extensions when the request has no valid session: why.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unauthenticated(pub(crate) RejectionKind);
