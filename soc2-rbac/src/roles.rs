//! `RoleManager`: audited role grants and revocations, with static segregation of duties.

use std::sync::Arc;

use soc2_audit::{Actor, AuditError, AuditEvent, AuditLog, Outcome, SdkAction, Target};
use soc2_core::{Clock, StoreError, UserId};

use crate::hierarchy::{Parents, effective};
use crate::{Assignment, PolicyStore, RoleName, RoleStore, SodConflict};

/// Users per page when [`RoleManager::scan`] walks the assignments.
const SCAN_PAGE: usize = 1000;

/// Why a role change did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoleError {
    /// The grant would violate a segregation-of-duties rule (named in the error).
    #[error("segregation of duties: {0}")]
    SodConflict(SodConflict),
    /// The role store failed.
    #[error("role store failed")]
    Store(#[from] StoreError),
    /// The change could not be audited, so it was not made (fail closed).
    #[error("role change not audited: {0}")]
    Audit(#[from] AuditError),
}

/// A user whose current roles violate a segregation-of-duties rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SodViolation {
    /// The user.
    pub user: UserId,
    /// The rule and the user's roles in its set.
    pub conflict: SodConflict,
}

/// Grants and revokes roles against the SoD rules of the policy set in force, auditing every
/// change and refusal (`rbac.role.granted`, `rbac.role.revoked`, `rbac.sod.violation`).
#[derive(Debug, Clone)]
pub struct RoleManager {
    store: Arc<dyn RoleStore>,
    policies: Arc<PolicyStore>,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
}

impl RoleManager {
    /// A manager over `store`, taking SoD rules from `policies`.
    #[must_use]
    pub fn new(
        store: Arc<dyn RoleStore>,
        policies: Arc<PolicyStore>,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            policies,
            audit,
            clock,
        }
    }

    /// Grants `role` to `user` on behalf of `by`; false when the user already held it.
    ///
    /// # Errors
    /// [`RoleError::SodConflict`] naming the rule (audited), store and audit failures (then
    /// nothing changed).
    pub async fn assign(
        &self,
        by: Actor,
        user: UserId,
        role: &RoleName,
    ) -> Result<bool, RoleError> {
        let permit = self.audit.reserve()?;
        let snapshot = self.policies.snapshot();
        let now = self.clock.now();
        match self.store.assign(user, role, snapshot.sod(), now).await? {
            Assignment::Granted => {
                permit.record(self.event(SdkAction::RoleGranted, Outcome::Success, by, user, role));
                Ok(true)
            }
            Assignment::Refused(conflict) => {
                permit.record(
                    self.event(SdkAction::SodViolation, Outcome::Denied, by, user, role)
                        .with_reason("role grant refused by a segregation-of-duties rule")
                        .with_metadata("rule", &conflict.rule)
                        .with_metadata("roles", &conflict.roles),
                );
                Err(RoleError::SodConflict(conflict))
            }
            Assignment::AlreadyHeld => Ok(false),
        }
    }

    /// Revokes `role` from `user` on behalf of `by`; false when the user did not hold it.
    ///
    /// # Errors
    /// Store and audit failures (then nothing changed).
    pub async fn revoke(
        &self,
        by: Actor,
        user: UserId,
        role: &RoleName,
    ) -> Result<bool, RoleError> {
        let permit = self.audit.reserve()?;
        let revoked = self.store.revoke(user, role).await?;
        if revoked {
            permit.record(self.event(SdkAction::RoleRevoked, Outcome::Success, by, user, role));
        }
        Ok(revoked)
    }

    /// Every user whose current roles (inherited ones included) violate a rule of the policy
    /// set in force, e.g. after a rule was added; each violation is audited.
    ///
    /// # Errors
    /// Store and audit failures.
    pub async fn scan(&self, by: Actor) -> Result<Vec<SodViolation>, RoleError> {
        let snapshot = self.policies.snapshot();
        let parents: Parents = self
            .store
            .hierarchy()
            .await?
            .into_iter()
            .map(|node| (node.role, node.parents))
            .collect();
        let mut violations = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.assignments(after, SCAN_PAGE).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            for (user, assigned) in &page {
                let held = effective(assigned, &parents);
                violations.extend(snapshot.sod().conflicts(&held).into_iter().map(|conflict| {
                    SodViolation {
                        user: *user,
                        conflict,
                    }
                }));
            }
        }
        for violation in &violations {
            self.audit.record(
                AuditEvent::new(
                    SdkAction::SodViolation,
                    Outcome::Failure,
                    by.clone(),
                    self.clock.now(),
                )
                .with_target(Target::new("user", &violation.user.to_string()))
                .with_reason("existing role assignment violates a segregation-of-duties rule")
                .with_metadata("rule", &violation.conflict.rule)
                .with_metadata("roles", &violation.conflict.roles)
                .with_metadata("policy_version", snapshot.version().to_string()),
            )?;
        }
        Ok(violations)
    }

    fn event(
        &self,
        action: SdkAction,
        outcome: Outcome,
        by: Actor,
        user: UserId,
        role: &RoleName,
    ) -> AuditEvent {
        AuditEvent::new(action, outcome, by, self.clock.now())
            .with_target(Target::new("user", &user.to_string()))
            .with_metadata("role", role.as_str())
    }
}
