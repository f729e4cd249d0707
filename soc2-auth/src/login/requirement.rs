//! Who must prove a second factor at login, and how long a user who must may still log in
//! without one.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use soc2_core::{BoxError, UserId};
use time::OffsetDateTime;

/// The roles a user holds, from the host's role store (with soc2-rbac: the `closure` of
/// `RoleStore::user_roles`, which includes inherited and elevated roles).
#[async_trait]
pub trait RoleLookup: Debug + Send + Sync + 'static {
    /// The names of the roles `user` holds now.
    async fn roles(&self, user: UserId) -> Result<Vec<String>, BoxError>;
}

/// Who must prove a second factor.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum MfaRequirement {
    /// Only users who enrolled a factor are asked for it.
    #[default]
    Enrolled,
    /// Everyone (NIST SP 800-63B-4 AAL2).
    Everyone,
    /// Holders of any of `roles` (PCI DSS v4.0 8.4.1: MFA for all administrative access).
    Roles {
        /// The role names.
        roles: BTreeSet<String>,
        /// Where a user's roles are read, at each login.
        lookup: Arc<dyn RoleLookup>,
    },
}

/// The MFA rule of a login flow: who must prove a second factor and, for a user who must
/// but has none, how long after the account's creation a full session is still granted
/// (with [`LoginOutcome::EnrollmentDue`](super::LoginOutcome::EnrollmentDue)) before only an
/// enrolment session is. The default grace period is none: NIST SP 800-63B-4 sets none, and
/// every day of grace is a day an administrator logs in with a password alone.
#[derive(Debug, Clone, Default)]
pub struct MfaPolicy {
    requirement: MfaRequirement,
    grace_period: Duration,
}

impl MfaPolicy {
    /// A policy with `requirement` and no grace period.
    #[must_use]
    pub fn new(requirement: MfaRequirement) -> Self {
        Self {
            requirement,
            grace_period: Duration::ZERO,
        }
    }

    /// MFA for the holders of `roles`, read from `lookup` at each login.
    #[must_use]
    pub fn for_roles<S: Into<String>>(
        roles: impl IntoIterator<Item = S>,
        lookup: Arc<dyn RoleLookup>,
    ) -> Self {
        Self::new(MfaRequirement::Roles {
            roles: roles.into_iter().map(Into::into).collect(),
            lookup,
        })
    }

    /// Gives users who must enrol `grace` from their account's creation.
    #[must_use]
    pub fn with_grace_period(mut self, grace: Duration) -> Self {
        self.grace_period = grace;
        self
    }

    /// Who must prove a second factor.
    #[must_use]
    pub fn requirement(&self) -> &MfaRequirement {
        &self.requirement
    }

    /// Whether `user` must prove a second factor.
    pub(super) async fn applies_to(&self, user: UserId) -> Result<bool, BoxError> {
        Ok(match &self.requirement {
            MfaRequirement::Enrolled => false,
            MfaRequirement::Everyone => true,
            MfaRequirement::Roles { roles, lookup } => lookup
                .roles(user)
                .await?
                .iter()
                .any(|held| roles.contains(held)),
        })
    }

    /// Until when an account created at `created_at` may log in without a factor, if that is
    /// still ahead of `now`.
    pub(super) fn grace_until(
        &self,
        created_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        let until = created_at + self.grace_period;
        (until > now).then_some(until)
    }
}
