//! `SessionService`: the per-request work of the [`SessionLayer`](super::SessionLayer).

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use soc2_web::SessionResolver;
use tower::Service;

use crate::head::Head;
use crate::{BoxFuture, Rejection, take_ready};

/// The service [`SessionLayer`](super::SessionLayer) wraps around the inner one.
#[derive(Debug, Clone)]
pub struct SessionService<S> {
    inner: S,
    resolver: Arc<SessionResolver>,
}

impl<S> SessionService<S> {
    pub(super) fn new(inner: S, resolver: Arc<SessionResolver>) -> Self {
        Self { inner, resolver }
    }
}

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
        let mut inner = take_ready(&mut self.inner);
        let resolver = Arc::clone(&self.resolver);
        Box::pin(async move {
            let outcome = {
                let head = Head::of(&request);
                resolver.resolve(&head).await
            };
            let resolved = match outcome {
                Ok(resolved) => resolved,
                Err(kind) => return Ok(Rejection::new(kind).to_response()),
            };
            let extensions = request.extensions_mut();
            extensions.insert(resolved.context);
            if let Some(principal) = resolved.state.principal() {
                extensions.insert(principal.clone());
            }
            extensions.insert(resolved.state);
            #[cfg(feature = "authz")]
            if let Some(authorizer) = resolver.authorizer() {
                extensions.insert(authorizer.clone());
            }
            inner.call(request).await
        })
    }
}
