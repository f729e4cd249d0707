//! `ClientContext`: who is asking, from where, for the SDK's services and audit events.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use soc2_core::RequestContext;

use crate::{Rejection, RejectionKind};

/// The [`RequestContext`] the middleware resolved (client address, user agent, request id).
/// Rejects with 500 when no [`SessionMiddleware`](crate::SessionMiddleware) runs.
#[derive(Debug, Clone)]
pub struct ClientContext(pub RequestContext);

impl FromRequest for ClientContext {
    type Error = Rejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<RequestContext>()
                .cloned()
                .map(Self)
                .ok_or(Rejection::new(RejectionKind::MissingLayer)),
        )
    }
}
