//! `SessionResolver`: what the session middleware of every adapter does to a request.

use std::sync::Arc;

use soc2_core::{Clock, RequestContext};
#[cfg(feature = "authz")]
use soc2_rbac::Authorizer;
use soc2_session::{SessionError, SessionManager, SessionToken};

use crate::client_ip::X_FORWARDED_FOR;
use crate::csrf::OriginCheck;
use crate::request::is_unsafe;
use crate::{
    AllowedOrigins, CSRF_HEADER, CsrfToken, Principal, RejectionKind, RequestHead, SessionCookie,
    SessionState, Transport, TrustedProxies,
};

const AUTHORIZATION: &str = "authorization";
const COOKIE: &str = "cookie";
const ORIGIN: &str = "origin";
const REFERER: &str = "referer";
const USER_AGENT: &str = "user-agent";
const X_REQUEST_ID: &str = "x-request-id";

/// The session middleware's settings and per-request work.
///
/// For every request, [`SessionResolver::resolve`]:
///
/// 1. resolves the client address (the socket peer, or the right-most untrusted
///    `X-Forwarded-For` entry behind [`TrustedProxies`]) into a [`RequestContext`] with the
///    user agent and any `X-Request-Id`;
/// 2. takes the session token from `Authorization: Bearer`, else from the
///    [`SessionCookie`], and validates it with [`SessionManager::validate`] (idle and
///    absolute timeouts, touch);
/// 3. on unsafe methods (anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`) refuses a
///    cookie-authenticated request whose `Origin` (or `Referer`) is not in
///    [`AllowedOrigins`] or whose `X-CSRF-Token` is not the session's [`CsrfToken`], and any
///    request that names a foreign `Origin` (login CSRF). Bearer requests are exempt;
/// 4. answers the context and a [`SessionState`]: the [`Principal`] when the session is
///    valid, else why not. Requests without a session are not refused here: extractors
///    decide.
#[derive(Debug, Clone)]
pub struct SessionResolver {
    manager: SessionManager,
    clock: Arc<dyn Clock>,
    cookie: SessionCookie,
    origins: AllowedOrigins,
    proxies: TrustedProxies,
    #[cfg(feature = "authz")]
    authorizer: Option<Authorizer>,
}

/// What [`SessionResolver::resolve`] found out about a request that may proceed.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Who is asking, from where.
    pub context: RequestContext,
    /// The session, or why there is none.
    pub state: SessionState,
}

impl SessionResolver {
    /// Validates sessions with `manager`, reading freshness against `clock` (the manager's),
    /// with the secure [`SessionCookie`], no allowed origin (every unsafe cookie-authenticated
    /// request is refused until [`SessionResolver::with_allowed_origins`]) and no trusted
    /// proxy.
    #[must_use]
    pub fn new(manager: SessionManager, clock: Arc<dyn Clock>) -> Self {
        Self {
            manager,
            clock,
            cookie: SessionCookie::new(),
            origins: AllowedOrigins::default(),
            proxies: TrustedProxies::none(),
            #[cfg(feature = "authz")]
            authorizer: None,
        }
    }

    /// Uses `cookie` (e.g. the development cookie).
    #[must_use]
    pub fn with_cookie(mut self, cookie: SessionCookie) -> Self {
        self.cookie = cookie;
        self
    }

    /// The origins whose pages may send unsafe cookie-authenticated requests.
    #[must_use]
    pub fn with_allowed_origins(mut self, origins: AllowedOrigins) -> Self {
        self.origins = origins;
        self
    }

    /// The reverse proxies whose `X-Forwarded-For` entries are believed.
    #[must_use]
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// The authorizer the adapters put into every request's extensions, for their
    /// `Authorize` extractor and `RequireAction` middleware.
    #[cfg(feature = "authz")]
    #[must_use]
    pub fn with_authorizer(mut self, authorizer: Authorizer) -> Self {
        self.authorizer = Some(authorizer);
        self
    }

    /// The cookie the middleware reads, so handlers set the same one at login.
    #[must_use]
    pub fn cookie(&self) -> &SessionCookie {
        &self.cookie
    }

    /// The authorizer of [`SessionResolver::with_authorizer`], if any.
    #[cfg(feature = "authz")]
    #[must_use]
    pub fn authorizer(&self) -> Option<&Authorizer> {
        self.authorizer.as_ref()
    }

    /// Resolves the request's context and session, or refuses it (CSRF).
    ///
    /// # Errors
    /// [`RejectionKind::CsrfOrigin`] or [`RejectionKind::CsrfToken`]: answer the request
    /// with it and do not run the handler.
    pub async fn resolve(&self, head: &impl RequestHead) -> Result<Resolved, RejectionKind> {
        let context = self.context(head);
        let presented = self.presented(head);
        let bearer = matches!(presented, Some((_, Transport::Bearer)));
        let outcome = match presented {
            Some((token, transport)) => self.validate(token, transport, &context).await,
            None => Err(RejectionKind::NoCredentials),
        };
        if is_unsafe(head.method()) && !bearer {
            self.check_csrf(head, outcome.as_ref().ok())?;
        }
        Ok(Resolved {
            context,
            state: SessionState::new(outcome),
        })
    }

    fn context(&self, head: &impl RequestHead) -> RequestContext {
        let mut context = RequestContext::new();
        if let Some(peer) = head.peer() {
            let forwarded = head.header_values(X_FORWARDED_FOR);
            context = context.with_client_ip(self.proxies.client_ip(peer, forwarded));
        }
        if let Some(agent) = header_text(head, USER_AGENT) {
            context = context.with_user_agent(agent);
        }
        if let Some(id) = header_text(head, X_REQUEST_ID) {
            context = context.with_request_id(id);
        }
        context
    }

    /// The token the request presents: `Authorization: Bearer` first, else the cookie.
    fn presented<'a>(&self, head: &'a impl RequestHead) -> Option<(&'a str, Transport)> {
        let bearer = header_text(head, AUTHORIZATION).and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| (token.trim(), Transport::Bearer))
        });
        bearer.or_else(|| {
            self.cookie
                .find(head.header_values(COOKIE))
                .map(|token| (token, Transport::Cookie))
        })
    }

    async fn validate(
        &self,
        presented: &str,
        transport: Transport,
        context: &RequestContext,
    ) -> Result<Principal, RejectionKind> {
        let token =
            SessionToken::parse(presented.as_bytes()).map_err(|_| RejectionKind::InvalidSession)?;
        let checked_at = self.clock.now();
        match self
            .manager
            .validate(token.expose_secret().as_bytes(), context)
            .await
        {
            Ok(session) => Ok(Principal::new(session, token, transport, checked_at)),
            Err(SessionError::Expired(expiry)) => Err(RejectionKind::Expired(expiry)),
            Err(error @ (SessionError::Store(_) | SessionError::Audit(_))) => {
                tracing::error!(target: "soc2::web", %error, "session could not be checked");
                Err(RejectionKind::SessionUnavailable)
            }
            Err(_) => Err(RejectionKind::InvalidSession),
        }
    }

    /// A cookie session needs an allowed origin and its CSRF token; a request without one
    /// is refused only when it names a foreign origin (login CSRF). Bearer requests never
    /// get here.
    fn check_csrf(
        &self,
        head: &impl RequestHead,
        session: Option<&Principal>,
    ) -> Result<(), RejectionKind> {
        let origin = self
            .origins
            .check(head.header(ORIGIN), head.header(REFERER));
        let Some(principal) = session else {
            return match origin {
                OriginCheck::Refused => Err(RejectionKind::CsrfOrigin),
                OriginCheck::Allowed | OriginCheck::Missing => Ok(()),
            };
        };
        if origin != OriginCheck::Allowed {
            return Err(RejectionKind::CsrfOrigin);
        }
        let presented = head.header(CSRF_HEADER);
        if presented.is_some_and(|presented| CsrfToken::verify(principal.token(), presented)) {
            Ok(())
        } else {
            Err(RejectionKind::CsrfToken)
        }
    }
}

/// The first value of header `name`, when it is text.
fn header_text<'a>(head: &'a impl RequestHead, name: &'static str) -> Option<&'a str> {
    head.header(name)
        .and_then(|value| std::str::from_utf8(value).ok())
}
