//! Password reset for a forgotten password: a single-use token of 256 bits, stored only as its
//! SHA-256, that expires, is replaced by a newer one and dies with a password change. A reset
//! sets the password and nothing else: the user then logs in as usual, second factor included,
//! and a locked account stays locked.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use soc2_audit::{Actor, Outcome, SdkAction};
use soc2_core::{RequestContext, SecretString, UserId};
use time::OffsetDateTime;

use super::challenge::{self, Challenge};
use super::{Authenticator, LoginError};
use crate::mfa::{Ceremony, MfaError, PASSWORD_RESET};
use crate::password::UserContext;
use crate::service::Proof;
use crate::{CredentialRecord, StoredHash};

/// The prefix of every reset token, so secret scanners recognise a leaked one.
pub const RESET_TOKEN_PREFIX: &str = "soc2r_";

/// How long a reset token works: 15 minutes (OWASP Forgot Password Cheat Sheet asks for a
/// short expiry; NIST SP 800-63B-4 §3.1.1.2 and ASVS 4.0.3 V2.5.1 ask that recovery secrets be
/// random, single use and short-lived).
pub const RESET_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// A reset token to deliver to the account's owner out of band (e-mail, say), never to the
/// requester's screen. `Debug` hides the token.
pub struct ResetTicket {
    user_id: UserId,
    token: Challenge,
}

impl ResetTicket {
    /// The account the token resets.
    #[must_use]
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// The token (`soc2r_…`).
    #[must_use]
    pub fn token(&self) -> &SecretString {
        self.token.token()
    }

    /// When it stops working.
    #[must_use]
    pub fn expires_at(&self) -> OffsetDateTime {
        self.token.expires_at()
    }
}

impl fmt::Debug for ResetTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResetTicket")
            .field("user_id", &self.user_id)
            .field("token", &self.token)
            .finish()
    }
}

/// What [`Authenticator::reset_password`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResetOutcome {
    /// The password was set and the user's sessions revoked; the user now logs in.
    Reset(UserId),
    /// The token is unknown, spent, expired, replaced, or the password changed since it was
    /// issued. One answer for all, so the caller learns nothing else.
    InvalidToken,
}

/// What a reset ceremony remembers: which password it may replace.
#[derive(Debug, Serialize, Deserialize)]
struct ResetState {
    /// SHA-256 of the stored hash at issue time (`""` for a password-less account): a
    /// password change in between changes it and voids the token.
    password: String,
}

impl ResetState {
    fn of(record: &CredentialRecord) -> Self {
        Self {
            password: record
                .password
                .as_ref()
                .map(fingerprint)
                .unwrap_or_default(),
        }
    }
}

fn fingerprint(hash: &StoredHash) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        hash.as_str().as_bytes(),
    ))
}

impl Authenticator {
    /// Issues a reset token for the account named `username`, replacing any earlier token.
    /// `None` for an unknown, invalid or disabled account: the caller must answer the
    /// requester the same way either way (and should deliver the token off the request path,
    /// so timing does not tell either). Audited as `auth.password.reset_requested`.
    ///
    /// # Errors
    /// Store, random and audit failures.
    pub async fn request_password_reset(
        &self,
        username: &str,
        context: &RequestContext,
    ) -> Result<Option<ResetTicket>, LoginError> {
        let record = self.passwords.find_credential(username).await?;
        let Some(record) = record.filter(|record| !record.flags.disabled) else {
            self.audit.record(
                self.event(
                    SdkAction::PasswordResetRequested,
                    Outcome::Failure,
                    Actor::anonymous(None),
                    None,
                    context,
                )
                .with_reason("unknown_or_disabled"),
            )?;
            return Ok(None);
        };
        let user = record.user_id;
        let expires_at = self.now() + self.reset_ttl;
        let (token, digest) =
            Challenge::with_prefix(RESET_TOKEN_PREFIX, expires_at).map_err(|_| MfaError::Random)?;
        let payload = serde_json::to_string(&ResetState::of(&record))
            .map_err(|e| soc2_core::StoreError::Corrupt(e.to_string()))?;
        let permit = self.audit.reserve()?;
        self.ceremonies
            .put_password_reset(&Ceremony::new(
                digest,
                PASSWORD_RESET,
                user,
                payload,
                expires_at,
            ))
            .await?;
        permit.record(self.event(
            SdkAction::PasswordResetRequested,
            Outcome::Success,
            Actor::anonymous(None),
            Some(user),
            context,
        ));
        Ok(Some(ResetTicket {
            user_id: user,
            token,
        }))
    }

    /// Sets a new password with a reset token: the token is spent whatever the outcome; the
    /// password must meet the policy and not repeat the history (no minimum age: the user
    /// forgot it). Then every session of the user is revoked. No session is created, MFA is
    /// not skipped and a lockout is not cleared: the user logs in as usual.
    ///
    /// # Errors
    /// [`LoginError::Password`] with [`crate::AuthError::Rejected`] for a refused password
    /// (the token is spent: request another); store, session and audit failures.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        profile: &UserContext<'_>,
        context: &RequestContext,
    ) -> Result<ResetOutcome, LoginError> {
        let ceremony = match challenge::presented_with_prefix(RESET_TOKEN_PREFIX, token) {
            Some(digest) => {
                self.ceremonies
                    .take_ceremony(&digest, PASSWORD_RESET, self.now())
                    .await?
            }
            None => None,
        };
        let Some(ceremony) = ceremony else {
            return self.invalid_reset(None, "unknown_token", context);
        };
        let user = ceremony.user_id;
        let record = self.passwords.credential(user).await?;
        let issued_for: Option<ResetState> = serde_json::from_str(&ceremony.payload).ok();
        if issued_for.is_none_or(|state| state.password != ResetState::of(&record).password) {
            return self.invalid_reset(Some(user), "password_changed", context);
        }
        if record.flags.disabled {
            return self.invalid_reset(Some(user), "disabled", context);
        }
        self.passwords
            .change_verified(record, new_password, profile, Proof::ResetToken, context)
            .await?;
        self.sessions
            .revoke_user(user, Actor::user(user), context)
            .await?;
        Ok(ResetOutcome::Reset(user))
    }

    fn invalid_reset(
        &self,
        user: Option<UserId>,
        reason: &str,
        context: &RequestContext,
    ) -> Result<ResetOutcome, LoginError> {
        let actor = user.map_or(Actor::anonymous(None), Actor::user);
        self.audit.record(
            self.event(
                SdkAction::PasswordReset,
                Outcome::Failure,
                actor,
                user,
                context,
            )
            .with_reason(reason),
        )?;
        Ok(ResetOutcome::InvalidToken)
    }
}
