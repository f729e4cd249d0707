//! `Authorize`: ask the Cedar authorizer before acting.

use std::future::{Ready, ready};

use actix_web::dev::{Extensions, Payload};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use soc2_rbac::{Authorizer, Decision, ResourceRef};

use crate::{Principal, Rejection, RejectionKind};

/// The authenticated user with the [`Authorizer`] of
/// [`SessionMiddleware::with_authorizer`](crate::SessionMiddleware::with_authorizer): call
/// [`Authorize::require`] with the action and the resource the handler is about to touch.
///
/// Extraction rejects like [`CurrentUser`](crate::CurrentUser) without a session, and with
/// 500 (kind `MissingAuthorizer`) when the middleware has no authorizer.
#[derive(Debug, Clone)]
pub struct Authorize {
    principal: Principal,
    authorizer: Authorizer,
}

impl Authorize {
    /// The principal and authorizer the session middleware left in `extensions`.
    pub(crate) fn from_extensions(extensions: &Extensions) -> Result<Self, Rejection> {
        let principal = soc2_web::current_user(extensions.get()).map_err(Rejection::new)?;
        let authorizer = extensions
            .get::<Authorizer>()
            .cloned()
            .ok_or(Rejection::new(RejectionKind::MissingAuthorizer))?;
        Ok(Self {
            principal,
            authorizer,
        })
    }

    /// The user asking.
    #[must_use]
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// May the user do `action` to `resource`? `context` is the action's context as JSON
    /// (`serde_json::Value::Null` for none).
    ///
    /// # Errors
    /// A [`Rejection`] to return as is: 403 `{"error":"forbidden"}` for a denial (kind
    /// `Forbidden` with the determining policies, or `UnknownResource`; the authorizer has
    /// audited it as `authz.denied`), 500 when the request does not fit the policies'
    /// schema, 503 when the authorizer's stores failed (fail closed).
    pub async fn require(
        &self,
        action: &str,
        resource: &ResourceRef,
        context: serde_json::Value,
    ) -> Result<Decision, Rejection> {
        soc2_web::authorize(&self.authorizer, &self.principal, action, resource, context)
            .await
            .map_err(Rejection::new)
    }
}

impl FromRequest for Authorize {
    type Error = Rejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::from_extensions(&request.extensions()))
    }
}
