//! What a login step answers.

use soc2_session::{Session, SessionToken};

use super::Challenge;
use crate::{ChangeReason, LoginDenied};

/// The answer to a login step.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoginOutcome {
    /// Every required factor is proven: here is the session (hand the token to the client).
    Authenticated {
        /// The session token, shown to the client once.
        token: SessionToken,
        /// The session.
        session: Session,
    },
    /// The password is right; now a second factor with one of `methods`, through
    /// [`Authenticator::complete_mfa`](super::Authenticator::complete_mfa).
    MfaRequired {
        /// Opaque, short-lived, single-use, bound to the user.
        challenge: Challenge,
        /// What the user may answer with.
        methods: Vec<MfaMethod>,
    },
    /// The password is right but must be changed first, through
    /// [`Authenticator::complete_password_change`](super::Authenticator::complete_password_change).
    PasswordChangeRequired {
        /// Opaque, short-lived, single-use, bound to the user.
        challenge: Challenge,
        /// Why.
        reason: ChangeReason,
    },
    /// MFA is required but the user has no factor yet: a password-only session the host must
    /// confine to enrolling one.
    EnrollmentRequired {
        /// The session token.
        token: SessionToken,
        /// The session (factors: password only).
        session: Session,
    },
    /// Refused; show the caller only [`LoginDenied::public`].
    Denied(LoginDenied),
}

/// A second factor a login may finish with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MfaMethod {
    /// A TOTP code.
    Totp,
    /// One of the recovery codes.
    RecoveryCode,
}

impl MfaMethod {
    /// The stable name, e.g. for a JSON API.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
        }
    }
}

/// What the user presents to finish a login.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum MfaProof<'a> {
    /// A TOTP code.
    Totp(&'a str),
    /// A recovery code.
    RecoveryCode(&'a str),
}

impl std::fmt::Debug for MfaProof<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Totp(_) => "MfaProof::Totp([redacted])",
            Self::RecoveryCode(_) => "MfaProof::RecoveryCode([redacted])",
        })
    }
}
