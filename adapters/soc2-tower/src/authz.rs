//! `RequireAction`: a route layer that authorizes one fixed action before the handler runs.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::request::Parts;
use http::{Request, Response};
use soc2_rbac::ResourceRef;
use tower::{Layer, Service};

use crate::{Authorize, BoxFuture, take_ready};

/// Authorizes `action` on the resource `resource_fn` names for each request, with the
/// session's principal and the [`SessionLayer`](crate::SessionLayer)'s authorizer, and
/// answers like [`Authorize::require`] when it is not allowed. The handler runs only after
/// an allow; the [`Decision`](soc2_rbac::Decision) is then in the request's extensions.
///
/// Put it inside the session layer (`Router::route_layer` on the routes it guards). For
/// actions that depend on the request body, or context values, use the
/// [`Authorize`] extractor in the handler instead.
///
/// ```rust,ignore
/// let app = Router::new()
///     .route("/audit", get(read_audit))
///     .route_layer(RequireAction::new("read_audit", |_| ResourceRef::new("AuditLog", "main")))
///     .layer(session_layer);
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
    F: Fn(&Parts) -> ResourceRef + Send + Sync + 'static,
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

impl<S, F> Layer<S> for RequireAction<F> {
    type Service = RequireActionService<S, F>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireActionService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service [`RequireAction`] wraps around the inner one.
pub struct RequireActionService<S, F> {
    inner: S,
    shared: Arc<Required<F>>,
}

impl<S: Clone, F> Clone for RequireActionService<S, F> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, F> fmt::Debug for RequireActionService<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireActionService")
            .field("inner", &self.inner)
            .field("action", &self.shared.action)
            .finish_non_exhaustive()
    }
}

impl<S, F, B, ResBody> Service<Request<B>> for RequireActionService<S, F>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    F: Fn(&Parts) -> ResourceRef + Send + Sync + 'static,
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
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let resource = (shared.resource)(&parts);
            let allowed = match Authorize::from_extensions(&parts.extensions) {
                Ok(authorize) => {
                    authorize
                        .require(&shared.action, &resource, serde_json::Value::Null)
                        .await
                }
                Err(rejection) => Err(rejection),
            };
            match allowed {
                Ok(decision) => {
                    parts.extensions.insert(decision);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(rejection) => Ok(rejection.to_response()),
            }
        })
    }
}
