//! Passkeys in the login flow: as the second factor after a password, and for passwordless
//! sign-in with a discoverable credential.

use soc2_core::{RequestContext, UserId};
use soc2_session::Factor;

use super::{Authenticator, LoginError, LoginOutcome, MFA_LOGIN};
use crate::passkey::{PasskeyAuth, PasskeyCheck, PasskeyPrompt};
use crate::{AuthError, DenyReason, LoginDenied};

impl Authenticator {
    /// Starts the passkey answer to [`LoginOutcome::MfaRequired`] (offered with
    /// [`MfaMethod::Passkey`](super::MfaMethod::Passkey)): spends `challenge` and returns a new
    /// one for the same user with the options for `navigator.credentials.get()`. Finish with
    /// [`Authenticator::complete_mfa`] on the new challenge and
    /// [`MfaProof::Passkey`](super::MfaProof::Passkey). `None` when the challenge is unknown,
    /// spent or expired (log in again).
    ///
    /// # Errors
    /// [`LoginError::PasskeysNotConfigured`]; [`LoginError::Passkey`] when the user has no
    /// passkey, and for store and random failures.
    pub async fn passkey_options(
        &self,
        challenge: &str,
    ) -> Result<Option<PasskeyPrompt>, LoginError> {
        let passkeys = self.passkeys()?;
        let Some(ceremony) = self.take(challenge, MFA_LOGIN).await? else {
            return Ok(None);
        };
        let prompt = passkeys
            .begin_authentication_as(MFA_LOGIN, ceremony.user_id)
            .await?;
        Ok(Some(prompt))
    }

    /// Starts a passwordless sign-in: a challenge and the options for
    /// `navigator.credentials.get()` that let the authenticator pick one of its discoverable
    /// credentials. Finish with [`Authenticator::finish_passkey_login`].
    ///
    /// # Errors
    /// [`LoginError::PasskeysNotConfigured`]; [`LoginError::Passkey`] for store and random
    /// failures.
    pub async fn begin_passkey_login(&self) -> Result<PasskeyPrompt, LoginError> {
        Ok(self.passkeys()?.begin_discoverable().await?)
    }

    /// Finishes a passwordless sign-in with the browser's answer (JSON). A passkey verified
    /// with user verification is a multi-factor authenticator on its own (NIST SP 800-63B-4
    /// §3.1.7), so the session's factors are `[WebAuthn]`. A disabled or locked account is
    /// refused after the assertion is checked (the assertion is what names the account); the
    /// answer is [`LoginOutcome::Denied`] either way.
    ///
    /// # Errors
    /// [`LoginError::Passkey`] for a malformed response; store, session and audit failures.
    pub async fn finish_passkey_login(
        &self,
        token: &str,
        response: &str,
        context: &RequestContext,
    ) -> Result<LoginOutcome, LoginError> {
        let check = self
            .passkeys()?
            .finish_discoverable(token, response, context)
            .await?;
        let PasskeyCheck::Accepted(user) = check else {
            return self.denied(None, self.generic_denial(), context);
        };
        if let Some(reason) = self.account_refusal(user).await? {
            let reveal = self.passwords.lockout_policy().reveals_lock();
            return self.denied(Some(user), LoginDenied::new(reason, reveal), context);
        }
        self.authenticated(user, &[Factor::WebAuthn], context).await
    }

    /// Whether passkeys are offered to the user at login.
    pub(super) async fn has_passkeys(&self, user: UserId) -> Result<bool, LoginError> {
        match &self.passkeys {
            Some(passkeys) => Ok(passkeys.has_passkeys(user).await?),
            None => Ok(false),
        }
    }

    /// The passkey service, if configured.
    pub(super) fn passkeys(&self) -> Result<&PasskeyAuth, LoginError> {
        self.passkeys
            .as_ref()
            .ok_or(LoginError::PasskeysNotConfigured)
    }

    /// Why an account that proved itself without a password may still not sign in: unknown
    /// to the credential store, disabled, or locked (by failures or an administrator).
    async fn account_refusal(&self, user: UserId) -> Result<Option<DenyReason>, LoginError> {
        let record = match self.passwords.credential(user).await {
            Ok(record) => record,
            Err(AuthError::UnknownUser) => return Ok(Some(DenyReason::UnknownUser)),
            Err(other) => return Err(other.into()),
        };
        if record.flags.disabled {
            return Ok(Some(DenyReason::Disabled));
        }
        let lock = self.passwords.lock_state(user).await?;
        Ok(lock
            .filter(|state| state.is_locked(self.now()))
            .map(|state| DenyReason::Locked {
                until: if state.admin_lock {
                    None
                } else {
                    state.locked_until
                },
            }))
    }
}
