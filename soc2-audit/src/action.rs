//! What happened: the SDK's own actions with dotted names, plus host-defined ones.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Criterion;

macro_rules! sdk_actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, [$($criterion:ident),+];)+) => {
        /// A security decision taken by soc2-rs itself. Each has a stable dotted name and the
        /// SOC 2 criteria it evidences by default.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum SdkAction {
            $($(#[$doc])* $variant,)+
        }

        impl SdkAction {
            /// Every SDK action, in declaration order.
            pub const ALL: &'static [SdkAction] = &[$(SdkAction::$variant,)+];

            /// The stable dotted name, e.g. `auth.login.failed`.
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self {
                    $(SdkAction::$variant => $name,)+
                }
            }

            /// The Trust Services Criteria an event of this action evidences.
            #[must_use]
            pub const fn criteria(self) -> &'static [Criterion] {
                match self {
                    $(SdkAction::$variant => &[$(Criterion::$criterion),+],)+
                }
            }
        }
    };
}

sdk_actions! {
    /// A login completed with every required factor.
    LoginSucceeded => "auth.login.succeeded", [Cc6_1];
    /// A login was refused (wrong credential, unknown user, locked account).
    LoginFailed => "auth.login.failed", [Cc6_1];
    /// An account was locked after repeated failures.
    AccountLocked => "auth.lockout.locked", [Cc6_1, Cc7_2];
    /// An account was unlocked, by timeout or by an administrator.
    AccountUnlocked => "auth.lockout.unlocked", [Cc6_1];
    /// A user changed their own password.
    PasswordChanged => "auth.password.changed", [Cc6_1];
    /// A password was set without the current one: at registration or by an administrator.
    PasswordSet => "auth.password.set", [Cc6_1, Cc6_2];
    /// A new password was refused by the password policy (the event lists the violation
    /// codes, never the password).
    PasswordRejected => "auth.password.rejected", [Cc6_1];
    /// A password presented at login matched the stored hash.
    PasswordVerified => "auth.password.verified", [Cc6_1];
    /// A password step of a login was refused (wrong password, unknown or locked account).
    PasswordFailed => "auth.password.failed", [Cc6_1, Cc7_2];
    /// A stored hash was upgraded to the current parameters or pepper at login.
    PasswordRehashed => "auth.password.rehashed", [Cc6_1];
    /// A password reset was asked for (the event says whether a token was issued).
    PasswordResetRequested => "auth.password.reset_requested", [Cc6_1];
    /// A user set a new password with a reset token (or a token was refused).
    PasswordReset => "auth.password.reset", [Cc6_1, Cc6_2];
    /// An account's administrative flags changed (disabled, must change password).
    AccountUpdated => "auth.account.updated", [Cc6_2];
    /// A client IP exceeded the failed-login rate and was throttled.
    LoginThrottled => "auth.login.throttled", [Cc6_1, Cc7_2];
    /// An MFA factor was enrolled.
    MfaEnrolled => "auth.mfa.enrolled", [Cc6_1, Cc6_2];
    /// An MFA factor was removed.
    MfaRemoved => "auth.mfa.removed", [Cc6_1, Cc6_2];
    /// An MFA factor's display name changed (e.g. a passkey renamed).
    MfaRenamed => "auth.mfa.renamed", [Cc6_2];
    /// A second factor was presented successfully.
    MfaVerified => "auth.mfa.verified", [Cc6_1];
    /// A second factor was presented and refused.
    MfaFailed => "auth.mfa.failed", [Cc6_1, Cc7_2];
    /// A session was created.
    SessionCreated => "session.created", [Cc6_1];
    /// A session token was rotated.
    SessionRotated => "session.rotated", [Cc6_1];
    /// A session expired (idle or absolute timeout).
    SessionExpired => "session.expired", [Cc6_1];
    /// A session was revoked (logout, administrator, credential change).
    SessionRevoked => "session.revoked", [Cc6_1];
    /// A user hit the concurrent-session limit.
    SessionLimitReached => "session.limit_reached", [Cc6_1];
    /// An authorization request was denied.
    AuthorizationDenied => "authz.denied", [Cc6_1, Cc6_3];
    /// A role was granted.
    RoleGranted => "rbac.role.granted", [Cc6_2, Cc6_3];
    /// A role was revoked.
    RoleRevoked => "rbac.role.revoked", [Cc6_2, Cc6_3];
    /// A segregation-of-duties rule was violated or enforced.
    SodViolation => "rbac.sod.violation", [Cc6_3];
    /// The policy set was reloaded (or a reload was refused).
    PolicyReloaded => "rbac.policy.reloaded", [Cc8_1];
    /// An access-review decision was recorded.
    ReviewDecided => "rbac.review.decided", [Cc6_2, Cc6_3];
    /// Old audit events were purged under the retention policy.
    RetentionPurged => "audit.retention.purged", [Cc7_2];
    /// A just-in-time role elevation was requested; it waits for a second person's approval.
    ElevationRequested => "rbac.elevation.requested", [Cc6_2, Cc6_3];
    /// A pending elevation was approved by a second person, or an approval was refused (the
    /// approver is the elevated user or the requester).
    ElevationApproved => "rbac.elevation.approved", [Cc6_2, Cc6_3];
    /// A pending elevation was denied.
    ElevationDenied => "rbac.elevation.denied", [Cc6_2, Cc6_3];
    /// An elevation was revoked before it expired.
    ElevationRevoked => "rbac.elevation.revoked", [Cc6_2, Cc6_3];
    /// A break-glass elevation was granted without approval, or refused because the policy does
    /// not allow break-glass grants; always worth a look (CC7.2).
    ElevationBreakGlass => "rbac.elevation.break_glass", [Cc6_2, Cc6_3, Cc7_2];
    /// An access-review campaign was started over a snapshot of role assignments.
    ReviewStarted => "rbac.review.started", [Cc6_2, Cc6_3];
    /// An access-review campaign was closed with every item decided.
    ReviewClosed => "rbac.review.closed", [Cc6_2, Cc6_3];
}

/// Namespaces reserved for [`SdkAction`]s; host actions may not use them, so a host event can
/// never pass for one of the SDK's own security decisions.
pub const RESERVED_NAMESPACES: &[&str] = &["auth.", "session.", "authz.", "rbac.", "audit."];

/// The action an audit event records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// One of the SDK's own actions.
    Sdk(SdkAction),
    /// An action defined by the host application, e.g. `billing.invoice.exported`.
    Host(HostAction),
}

impl Action {
    /// The dotted name stored in the log.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::Sdk(action) => action.name(),
            Self::Host(action) => action.name(),
        }
    }

    /// The criteria evidenced by default (none for host actions unless set on the event).
    #[must_use]
    pub fn default_criteria(&self) -> &'static [Criterion] {
        match self {
            Self::Sdk(action) => action.criteria(),
            Self::Host(_) => &[],
        }
    }
}

impl From<SdkAction> for Action {
    fn from(action: SdkAction) -> Self {
        Self::Sdk(action)
    }
}

impl From<HostAction> for Action {
    fn from(action: HostAction) -> Self {
        Self::Host(action)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Action {
    type Err = InvalidAction;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match SdkAction::ALL.iter().find(|action| action.name() == name) {
            Some(action) => Ok(Self::Sdk(*action)),
            None => HostAction::new(name).map(Self::Host),
        }
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// A host-defined action name: 3 to 128 characters of `a-z 0-9 _ .`, at least two dot-separated
/// segments, outside the [`RESERVED_NAMESPACES`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostAction(String);

/// Why a host action name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidAction {
    /// The name is not lowercase dotted segments of `a-z 0-9 _`, or is too long.
    #[error(
        "action names are 3-128 characters of lowercase dotted segments (a-z 0-9 _), e.g. `billing.invoice.exported`"
    )]
    Malformed,
    /// The name uses a namespace reserved for soc2-rs's own events.
    #[error("the namespace of `{0}` is reserved for soc2-rs's own events")]
    Reserved(String),
}

impl HostAction {
    /// Validates a host action name.
    ///
    /// # Errors
    /// [`InvalidAction`] when malformed or in a reserved namespace.
    pub fn new(name: &str) -> Result<Self, InvalidAction> {
        let well_formed = (3..=128).contains(&name.len())
            && name.split('.').count() >= 2
            && name.split('.').all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            });
        if !well_formed {
            return Err(InvalidAction::Malformed);
        }
        if RESERVED_NAMESPACES.iter().any(|ns| name.starts_with(ns)) {
            return Err(InvalidAction::Reserved(name.to_owned()));
        }
        Ok(Self(name.to_owned()))
    }

    /// The dotted name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_names_are_unique_and_round_trip() {
        let mut names: Vec<_> = SdkAction::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SdkAction::ALL.len());
        for action in SdkAction::ALL {
            assert_eq!(
                action.name().parse::<Action>().unwrap(),
                Action::Sdk(*action)
            );
            assert!(
                RESERVED_NAMESPACES
                    .iter()
                    .any(|ns| action.name().starts_with(ns))
            );
        }
    }

    #[test]
    fn host_actions_are_validated() {
        let action: Action = "billing.invoice.exported".parse().unwrap();
        assert_eq!(action.name(), "billing.invoice.exported");
        assert!(action.default_criteria().is_empty());
        assert_eq!(HostAction::new("Billing.X"), Err(InvalidAction::Malformed));
        assert_eq!(HostAction::new("nodots"), Err(InvalidAction::Malformed));
        assert_eq!(HostAction::new("a..b"), Err(InvalidAction::Malformed));
        assert_eq!(
            HostAction::new(&"a.".repeat(100)),
            Err(InvalidAction::Malformed)
        );
        assert_eq!(
            HostAction::new("auth.login.bypassed"),
            Err(InvalidAction::Reserved("auth.login.bypassed".into()))
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_names_parse_or_fail_cleanly(name in "\\PC{0,200}") {
            if let Ok(action) = name.parse::<Action>() {
                proptest::prop_assert_eq!(action.name(), name.as_str());
            }
        }
    }

    #[test]
    fn login_failure_evidences_cc6_1() {
        assert_eq!(SdkAction::LoginFailed.name(), "auth.login.failed");
        assert_eq!(SdkAction::LoginFailed.criteria(), &[Criterion::Cc6_1]);
    }
}
