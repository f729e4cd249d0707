//! `LoginThrottleMiddleware`: per-IP login throttling in front of the login route.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage};
use soc2_core::RequestContext;

use crate::{LocalBoxFuture, LoginThrottle, Rejection};

/// Refuses a login request with 429 `{"error":"too_many_requests"}` and `Retry-After` when
/// the client address failed too many logins recently (kind `Throttled`, audited as
/// `auth.login.throttled`), before the handler checks anything; see [`LoginThrottle`].
///
/// Wrap the login resource, inside the [`SessionMiddleware`](crate::SessionMiddleware)
/// whose client address (behind its trusted proxies) it counts against:
///
/// ```rust,ignore
/// let throttle = LoginThrottle::new(lockout_store, lockout_policy, audit, clock);
/// web::resource("/login")
///     .wrap(LoginThrottleMiddleware::new(throttle))
///     .route(web::post().to(login))
/// ```
///
/// A failing lockout store or audit log refuses with 503 (fail closed).
#[derive(Debug, Clone)]
pub struct LoginThrottleMiddleware {
    throttle: Arc<LoginThrottle>,
}

impl LoginThrottleMiddleware {
    /// Middleware refusing what `throttle` refuses.
    #[must_use]
    pub fn new(throttle: LoginThrottle) -> Self {
        Self {
            throttle: Arc::new(throttle),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for LoginThrottleMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Transform = LoginThrottleService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(LoginThrottleService {
            service: Rc::new(service),
            throttle: Arc::clone(&self.throttle),
        }))
    }
}

/// The service [`LoginThrottleMiddleware`] wraps around the inner one.
#[derive(Debug)]
pub struct LoginThrottleService<S> {
    service: Rc<S>,
    throttle: Arc<LoginThrottle>,
}

impl<S, B> Service<ServiceRequest> for LoginThrottleService<S>
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
        let throttle = Arc::clone(&self.throttle);
        let context = request.extensions().get::<RequestContext>().cloned();
        Box::pin(async move {
            match throttle.check(context.as_ref()).await {
                Ok(()) => Ok(service.call(request).await?.map_into_left_body()),
                Err(kind) => Ok(request
                    .error_response(Rejection::new(kind))
                    .map_into_right_body()),
            }
        })
    }
}
