//! A stored session and how strongly its user authenticated.

use std::net::IpAddr;

use soc2_core::{SessionId, UserId};
use time::OffsetDateTime;

use crate::TokenDigest;

/// An authentication factor a session was established or stepped up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Factor {
    /// A memorized secret.
    Password,
    /// A time-based one-time password (RFC 6238).
    Totp,
    /// A WebAuthn credential (passkey or security key).
    WebAuthn,
    /// A single-use recovery code.
    RecoveryCode,
}

impl Factor {
    /// The stored name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Totp => "totp",
            Self::WebAuthn => "webauthn",
            Self::RecoveryCode => "recovery_code",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Password,
            Self::Totp,
            Self::WebAuthn,
            Self::RecoveryCode,
        ]
        .into_iter()
        .find(|factor| factor.name() == name)
    }
}

/// How and when the session's user last proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthLevel {
    /// When the user last authenticated (login or step-up).
    pub authenticated_at: OffsetDateTime,
    /// The factors presented then.
    pub factors: Vec<Factor>,
    /// When a second factor was last verified, if ever in this session.
    pub mfa_verified_at: Option<OffsetDateTime>,
}

/// A server-side session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session's id (safe to show and log; the token is not).
    pub id: SessionId,
    /// The digest of its token.
    pub digest: TokenDigest,
    /// Whose session it is.
    pub user_id: UserId,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was last used, to within the policy's touch interval.
    pub last_seen_at: OffsetDateTime,
    /// When it expires unless used again (`last_seen_at` + idle timeout).
    pub idle_expires_at: OffsetDateTime,
    /// When it expires whatever happens (`created_at` + absolute lifetime).
    pub absolute_expires_at: OffsetDateTime,
    /// How the user authenticated.
    pub auth: AuthLevel,
    /// The client address at creation.
    pub client_ip: Option<IpAddr>,
    /// The user agent at creation (bounded).
    pub user_agent: Option<String>,
}
