//! `LoginThrottleLayer`: per-IP login throttling in front of the login route.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use soc2_core::RequestContext;
use tower::{Layer, Service};

use crate::{BoxFuture, LoginThrottle, Rejection, take_ready};

/// Refuses a login request with 429 `{"error":"too_many_requests"}` and `Retry-After` when
/// the client address failed too many logins recently (kind `Throttled`, audited as
/// `auth.login.throttled`), before the handler checks anything; see [`LoginThrottle`].
///
/// Put it on the login route, inside the [`SessionLayer`](crate::SessionLayer) whose client
/// address (behind its trusted proxies) it counts against:
///
/// ```rust,ignore
/// let throttle = LoginThrottle::new(lockout_store, lockout_policy, audit, clock);
/// let app = Router::new()
///     .route("/login", post(login))
///     .route_layer(LoginThrottleLayer::new(throttle))
///     .layer(session_layer);
/// ```
///
/// A failing lockout store or audit log refuses with 503 (fail closed).
#[derive(Debug, Clone)]
pub struct LoginThrottleLayer {
    throttle: Arc<LoginThrottle>,
}

impl LoginThrottleLayer {
    /// A layer refusing what `throttle` refuses.
    #[must_use]
    pub fn new(throttle: LoginThrottle) -> Self {
        Self {
            throttle: Arc::new(throttle),
        }
    }
}

impl<S> Layer<S> for LoginThrottleLayer {
    type Service = LoginThrottleService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LoginThrottleService {
            inner,
            throttle: Arc::clone(&self.throttle),
        }
    }
}

/// The service [`LoginThrottleLayer`] wraps around the inner one.
#[derive(Debug, Clone)]
pub struct LoginThrottleService<S> {
    inner: S,
    throttle: Arc<LoginThrottle>,
}

impl<S, B, ResBody> Service<Request<B>> for LoginThrottleService<S>
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

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let mut inner = take_ready(&mut self.inner);
        let throttle = Arc::clone(&self.throttle);
        let context = request.extensions().get::<RequestContext>().cloned();
        Box::pin(async move {
            match throttle.check(context.as_ref()).await {
                Ok(()) => inner.call(request).await,
                Err(kind) => Ok(Rejection::new(kind).to_response()),
            }
        })
    }
}
