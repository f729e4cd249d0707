//! `RequireAction`: middleware that authorizes one fixed action before the handler runs.

use std::fmt;
use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage, HttpRequest};
use soc2_rbac::ResourceRef;

use crate::{Authorize, LocalBoxFuture};

/// Authorizes `action` on the resource `resource_fn` names for each request, with the
/// session's principal and the [`SessionMiddleware`](crate::SessionMiddleware)'s
/// authorizer, and answers like [`Authorize::require`] when it is not allowed. The handler
/// runs only after an allow; the [`Decision`](soc2_rbac::Decision) is then in the request's
/// extensions.
///
/// Wrap the resources it guards, inside the session middleware. For actions that depend on
/// the request body, or context values, use the [`Authorize`] extractor in the handler
/// instead.
///
/// ```rust,ignore
/// web::resource("/audit")
///     .wrap(RequireAction::new("read_audit", |_| ResourceRef::new("AuditLog", "main")))
///     .route(web::get().to(read_audit))
/// ```
pub struct RequireAction<F> {
    shared: Arc<Required<F>>,
}

struct Required<F> {
    action: String,
    resource: F,
}

impl<F> RequireAction<F>
where
    F: Fn(&HttpRequest) -> ResourceRef + 'static,
{
    /// Requires `action` on the resource `resource` names for the request (from its path,
    /// for instance; a resource the host does not have is refused with 403).
    #[must_use]
    pub fn new(action: impl Into<String>, resource: F) -> Self {
        Self {
            shared: Arc::new(Required {
                action: action.into(),
                resource,
            }),
        }
    }
}

impl<F> Clone for RequireAction<F> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<F> fmt::Debug for RequireAction<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireAction")
            .field("action", &self.shared.action)
            .finish_non_exhaustive()
    }
}

impl<S, B, F> Transform<S, ServiceRequest> for RequireAction<F>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
    F: Fn(&HttpRequest) -> ResourceRef + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Transform = RequireActionService<S, F>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireActionService {
            service: Rc::new(service),
            shared: Arc::clone(&self.shared),
        }))
    }
}

/// The service [`RequireAction`] wraps around the inner one.
pub struct RequireActionService<S, F> {
    service: Rc<S>,
    shared: Arc<Required<F>>,
}

impl<S, F> fmt::Debug for RequireActionService<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireActionService")
            .field("action", &self.shared.action)
            .finish_non_exhaustive()
    }
}

impl<S, B, F> Service<ServiceRequest> for RequireActionService<S, F>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
    F: Fn(&HttpRequest) -> ResourceRef + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            let resource = (shared.resource)(request.request());
            let authorize = Authorize::from_extensions(&request.extensions());
            let allowed = match authorize {
                Ok(authorize) => {
                    authorize
                        .require(&shared.action, &resource, serde_json::Value::Null)
                        .await
                }
                Err(rejection) => Err(rejection),
            };
            match allowed {
                Ok(decision) => {
                    request.extensions_mut().insert(decision);
                    let response = service.call(request).await?;
                    Ok(response.map_into_left_body())
                }
                Err(rejection) => Ok(request.error_response(rejection).map_into_right_body()),
            }
        })
    }
}
