//! Authorization of one action by the request's principal, as the adapters' `Authorize`
//! extractors and `RequireAction` middleware ask it.

use soc2_rbac::{Authorizer, AuthzError, Decision, ResourceRef};

use crate::{Principal, RejectionKind};

/// Asks `authorizer` whether `principal` may do `action` to `resource` (`context`: the
/// action's context as JSON, `null` for none).
///
/// The authorizer audits every denial and failure itself (`authz.denied`); this maps its
/// answer to what the caller is told, failing closed.
///
/// # Errors
/// [`RejectionKind::Forbidden`] with the determining policies for a denial,
/// [`RejectionKind::UnknownResource`] when the host has no such resource (403 too, so
/// existence does not leak), [`RejectionKind::InvalidAuthorizationRequest`] when the request
/// does not fit the schema (500), and [`RejectionKind::AuthorizationUnavailable`] when a
/// store, the entity provider or the audit log failed (503).
pub async fn authorize(
    authorizer: &Authorizer,
    principal: &Principal,
    action: &str,
    resource: &ResourceRef,
    context: serde_json::Value,
) -> Result<Decision, RejectionKind> {
    match authorizer
        .authorize(principal.user_id(), action, resource, context)
        .await
    {
        Ok(decision) if decision.allowed() => Ok(decision),
        Ok(decision) => Err(RejectionKind::Forbidden {
            policies: decision.policies().to_vec(),
        }),
        Err(AuthzError::ResourceNotFound) => Err(RejectionKind::UnknownResource),
        Err(
            error @ (AuthzError::UnknownAction(_)
            | AuthzError::InvalidResource(_)
            | AuthzError::InvalidEntity(_)
            | AuthzError::InvalidRequest(_)),
        ) => Err(RejectionKind::InvalidAuthorizationRequest(
            error.to_string(),
        )),
        Err(error) => {
            tracing::error!(target: "soc2::web", %error, "authorization could not be decided");
            Err(RejectionKind::AuthorizationUnavailable)
        }
    }
}
