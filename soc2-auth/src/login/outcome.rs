//! What a login step answers.

use soc2_session::{Session, SessionToken};
use time::OffsetDateTime;

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
    /// MFA is required and the user has no factor yet, but their grace period runs until
    /// `deadline`: a full session; prompt the user to enrol before then.
    EnrollmentDue {
        /// The session token.
        token: SessionToken,
        /// The session (factors: password only).
        session: Session,
        /// When logins without a factor become enrolment-only.
        deadline: OffsetDateTime,
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
    /// A passkey: get its options from
    /// [`Authenticator::passkey_options`](super::Authenticator::passkey_options).
    Passkey,
}

impl MfaMethod {
    /// The stable name, e.g. for a JSON API.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
            Self::Passkey => "passkey",
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
    /// The browser's answer (JSON) to the options from
    /// [`Authenticator::passkey_options`](super::Authenticator::passkey_options).
    Passkey(&'a str),
}

impl std::fmt::Debug for MfaProof<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Totp(_) => "MfaProof::Totp([redacted])",
            Self::RecoveryCode(_) => "MfaProof::RecoveryCode([redacted])",
            Self::Passkey(_) => "MfaProof::Passkey([redacted])",
        })
    }
}
