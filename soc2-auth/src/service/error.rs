//! Errors of the password service.

use soc2_audit::AuditError;
use soc2_core::StoreError;

use crate::password::{BreachedCheckError, PasswordRejected};
use crate::{HashError, UsernameError};

/// Why a password operation did not happen. A refused *login* is not an error: it is a
/// [`LoginDenied`](crate::LoginDenied) outcome.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The login name is empty, oversized or contains control characters.
    #[error(transparent)]
    InvalidUsername(#[from] UsernameError),
    /// Another account has this login name.
    #[error("the username is taken")]
    UsernameTaken,
    /// No credential exists for the user.
    #[error("unknown user")]
    UnknownUser,
    /// The current password given for a change is wrong (or the account is locked, which
    /// answers the same).
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    /// The new password breaks the policy; every violation is listed.
    #[error(transparent)]
    Rejected(#[from] PasswordRejected),
    /// The password changed concurrently; nothing was written.
    #[error("the password was changed concurrently; try again")]
    Conflict,
    /// The breached-password service failed; the password was not accepted (fail closed).
    #[error(transparent)]
    Breached(#[from] BreachedCheckError),
    /// Hashing failed or a stored hash cannot be checked.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// A store failed.
    #[error("credential or lockout store failed")]
    Store(#[from] StoreError),
    /// The audit log refused the event; the action did not take effect (fail closed).
    #[error("audit log unavailable")]
    Audit(#[from] AuditError),
}
