//! What an administrator does to an account's credential.

use soc2_audit::{Actor, Outcome, SdkAction};
use soc2_core::{RequestContext, UserId};

use super::{AuthError, PasswordAuth};
use crate::{
    AccountLockState, AccountOp, AccountOutcome, CredentialFlags, CredentialRecord, LockoutKey,
    Username,
};

impl PasswordAuth {
    /// Lifts a lock on `user` and clears its failure counter, audited with the
    /// administrator as actor. Returns whether a lock was in force.
    ///
    /// # Errors
    /// [`AuthError::UnknownUser`], store and audit failures.
    pub async fn unlock(
        &self,
        user: UserId,
        by: Actor,
        context: &RequestContext,
    ) -> Result<bool, AuthError> {
        self.credential(user).await?;
        let key = LockoutKey::Account(user);
        let permit = self.audit.reserve()?;
        let outcome = self
            .lockouts
            .apply_account(&key, AccountOp::Unlock, self.now(), &self.lockout)
            .await?;
        let was_locked = matches!(outcome, AccountOutcome::Unlocked { was_locked: true });
        permit.record(
            self.event(
                SdkAction::AccountUnlocked,
                Outcome::Success,
                by,
                Some(user),
                context,
            )
            .with_reason("administrator unlock")
            .with_metadata("was_locked", was_locked),
        );
        Ok(was_locked)
    }

    /// The lockout counters of `user` (none before its first attempt).
    ///
    /// # Errors
    /// Store failures.
    pub async fn lock_state(&self, user: UserId) -> Result<Option<AccountLockState>, AuthError> {
        Ok(self
            .lockouts
            .account_state(&LockoutKey::Account(user))
            .await?)
    }

    /// Sets or clears "must change password at next login", audited.
    ///
    /// # Errors
    /// [`AuthError::UnknownUser`], store and audit failures.
    pub async fn require_change(
        &self,
        user: UserId,
        required: bool,
        by: Actor,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let record = self.credential(user).await?;
        let flags = record.flags.with_must_change(required);
        self.set_flags(user, flags, by, "must change password", required, context)
            .await
    }

    /// Disables or re-enables the account's password login, audited. A disabled account's
    /// logins are refused like a wrong password (after the same argon2 work).
    ///
    /// # Errors
    /// [`AuthError::UnknownUser`], store and audit failures.
    pub async fn set_disabled(
        &self,
        user: UserId,
        disabled: bool,
        by: Actor,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let record = self.credential(user).await?;
        let flags = record.flags.with_disabled(disabled);
        self.set_flags(user, flags, by, "disabled", disabled, context)
            .await
    }

    /// The credential of `user`.
    ///
    /// # Errors
    /// [`AuthError::UnknownUser`] and store failures.
    pub async fn credential(&self, user: UserId) -> Result<CredentialRecord, AuthError> {
        self.credentials
            .get(user)
            .await?
            .ok_or(AuthError::UnknownUser)
    }

    /// The credential of the account named `username`, if there is one (an invalid name has
    /// none).
    ///
    /// # Errors
    /// Store failures.
    pub async fn find_credential(
        &self,
        username: &str,
    ) -> Result<Option<CredentialRecord>, AuthError> {
        match Username::parse(username) {
            Ok(username) => Ok(self.credentials.find(&username).await?),
            Err(_) => Ok(None),
        }
    }

    async fn set_flags(
        &self,
        user: UserId,
        flags: CredentialFlags,
        by: Actor,
        flag: &str,
        value: bool,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let permit = self.audit.reserve()?;
        if !self.credentials.set_flags(user, flags).await? {
            return Err(AuthError::UnknownUser);
        }
        permit.record(
            self.event(
                SdkAction::AccountUpdated,
                Outcome::Success,
                by,
                Some(user),
                context,
            )
            .with_metadata("flag", flag)
            .with_metadata("value", value),
        );
        Ok(())
    }
}
