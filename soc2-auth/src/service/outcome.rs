//! What a password login step answers.

use std::time::Duration;

use soc2_core::UserId;
use time::OffsetDateTime;

use crate::Username;
use crate::password::ViolationCode;

/// The answer to [`PasswordAuth::verify`](crate::PasswordAuth::verify).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordCheck {
    /// The password is right (the next step may still be MFA or a password change).
    Verified(VerifiedPassword),
    /// The login is refused.
    Denied(LoginDenied),
}

/// A user whose password was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedPassword {
    /// The account.
    pub user_id: UserId,
    /// Its normalised login name.
    pub username: Username,
    /// Set when the user must choose a new password before doing anything else.
    pub change_required: Option<ChangeReason>,
}

/// Why a verified user must change their password now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeReason {
    /// An administrator set "must change at next login" (or set a temporary password).
    AdministratorRequired,
    /// The password is older than the policy's maximum age.
    Expired,
    /// The password no longer meets the (tightened) policy; these are the violations.
    PolicyChanged(Vec<ViolationCode>),
}

/// A refused login. [`LoginDenied::reason`] is for the host's logs; show the caller only
/// [`LoginDenied::public`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginDenied {
    reason: DenyReason,
    reveal_lock: bool,
}

/// Why a login was refused, for the host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// The password is wrong.
    WrongPassword,
    /// No account has this name.
    UnknownUser,
    /// The account is disabled.
    Disabled,
    /// The account has no password (it signs in another way).
    NoPassword,
    /// The account is locked; `until` is `None` for a lock only an administrator lifts.
    Locked {
        /// When the lock ends by itself.
        until: Option<OffsetDateTime>,
    },
    /// Too many failures from the client's IP.
    Throttled {
        /// When to try again.
        retry_after: Duration,
    },
    /// Too many attempts on the account are in flight right now.
    Busy,
    /// The username or password is not even well-formed (empty, oversized, control
    /// characters).
    MalformedInput,
}

/// What the caller may be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicDenial {
    /// "Invalid username or password": wrong password, unknown user, disabled and (by
    /// default) locked accounts all answer this, so nothing reveals which accounts exist.
    InvalidCredentials,
    /// The account is locked (only when the lockout policy reveals locks).
    Locked {
        /// When the lock ends by itself.
        until: Option<OffsetDateTime>,
    },
    /// Slow down: try again after the given time (HTTP 429).
    TryLater {
        /// When to try again.
        retry_after: Duration,
    },
}

impl LoginDenied {
    pub(crate) fn new(reason: DenyReason, reveal_lock: bool) -> Self {
        Self {
            reason,
            reveal_lock,
        }
    }

    /// The real reason, for logs and the host's own decisions.
    #[must_use]
    pub fn reason(&self) -> &DenyReason {
        &self.reason
    }

    /// The answer for the caller.
    #[must_use]
    pub fn public(&self) -> PublicDenial {
        match self.reason {
            DenyReason::Locked { until } if self.reveal_lock => PublicDenial::Locked { until },
            DenyReason::Throttled { retry_after } => PublicDenial::TryLater { retry_after },
            DenyReason::Busy => PublicDenial::TryLater {
                retry_after: Duration::from_secs(1),
            },
            _ => PublicDenial::InvalidCredentials,
        }
    }

    /// The stable code written to the audit log.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self.reason {
            DenyReason::WrongPassword => "wrong_password",
            DenyReason::UnknownUser => "unknown_user",
            DenyReason::Disabled => "disabled",
            DenyReason::NoPassword => "no_password",
            DenyReason::Locked { .. } => "locked",
            DenyReason::Throttled { .. } => "ip_throttled",
            DenyReason::Busy => "busy",
            DenyReason::MalformedInput => "malformed_input",
        }
    }
}
