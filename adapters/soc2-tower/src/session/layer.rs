//! `SessionLayer`: the configuration, shared by every service it builds.

use std::sync::Arc;

use soc2_core::Clock;
#[cfg(feature = "authz")]
use soc2_rbac::Authorizer;
use soc2_session::SessionManager;
use soc2_web::SessionResolver;
use tower::Layer;

use super::SessionService;
use crate::{AllowedOrigins, SessionCookie, TrustedProxies};

/// Resolves sessions, checks CSRF and the client address.
///
/// For every request, [`SessionLayer`] runs soc2-web's
/// [`SessionResolver`](soc2_web::SessionResolver) (the socket peer comes from axum's
/// `ConnectInfo<SocketAddr>`):
///
/// 1. resolves the client address (socket peer, or the right-most untrusted
///    `X-Forwarded-For` entry behind [`TrustedProxies`]) and puts a
///    [`RequestContext`](soc2_core::RequestContext) with it, the user agent and any
///    `X-Request-Id` into the extensions ([`ClientContext`](crate::ClientContext) reads it);
/// 2. takes the session token from `Authorization: Bearer`, else from the
///    [`SessionCookie`], and validates it with
///    [`SessionManager::validate`](soc2_session::SessionManager::validate) (idle and absolute
///    timeouts, touch);
/// 3. on unsafe methods (anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`) refuses with 403
///    `{"error":"csrf"}` a cookie-authenticated request whose `Origin` (or `Referer`) is not
///    in [`AllowedOrigins`] or whose `X-CSRF-Token` is not the session's [`CsrfToken`], and
///    any request that names a foreign `Origin` (login CSRF). Bearer requests are exempt;
/// 4. puts a [`Principal`](crate::Principal) into the extensions when the session is valid,
///    and the [`Authorizer`](soc2_rbac::Authorizer) given to
///    [`SessionLayer::with_authorizer`], if any. Requests without a session pass through:
///    extractors such as [`CurrentUser`](crate::CurrentUser) decide, with the reason the
///    layer recorded.
///
/// [`CsrfToken`]: crate::CsrfToken
#[derive(Debug, Clone)]
pub struct SessionLayer {
    resolver: Arc<SessionResolver>,
}

impl SessionLayer {
    /// A layer validating sessions with `manager`, reading freshness against `clock` (the
    /// manager's), with the secure [`SessionCookie`], no allowed origin (every unsafe
    /// cookie-authenticated request is refused until [`SessionLayer::with_allowed_origins`])
    /// and no trusted proxy.
    #[must_use]
    pub fn new(manager: SessionManager, clock: Arc<dyn Clock>) -> Self {
        Self {
            resolver: Arc::new(SessionResolver::new(manager, clock)),
        }
    }

    /// Uses `cookie` (e.g. the development cookie).
    #[must_use]
    pub fn with_cookie(self, cookie: SessionCookie) -> Self {
        self.map(|resolver| resolver.with_cookie(cookie))
    }

    /// The origins whose pages may send unsafe cookie-authenticated requests.
    #[must_use]
    pub fn with_allowed_origins(self, origins: AllowedOrigins) -> Self {
        self.map(|resolver| resolver.with_allowed_origins(origins))
    }

    /// The reverse proxies whose `X-Forwarded-For` entries are believed.
    #[must_use]
    pub fn with_trusted_proxies(self, proxies: TrustedProxies) -> Self {
        self.map(|resolver| resolver.with_trusted_proxies(proxies))
    }

    /// The authorizer the [`Authorize`](crate::Authorize) extractor and the
    /// [`RequireAction`](crate::RequireAction) layer ask.
    #[cfg(feature = "authz")]
    #[must_use]
    pub fn with_authorizer(self, authorizer: Authorizer) -> Self {
        self.map(|resolver| resolver.with_authorizer(authorizer))
    }

    /// The cookie the layer reads, so handlers set the same one at login.
    #[must_use]
    pub fn cookie(&self) -> &SessionCookie {
        self.resolver.cookie()
    }

    fn map(self, change: impl FnOnce(SessionResolver) -> SessionResolver) -> Self {
        Self {
            resolver: Arc::new(change(Arc::unwrap_or_clone(self.resolver))),
        }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, Arc::clone(&self.resolver))
    }
}
