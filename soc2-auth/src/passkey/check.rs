//! The answer to a passkey assertion, and why one is refused.

use soc2_core::UserId;
use webauthn_rs::prelude::WebauthnError;

use crate::mfa::counter::CountedCheck;

/// The answer to a passkey assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasskeyCheck {
    /// The assertion proves the credential's owner, this user.
    Accepted(UserId),
    /// Refused; the reason is for the host's logs, the caller hears only "invalid passkey".
    Refused(PasskeyRefusal),
}

/// Why a passkey ceremony was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasskeyRefusal {
    /// The ceremony token is unknown, expired, spent, of another kind or another user's; not
    /// counted (no credential was tried).
    UnknownCeremony,
    /// No user has the credential (passwordless sign-in); not counted, there is no one to
    /// count against.
    UnknownCredential,
    /// The credential is not one of the user's (another user's, or removed).
    NotUsersCredential,
    /// The response was made for another origin or relying party (phishing).
    WrongOrigin,
    /// The signature, challenge or flags (user verification) do not verify.
    Invalid,
    /// The signature counter did not increase: a replayed assertion or a cloned
    /// authenticator (W3C WebAuthn Level 3 §7.2, the signature counter check).
    Replayed,
    /// Too many wrong answers: the second-factor counter is locked.
    Locked,
    /// The credential is registered already (registration only).
    AlreadyRegistered,
}

impl PasskeyRefusal {
    /// The stable code written to the audit log.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::UnknownCeremony => "unknown_ceremony",
            Self::UnknownCredential => "unknown_credential",
            Self::NotUsersCredential => "not_users_credential",
            Self::WrongOrigin => "wrong_origin",
            Self::Invalid => "invalid_assertion",
            Self::Replayed => "replayed",
            Self::Locked => "locked",
            Self::AlreadyRegistered => "already_registered",
        }
    }

    /// The refusal for a response the WebAuthn verifier rejected.
    pub(super) fn from_webauthn(error: &WebauthnError) -> Self {
        match error {
            WebauthnError::InvalidRPOrigin | WebauthnError::InvalidRPIDHash => Self::WrongOrigin,
            WebauthnError::CredentialPossibleCompromise => Self::Replayed,
            WebauthnError::CredentialNotFound => Self::NotUsersCredential,
            _ => Self::Invalid,
        }
    }

    /// Whether the refusal says something about the factor (and so counts toward the lock).
    fn counts(self) -> bool {
        !matches!(
            self,
            Self::UnknownCeremony | Self::UnknownCredential | Self::Locked
        )
    }
}

impl CountedCheck for PasskeyCheck {
    fn locked() -> Self {
        Self::Refused(PasskeyRefusal::Locked)
    }

    fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted(_))
    }

    fn is_failure(&self) -> bool {
        matches!(self, Self::Refused(refusal) if refusal.counts())
    }
}
