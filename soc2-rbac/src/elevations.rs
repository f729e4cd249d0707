//! `ElevationManager`: audited just-in-time elevation. One user requests a role for a while
//! with a reason, a second person approves or denies it, it ends on its own or is revoked
//! early; break-glass grants skip the approval only when the policy allows them.

use std::sync::Arc;
use std::time::Duration;

use soc2_audit::{Actor, AuditError, AuditEvent, AuditLog, Outcome, SdkAction, Target};
use soc2_core::{Clock, ElevationId, StoreError, UserId, truncate_to_micros};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{
    Assignment, Elevation, ElevationChange, ElevationPolicy, ElevationStatus, ElevationUpdate,
    PolicyStore, RoleName, RoleStore, SodConflict,
};

/// Why an elevation step did not happen. Nothing changed in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ElevationError {
    /// The reason is empty, too long or has control characters other than newline and tab.
    #[error("a reason is required: 1 to {max_bytes} bytes of text without control characters")]
    InvalidReason {
        /// The policy's limit.
        max_bytes: usize,
    },
    /// The duration is zero or longer than the policy allows.
    #[error("an elevation must last longer than zero and at most {max:?}")]
    InvalidDuration {
        /// The policy's limit.
        max: Duration,
    },
    /// The user already holds the role by assignment.
    #[error("the user already holds role `{0}`")]
    AlreadyHeld(RoleName),
    /// Holding the role would violate a segregation-of-duties rule (named in the error).
    #[error("segregation of duties: {0}")]
    SodConflict(SodConflict),
    /// The approver is the elevated user or the requester: nobody approves their own
    /// elevation.
    #[error("nobody approves their own elevation")]
    SelfApproval,
    /// The policy does not allow break-glass grants.
    #[error("break-glass elevations are not allowed by the policy")]
    BreakGlassDisabled,
    /// No elevation has that id.
    #[error("no such elevation")]
    NotFound,
    /// The elevation's status does not allow the step: approving or denying one that is no
    /// longer pending (decided, revoked, [`ElevationStatus::Expired`]), revoking one that is
    /// not approved and running.
    #[error("the elevation is {}", .0.as_str())]
    WrongStatus(ElevationStatus),
    /// The role store failed.
    #[error("role store failed")]
    Store(#[from] StoreError),
    /// The step could not be audited, so it was not taken (fail closed).
    #[error("elevation step not audited: {0}")]
    Audit(#[from] AuditError),
}

/// Requests, approves, denies, revokes and break-glass-grants elevations against the
/// [`ElevationPolicy`] and the segregation-of-duties rules of the policy set in force,
/// auditing every step (`rbac.elevation.requested`, `.approved`, `.denied`, `.revoked`,
/// `.break_glass`, and `rbac.sod.violation` for refused grants).
///
/// An approved elevation counts in [`crate::Authorizer`] decisions from its approval until it
/// expires (checked against the clock on every request) or is revoked.
#[derive(Debug, Clone)]
pub struct ElevationManager {
    store: Arc<dyn RoleStore>,
    policies: Arc<PolicyStore>,
    policy: ElevationPolicy,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
}

impl ElevationManager {
    /// A manager over `store` with `policy`, taking SoD rules from `policies`.
    #[must_use]
    pub fn new(
        store: Arc<dyn RoleStore>,
        policies: Arc<PolicyStore>,
        policy: ElevationPolicy,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            policies,
            policy,
            audit,
            clock,
        }
    }

    /// `by` asks for `user` to hold `role` for `duration` from now, because of `reason`; the
    /// elevation waits for another person's [`ElevationManager::approve`]. `by` is usually
    /// `user`.
    ///
    /// # Errors
    /// [`ElevationError::InvalidReason`], [`ElevationError::InvalidDuration`],
    /// [`ElevationError::AlreadyHeld`], [`ElevationError::SodConflict`] (audited) when
    /// holding the role would complete a conflict; store and audit failures.
    pub async fn request(
        &self,
        by: UserId,
        user: UserId,
        role: &RoleName,
        reason: &str,
        duration: Duration,
    ) -> Result<Elevation, ElevationError> {
        let max = self.policy.max_duration();
        let elevation = self.pending(by, user, role, reason, duration, max)?;
        self.add(elevation, SdkAction::ElevationRequested).await
    }

    /// `approver` approves pending elevation `id`; the role counts from now until the
    /// elevation expires.
    ///
    /// Whether `approver` may approve elevations at all is the host's call, e.g. an
    /// [`crate::Authorizer`] decision on an `approve_elevation` action before this one; this
    /// method enforces that it is a second person.
    ///
    /// # Errors
    /// [`ElevationError::SelfApproval`] (audited) when `approver` is the elevated user or the
    /// requester; [`ElevationError::WrongStatus`] when it is no longer pending (of two
    /// concurrent decisions, the second gets this); [`ElevationError::SodConflict`] (audited);
    /// [`ElevationError::NotFound`]; store and audit failures.
    pub async fn approve(
        &self,
        id: ElevationId,
        approver: UserId,
    ) -> Result<Elevation, ElevationError> {
        let elevation = self
            .store
            .elevation(id)
            .await?
            .ok_or(ElevationError::NotFound)?;
        if approver == elevation.user || approver == elevation.requested_by {
            self.audit.record(
                self.event(
                    SdkAction::ElevationApproved,
                    Outcome::Denied,
                    Actor::user(approver),
                    &elevation,
                )
                .with_reason("self-approval refused: nobody approves their own elevation"),
            )?;
            return Err(ElevationError::SelfApproval);
        }
        let snapshot = self.policies.snapshot();
        let change = ElevationChange::Approve {
            by: approver,
            rules: snapshot.sod(),
        };
        self.change(
            id,
            change,
            Actor::user(approver),
            SdkAction::ElevationApproved,
        )
        .await
    }

    /// `by` denies pending elevation `id` (the requester may withdraw a request this way).
    ///
    /// # Errors
    /// [`ElevationError::WrongStatus`] when it is no longer pending,
    /// [`ElevationError::NotFound`], store and audit failures.
    pub async fn deny(&self, id: ElevationId, by: UserId) -> Result<Elevation, ElevationError> {
        let change = ElevationChange::Deny { by };
        self.change(id, change, Actor::user(by), SdkAction::ElevationDenied)
            .await
    }

    /// `by` ends approved elevation `id` now, before it expires.
    ///
    /// # Errors
    /// [`ElevationError::WrongStatus`] when it is not approved and running,
    /// [`ElevationError::NotFound`], store and audit failures.
    pub async fn revoke(&self, id: ElevationId, by: Actor) -> Result<Elevation, ElevationError> {
        self.change(id, ElevationChange::Revoke, by, SdkAction::ElevationRevoked)
            .await
    }

    /// `user` takes `role` at once, without approval, for `duration`, because of `reason`:
    /// only when the policy allows break-glass grants ([`ElevationPolicy::with_break_glass`]).
    /// Granted or refused, the attempt is audited as `rbac.elevation.break_glass` with
    /// `break_glass: true`.
    ///
    /// # Errors
    /// [`ElevationError::BreakGlassDisabled`] (audited), then as
    /// [`ElevationManager::request`].
    pub async fn break_glass(
        &self,
        user: UserId,
        role: &RoleName,
        reason: &str,
        duration: Duration,
    ) -> Result<Elevation, ElevationError> {
        let Some(max) = self.policy.break_glass() else {
            self.audit.record(
                self.base_event(
                    SdkAction::ElevationBreakGlass,
                    Outcome::Denied,
                    Actor::user(user),
                    user,
                    role,
                )
                .with_reason("break-glass elevations are not allowed by the policy")
                .with_metadata("break_glass", true),
            )?;
            return Err(ElevationError::BreakGlassDisabled);
        };
        let mut elevation = self.pending(user, user, role, reason, duration, max)?;
        elevation.break_glass = true;
        elevation.status = ElevationStatus::Approved;
        elevation.decided_at = Some(elevation.requested_at);
        self.add(elevation, SdkAction::ElevationBreakGlass).await
    }

    /// The elevation `id`.
    ///
    /// # Errors
    /// Store failures.
    pub async fn get(&self, id: ElevationId) -> Result<Option<Elevation>, ElevationError> {
        Ok(self.store.elevation(id).await?)
    }

    /// The elevations of `user` pending or active now, oldest request first.
    ///
    /// # Errors
    /// Store failures.
    pub async fn open(&self, user: UserId) -> Result<Vec<Elevation>, ElevationError> {
        Ok(self.store.open_elevations(user, self.now()).await?)
    }

    /// A new pending elevation starting now, lasting `duration` of at most `max`.
    fn pending(
        &self,
        by: UserId,
        user: UserId,
        role: &RoleName,
        reason: &str,
        duration: Duration,
        max: Duration,
    ) -> Result<Elevation, ElevationError> {
        let reason = reason.trim();
        let max_bytes = self.policy.max_reason_bytes();
        if reason.is_empty()
            || reason.len() > max_bytes
            || reason
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(ElevationError::InvalidReason { max_bytes });
        }
        let now = self.now();
        let expires_at = (!duration.is_zero() && duration <= max)
            .then(|| time::Duration::try_from(duration).ok())
            .flatten()
            .and_then(|duration| now.checked_add(duration))
            .ok_or(ElevationError::InvalidDuration { max })?;
        Ok(Elevation {
            id: ElevationId::new_v7(),
            user,
            role: role.clone(),
            reason: reason.to_owned(),
            requested_by: by,
            requested_at: now,
            expires_at,
            break_glass: false,
            status: ElevationStatus::Pending,
            decided_by: None,
            decided_at: None,
            revoked_at: None,
        })
    }

    /// Stores a new elevation, auditing it as `action` or the SoD refusal.
    async fn add(
        &self,
        elevation: Elevation,
        action: SdkAction,
    ) -> Result<Elevation, ElevationError> {
        let permit = self.audit.reserve()?;
        let snapshot = self.policies.snapshot();
        let by = Actor::user(elevation.requested_by);
        match self.store.add_elevation(&elevation, snapshot.sod()).await? {
            Assignment::Granted => {
                permit.record(
                    self.event(action, Outcome::Success, by, &elevation)
                        .with_reason(&elevation.reason),
                );
                Ok(elevation)
            }
            Assignment::Refused(conflict) => {
                permit.record(self.sod_event(by, &elevation, &conflict));
                Err(ElevationError::SodConflict(conflict))
            }
            Assignment::AlreadyHeld => Err(ElevationError::AlreadyHeld(elevation.role)),
        }
    }

    /// Applies `change` now, auditing it as `action` or the SoD refusal.
    async fn change(
        &self,
        id: ElevationId,
        change: ElevationChange<'_>,
        by: Actor,
        action: SdkAction,
    ) -> Result<Elevation, ElevationError> {
        let permit = self.audit.reserve()?;
        let now = self.now();
        match self.store.change_elevation(id, change, now).await? {
            ElevationUpdate::Applied(elevation) => {
                permit.record(self.event(action, Outcome::Success, by, &elevation));
                Ok(elevation)
            }
            ElevationUpdate::Refused {
                elevation,
                conflict,
            } => {
                permit.record(self.sod_event(by, &elevation, &conflict));
                Err(ElevationError::SodConflict(conflict))
            }
            ElevationUpdate::Stale(elevation) => {
                Err(ElevationError::WrongStatus(elevation.status_at(now)))
            }
            ElevationUpdate::NotFound => Err(ElevationError::NotFound),
        }
    }

    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(self.clock.now())
    }

    fn base_event(
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

    fn event(
        &self,
        action: SdkAction,
        outcome: Outcome,
        by: Actor,
        elevation: &Elevation,
    ) -> AuditEvent {
        self.base_event(action, outcome, by, elevation.user, &elevation.role)
            .with_metadata("elevation", elevation.id.to_string())
            .with_metadata("requested_by", elevation.requested_by.to_string())
            .with_metadata("expires_at", elevation.expires_at.format(&Rfc3339).ok())
            .with_metadata("break_glass", elevation.break_glass)
    }

    fn sod_event(&self, by: Actor, elevation: &Elevation, conflict: &SodConflict) -> AuditEvent {
        self.event(SdkAction::SodViolation, Outcome::Denied, by, elevation)
            .with_reason("elevation refused by a segregation-of-duties rule")
            .with_metadata("rule", &conflict.rule)
            .with_metadata("roles", &conflict.roles)
    }
}
