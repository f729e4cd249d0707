//! `Authorizer`: one audited, fail-closed Cedar decision per request.

use std::sync::Arc;

use cedar_policy::{Context, Request};
use serde::Serialize;
use soc2_audit::{Actor, AuditError, AuditEvent, AuditLog, Outcome, SdkAction, Target};
use soc2_core::{BoxError, Clock, StoreError, UserId};

use crate::slice::{self, ResourceData};
use crate::{EntityProvider, PolicySnapshot, PolicyStore, PolicyVersion, ResourceRef, RoleStore};

/// A policy that failed to evaluate (e.g. read a missing attribute). Any such error denies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationError {
    /// The policy id, e.g. `changes.approvers-approve-pending`.
    pub policy: String,
    /// What went wrong.
    pub message: String,
}

/// The outcome of one authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    allowed: bool,
    policies: Vec<String>,
    errors: Vec<EvaluationError>,
    version: PolicyVersion,
}

impl Decision {
    /// True when the request may proceed: a `permit` matched, no `forbid` matched and no policy
    /// failed to evaluate.
    #[must_use]
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// The determining policies, sorted: the matching `permit`s of an allow, the matching
    /// `forbid`s of a deny (none when nothing matched: deny by default).
    #[must_use]
    pub fn policies(&self) -> &[String] {
        &self.policies
    }

    /// Policies that failed to evaluate, sorted by policy id; a non-empty list always denies.
    #[must_use]
    pub fn errors(&self) -> &[EvaluationError] {
        &self.errors
    }

    /// The policy set that decided.
    #[must_use]
    pub fn version(&self) -> PolicyVersion {
        self.version
    }
}

/// Why no decision could be made. Every variant means "not allowed", and each is audited.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthzError {
    /// The action is not declared in the schema.
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    /// The resource reference is unusable (not a Cedar type name, or a reserved type).
    #[error("invalid resource: {0}")]
    InvalidResource(String),
    /// The host has no such resource.
    #[error("resource not found")]
    ResourceNotFound,
    /// An entity of the slice does not conform to the schema (wrong or missing attributes).
    #[error("entity does not conform to the schema: {0}")]
    InvalidEntity(String),
    /// The request does not fit the schema (principal or resource type, context shape).
    #[error("request does not conform to the schema: {0}")]
    InvalidRequest(String),
    /// The role store failed.
    #[error("role store failed")]
    Store(#[from] StoreError),
    /// The policies for the request could not be assembled (not expected: the policy set was
    /// valid at load); the request is denied.
    #[error("policy selection failed: {0}")]
    Selection(String),
    /// The entity provider failed.
    #[error("entity provider failed")]
    Provider(#[source] BoxError),
    /// The deny could not be audited (the request is denied).
    #[error("authorization denied and not audited")]
    Audit(#[from] AuditError),
}

/// Decides requests against the current policy set, with principals and roles from the
/// [`RoleStore`] and resources from the host's [`EntityProvider`].
///
/// Roles are asked of the [`RoleStore`] on every request, at the clock's current instant: with
/// a database store, a revoked role or an expired elevation stops working on the next request;
/// a [`crate::CachedRoleStore`] answers from memory within the bounds it documents.
#[derive(Debug, Clone)]
pub struct Authorizer {
    policies: Arc<PolicyStore>,
    roles: Arc<dyn RoleStore>,
    resources: Arc<dyn EntityProvider>,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
}

impl Authorizer {
    /// An authorizer over these stores.
    #[must_use]
    pub fn new(
        policies: Arc<PolicyStore>,
        roles: Arc<dyn RoleStore>,
        resources: Arc<dyn EntityProvider>,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            policies,
            roles,
            resources,
            audit,
            clock,
        }
    }

    /// May `principal` do `action` to `resource`? `context` is the request context as JSON
    /// (`null` or `{}` for none), checked against the action's context type.
    ///
    /// Denies and failures are audited (`authz.denied`). A policy that fails to evaluate
    /// denies the request even when another policy permits it (fail closed).
    ///
    /// # Errors
    /// [`AuthzError`] when no decision can be made; treat it as a deny.
    pub async fn authorize(
        &self,
        principal: UserId,
        action: &str,
        resource: &ResourceRef,
        context: serde_json::Value,
    ) -> Result<Decision, AuthzError> {
        let snapshot = self.policies.snapshot();
        match self
            .decide(&snapshot, principal, action, resource, context)
            .await
        {
            Ok(decision) if decision.allowed => Ok(decision),
            Ok(decision) => {
                let outcome = if decision.errors.is_empty() {
                    Outcome::Denied
                } else {
                    Outcome::Error
                };
                let event = self
                    .denied(principal, action, resource, outcome, &snapshot)
                    .with_metadata("policies", &decision.policies)
                    .with_metadata("errors", &decision.errors);
                self.audit.record(event)?;
                Ok(decision)
            }
            Err(error) => {
                let event = self
                    .denied(principal, action, resource, Outcome::Error, &snapshot)
                    .with_reason(&error.to_string());
                if let Err(audit) = self.audit.record(event) {
                    tracing::error!(target: "soc2::rbac", %audit, %error, "authorization failure not audited");
                }
                Err(error)
            }
        }
    }

    async fn decide(
        &self,
        snapshot: &PolicySnapshot,
        principal: UserId,
        action: &str,
        resource: &ResourceRef,
        context: serde_json::Value,
    ) -> Result<Decision, AuthzError> {
        let action_entry = snapshot
            .actions
            .get(action)
            .ok_or_else(|| AuthzError::UnknownAction(action.to_owned()))?;
        let action_uid = &action_entry.uid;
        let resource_uid = slice::resource_uid(snapshot, resource)?;
        let principal_uid = slice::user_uid(snapshot, principal);
        let now = self.clock.now();
        let principal_roles = self.roles.user_roles(principal, now).await?;
        let resource_data = if resource_uid.type_name() == &snapshot.user_type {
            let user = resource
                .id()
                .parse()
                .map_err(|_| AuthzError::ResourceNotFound)?;
            ResourceData::User(self.roles.user_roles(user, now).await?)
        } else {
            let entity = self
                .resources
                .resource(resource)
                .await
                .map_err(AuthzError::Provider)?;
            ResourceData::Host(entity.ok_or(AuthzError::ResourceNotFound)?)
        };
        let slice = slice::build(
            snapshot,
            (principal, &principal_uid, &principal_roles),
            (&resource_uid, resource_data),
            action_entry,
        )?;
        let context = match context {
            serde_json::Value::Null => None,
            serde_json::Value::Object(map) if map.is_empty() => None,
            json => Some(
                Context::from_json_value(json, Some((&snapshot.schema, action_uid)))
                    .map_err(|error| AuthzError::InvalidRequest(error.to_string()))?,
            ),
        };
        // A user's request with an empty context for a resource type the action was probed
        // with at load conforms whatever the ids: validating it again would only repeat that.
        let known_to_conform = context.is_none()
            && action_entry
                .conforming_resource_types
                .contains(resource_uid.type_name());
        let request = Request::new(
            principal_uid,
            action_uid.clone(),
            resource_uid,
            context.unwrap_or_else(Context::empty),
            (!known_to_conform).then_some(&snapshot.schema),
        )
        .map_err(|error| AuthzError::InvalidRequest(error.to_string()))?;
        let response = cedar_policy::Authorizer::new().is_authorized(
            &request,
            &slice.policies,
            &slice.entities,
        );
        let diagnostics = response.diagnostics();
        // `AsRef<str>`: the id as written (`Display` escapes it, at a cost).
        let mut policies: Vec<String> = diagnostics
            .reason()
            .map(|id| AsRef::<str>::as_ref(id).to_owned())
            .collect();
        policies.sort_unstable();
        let mut errors: Vec<EvaluationError> = diagnostics
            .errors()
            .map(|error| match error {
                cedar_policy::AuthorizationError::PolicyEvaluationError(error) => EvaluationError {
                    policy: AsRef::<str>::as_ref(error.policy_id()).to_owned(),
                    message: error.inner().to_string(),
                },
            })
            .collect();
        errors.sort_unstable_by(|a, b| a.policy.cmp(&b.policy));
        Ok(Decision {
            allowed: response.decision() == cedar_policy::Decision::Allow && errors.is_empty(),
            policies,
            errors,
            version: snapshot.version,
        })
    }

    fn denied(
        &self,
        principal: UserId,
        action: &str,
        resource: &ResourceRef,
        outcome: Outcome,
        snapshot: &PolicySnapshot,
    ) -> AuditEvent {
        AuditEvent::new(
            SdkAction::AuthorizationDenied,
            outcome,
            Actor::user(principal),
            self.clock.now(),
        )
        .with_target(Target::new(resource.kind(), resource.id()))
        .with_metadata("action", action)
        .with_metadata("policy_version", snapshot.version.to_string())
    }
}
