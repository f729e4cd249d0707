//! `SessionService`: the per-request work of the [`SessionLayer`](super::SessionLayer).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use http::header::{AUTHORIZATION, USER_AGENT};
use http::{HeaderMap, Method, Request, Response};
use soc2_core::RequestContext;
use soc2_session::{SessionError, SessionToken};
use tower::Service;

use super::Unauthenticated;
use super::layer::Shared;
use crate::csrf::OriginCheck;
use crate::{CSRF_HEADER, CsrfToken, Principal, Rejection, RejectionKind, Transport};

const X_REQUEST_ID: &str = "x-request-id";

/// The service [`SessionLayer`](super::SessionLayer) wraps around the inner one.
#[derive(Debug, Clone)]
pub struct SessionService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> SessionService<S> {
    pub(super) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, ResBody> Service<Request<B>> for SessionService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    ResBody: From<String> + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was polled ready handles this request (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            match shared.resolve(&mut request).await {
                Ok(()) => inner.call(request).await,
                Err(rejection) => Ok(rejection.to_response()),
            }
        })
    }
}

impl Shared {
    /// Fills the request's extensions, or refuses it (CSRF).
    async fn resolve<B>(&self, request: &mut Request<B>) -> Result<(), Rejection> {
        let context = self.context(request);
        let presented = self.presented(request.headers());
        let bearer = matches!(presented, Some((_, Transport::Bearer)));
        let outcome = match presented {
            Some((token, transport)) => self.validate(token, transport, &context).await,
            None => Err(RejectionKind::NoCredentials),
        };
        if is_unsafe(request.method()) && !bearer {
            self.check_csrf(request.headers(), outcome.as_ref().ok())?;
        }
        let extensions = request.extensions_mut();
        extensions.insert(context);
        match outcome {
            Ok(principal) => extensions.insert(principal).map(drop),
            Err(kind) => extensions.insert(Unauthenticated(kind)).map(drop),
        };
        Ok(())
    }

    fn context<B>(&self, request: &Request<B>) -> RequestContext {
        let headers = request.headers();
        let mut context = RequestContext::new();
        if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
            context = context.with_client_ip(self.proxies.client_ip(peer.ip(), headers));
        }
        if let Some(agent) = header_text(headers, USER_AGENT.as_str()) {
            context = context.with_user_agent(agent);
        }
        if let Some(id) = header_text(headers, X_REQUEST_ID) {
            context = context.with_request_id(id);
        }
        context
    }

    /// The token the request presents: `Authorization: Bearer` first, else the cookie.
    fn presented<'a>(&self, headers: &'a HeaderMap) -> Option<(&'a str, Transport)> {
        let bearer = header_text(headers, AUTHORIZATION.as_str()).and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| (token.trim(), Transport::Bearer))
        });
        bearer.or_else(|| {
            self.cookie
                .find(headers)
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
                tracing::error!(target: "soc2::tower", %error, "session could not be checked");
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
        headers: &HeaderMap,
        session: Option<&Principal>,
    ) -> Result<(), Rejection> {
        let origin = self.origins.check(headers);
        let Some(principal) = session else {
            return match origin {
                OriginCheck::Refused => Err(Rejection::new(RejectionKind::CsrfOrigin)),
                OriginCheck::Allowed | OriginCheck::Missing => Ok(()),
            };
        };
        if origin != OriginCheck::Allowed {
            return Err(Rejection::new(RejectionKind::CsrfOrigin));
        }
        let presented = headers.get(CSRF_HEADER).map(|value| value.as_bytes());
        if presented.is_some_and(|presented| CsrfToken::verify(principal.token(), presented)) {
            Ok(())
        } else {
            Err(Rejection::new(RejectionKind::CsrfToken))
        }
    }
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
