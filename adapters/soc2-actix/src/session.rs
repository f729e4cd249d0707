//! `SessionMiddleware`: soc2-web's session resolution as actix-web middleware.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage};
use soc2_core::Clock;
#[cfg(feature = "authz")]
use soc2_rbac::Authorizer;
use soc2_session::SessionManager;
use soc2_web::SessionResolver;

use crate::head::Head;
use crate::{AllowedOrigins, LocalBoxFuture, Rejection, SessionCookie, TrustedProxies};

/// Resolves sessions, checks CSRF and the client address for every request it wraps:
///
/// 1. resolves the client address (socket peer, or the right-most untrusted
///    `X-Forwarded-For` entry behind [`TrustedProxies`]) and puts a
///    [`RequestContext`](soc2_core::RequestContext) with it, the user agent and any
///    `X-Request-Id` into the extensions ([`ClientContext`](crate::ClientContext) reads it);
/// 2. takes the session token from `Authorization: Bearer`, else from the
///    [`SessionCookie`], and validates it with [`SessionManager::validate`] (idle and
///    absolute timeouts, touch);
/// 3. on unsafe methods (anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`) refuses with 403
///    `{"error":"csrf"}` a cookie-authenticated request whose `Origin` (or `Referer`) is not
///    in [`AllowedOrigins`] or whose `X-CSRF-Token` is not the session's
///    [`CsrfToken`](crate::CsrfToken), and any request that names a foreign `Origin` (login
///    CSRF). Bearer requests are exempt;
/// 4. puts a [`Principal`](crate::Principal) into the extensions when the session is valid,
///    and the authorizer of [`SessionMiddleware::with_authorizer`], if any. Requests without
///    a session pass through: extractors such as [`CurrentUser`](crate::CurrentUser) decide,
///    with the reason the middleware recorded.
#[derive(Debug, Clone)]
pub struct SessionMiddleware {
    resolver: Arc<SessionResolver>,
}

impl SessionMiddleware {
    /// Middleware validating sessions with `manager`, reading freshness against `clock` (the
    /// manager's), with the secure [`SessionCookie`], no allowed origin (every unsafe
    /// cookie-authenticated request is refused until
    /// [`SessionMiddleware::with_allowed_origins`]) and no trusted proxy.
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
    /// [`RequireAction`](crate::RequireAction) middleware ask.
    #[cfg(feature = "authz")]
    #[must_use]
    pub fn with_authorizer(self, authorizer: Authorizer) -> Self {
        self.map(|resolver| resolver.with_authorizer(authorizer))
    }

    /// The cookie the middleware reads, so handlers set the same one at login.
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

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Transform = SessionMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionMiddlewareService {
            service: Rc::new(service),
            resolver: Arc::clone(&self.resolver),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around the inner one.
#[derive(Debug)]
pub struct SessionMiddlewareService<S> {
    service: Rc<S>,
    resolver: Arc<SessionResolver>,
}

impl<S, B> Service<ServiceRequest> for SessionMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let resolver = Arc::clone(&self.resolver);
        Box::pin(async move {
            let resolved = match resolver.resolve(&Head(&request)).await {
                Ok(resolved) => resolved,
                Err(kind) => {
                    let response = request.error_response(Rejection::new(kind));
                    return Ok(response.map_into_right_body());
                }
            };
            {
                let mut extensions = request.extensions_mut();
                extensions.insert(resolved.context);
                if let Some(principal) = resolved.state.principal() {
                    extensions.insert(principal.clone());
                }
                extensions.insert(resolved.state);
                #[cfg(feature = "authz")]
                if let Some(authorizer) = resolver.authorizer() {
                    extensions.insert(authorizer.clone());
                }
            }
            let response = service.call(request).await?;
            Ok(response.map_into_left_body())
        })
    }
}
