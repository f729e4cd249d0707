//! `ClientContext`: who is asking, from where, for the SDK's services and audit events.

use axum::extract::FromRequestParts;
use http::request::Parts;
use soc2_core::RequestContext;

use crate::{Rejection, RejectionKind};

/// The [`RequestContext`] the layer resolved (client address, user agent, request id).
/// Rejects with 500 when no [`SessionLayer`](crate::SessionLayer) runs.
#[derive(Debug, Clone)]
pub struct ClientContext(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for ClientContext {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .map(Self)
            .ok_or(Rejection::new(RejectionKind::MissingLayer))
    }
}
