//! Setting and changing passwords.

use soc2_audit::{Actor, Outcome, SdkAction};
use soc2_core::{RequestContext, StoreError, UserId};

use super::attempt::{Slot, Verdict};
use super::{AuthError, PasswordAuth, with_identity};
use crate::password::{
    NormalizedPassword, PasswordCheckError, PasswordRejected, UserContext, Violation,
    ViolationCode, normalize_password,
};
use crate::{CredentialRecord, LockoutKey, Username, Verification};

/// How the user proved who they are before choosing a new password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proof {
    /// The current password (a change, or a login that requires one).
    CurrentPassword,
    /// A password-reset token.
    ResetToken,
}

impl PasswordAuth {
    /// Creates the credential of a new account. `password` is checked against the policy
    /// with the user's own details in `profile` (the username and application name are added
    /// here); `None` creates a password-less account (passkey-only, or an invitation).
    ///
    /// # Errors
    /// [`AuthError::InvalidUsername`], [`AuthError::Rejected`] (audited with the violation
    /// codes), [`AuthError::UsernameTaken`], and store, hash, breach-check and audit failures
    /// (then no account exists).
    pub async fn register(
        &self,
        user_id: UserId,
        username: &str,
        password: Option<&str>,
        profile: &UserContext<'_>,
        context: &RequestContext,
    ) -> Result<CredentialRecord, AuthError> {
        let username = Username::parse(username)?;
        let hash = match password {
            Some(password) => {
                let profile = self.profile(profile, &username);
                let password = self
                    .accept_new_password(password, &profile, Some(user_id), context)
                    .await?;
                Some(self.hasher.hash(&password).await?)
            }
            None => None,
        };
        let record = CredentialRecord::new(user_id, username, hash, self.now());
        let permit = self.audit.reserve()?;
        self.credentials
            .insert(&record)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AuthError::UsernameTaken,
                other => AuthError::Store(other),
            })?;
        permit.record(
            self.event(
                SdkAction::PasswordSet,
                Outcome::Success,
                Actor::user(user_id),
                Some(user_id),
                context,
            )
            .with_reason(if record.password.is_some() {
                "registration"
            } else {
                "registration without password"
            }),
        );
        Ok(record)
    }

    /// The user changes their own password: `current` must be right (a wrong one counts
    /// toward lockout, and a locked account answers like a wrong one), the minimum age must
    /// have passed (unless a change is required), `new` must meet the policy and must not
    /// match the current password or the history. On success the change is audited; revoke
    /// the user's other sessions afterwards.
    ///
    /// # Errors
    /// [`AuthError::WrongCurrentPassword`], [`AuthError::Rejected`] (codes `reused`,
    /// `too_recent` and the policy's), [`AuthError::Conflict`], [`AuthError::UnknownUser`],
    /// and store, hash, breach-check and audit failures (then nothing changed).
    pub async fn change_password(
        &self,
        user_id: UserId,
        current: &str,
        new: &str,
        profile: &UserContext<'_>,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let record = self.credential(user_id).await?;
        self.check_current(&record, current, context).await?;
        self.change_verified(record, new, profile, Proof::CurrentPassword, context)
            .await
    }

    /// The part of a password change after the user proved who they are (`proof`): the
    /// policy and history rules, the minimum age for a change with the current password (a
    /// forgotten password is reset whatever its age), then the swap.
    pub(crate) async fn change_verified(
        &self,
        record: CredentialRecord,
        new: &str,
        profile: &UserContext<'_>,
        proof: Proof,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let user_id = record.user_id;
        let profile = self.profile(profile, &record.username);
        let password = self
            .accept_new_password(new, &profile, Some(user_id), context)
            .await?;
        let mut rejected: Option<PasswordRejected> = None;
        let mut reject = |violation: Violation| match &mut rejected {
            Some(rejected) => rejected.push(violation),
            None => rejected = Some(PasswordRejected::new(violation)),
        };
        if proof == Proof::CurrentPassword && self.too_recent(&record) {
            reject(Violation::new(
                ViolationCode::TooRecent,
                "the password was changed too recently to change it again",
            ));
        }
        if self.reuses_history(&record, &password).await? {
            reject(Violation::new(
                ViolationCode::Reused,
                "the password matches the current or a recent password",
            ));
        }
        if let Some(rejected) = rejected {
            self.audit_rejected(&rejected, Some(user_id), context)?;
            return Err(rejected.into());
        }
        let action = match proof {
            Proof::CurrentPassword => SdkAction::PasswordChanged,
            Proof::ResetToken => SdkAction::PasswordReset,
        };
        self.replace(&record, &password, action, Actor::user(user_id), context)
            .await
    }

    /// An administrator (or a reset flow) sets a user's password without the current one.
    /// The policy applies, the history does not; with `must_change` the user must pick a new
    /// password at the next login (use it for temporary passwords).
    ///
    /// # Errors
    /// As [`PasswordAuth::change_password`], without the current-password and history errors.
    pub async fn set_password(
        &self,
        user_id: UserId,
        new: &str,
        must_change: bool,
        by: Actor,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let record = self.credential(user_id).await?;
        let profile = self.profile(&UserContext::default(), &record.username);
        let password = self
            .accept_new_password(new, &profile, Some(user_id), context)
            .await?;
        self.replace(&record, &password, SdkAction::PasswordSet, by, context)
            .await?;
        if must_change {
            let flags = record.flags.with_must_change(true);
            self.credentials.set_flags(user_id, flags).await?;
        }
        Ok(())
    }

    /// Checks the current password through the lockout counter.
    async fn check_current(
        &self,
        record: &CredentialRecord,
        current: &str,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let Ok(current) = normalize_password(current, self.password_policy().max_input_bytes())
        else {
            return Err(AuthError::WrongCurrentPassword);
        };
        let key = LockoutKey::Account(record.user_id);
        let user = Some(record.user_id);
        if !matches!(
            self.begin_attempt(&key, user, context).await?,
            Slot::Granted
        ) {
            self.hasher.verify_dummy(&current).await?;
            return Err(AuthError::WrongCurrentPassword);
        }
        let verified = match &record.password {
            Some(stored) => self.hasher.verify(&current, stored).await,
            None => self
                .hasher
                .verify_dummy(&current)
                .await
                .map(|()| Verification::Mismatch),
        };
        let verdict = match &verified {
            Ok(Verification::Match { .. }) => Verdict::Right,
            Ok(_) => Verdict::Wrong,
            Err(_) => Verdict::Inconclusive,
        };
        self.finish_attempt(&key, user, verdict, context).await?;
        if matches!(verified?, Verification::Match { .. }) {
            Ok(())
        } else {
            let event = self
                .event(
                    SdkAction::PasswordFailed,
                    Outcome::Failure,
                    Actor::user(record.user_id),
                    user,
                    context,
                )
                .with_reason("wrong_current_password");
            self.audit.record(event)?;
            Err(AuthError::WrongCurrentPassword)
        }
    }

    /// Runs the policy (and breach check) on a new password; audits a refusal.
    async fn accept_new_password(
        &self,
        candidate: &str,
        profile: &UserContext<'_>,
        user: Option<UserId>,
        context: &RequestContext,
    ) -> Result<NormalizedPassword, AuthError> {
        match self.checker.check(candidate, profile).await {
            Ok(password) => Ok(password),
            Err(PasswordCheckError::Rejected(rejected)) => {
                self.audit_rejected(&rejected, user, context)?;
                Err(rejected.into())
            }
            Err(PasswordCheckError::Breached(error)) => Err(error.into()),
        }
    }

    fn audit_rejected(
        &self,
        rejected: &PasswordRejected,
        user: Option<UserId>,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let codes: Vec<_> = rejected
            .violations()
            .iter()
            .map(|v| v.code().as_str())
            .collect();
        let actor = user.map_or(Actor::anonymous(None), Actor::user);
        let event = self
            .event(
                SdkAction::PasswordRejected,
                Outcome::Denied,
                actor,
                user,
                context,
            )
            .with_metadata("violations", codes);
        self.audit.record(event)?;
        Ok(())
    }

    fn too_recent(&self, record: &CredentialRecord) -> bool {
        !record.flags.must_change
            && self
                .password_policy()
                .min_age()
                .zip(record.password_changed_at)
                .is_some_and(|(min_age, changed)| self.now() < changed + min_age)
    }

    /// Whether `password` matches the current hash or the remembered part of the history
    /// (`history_depth` passwords in all, the current one included).
    async fn reuses_history(
        &self,
        record: &CredentialRecord,
        password: &NormalizedPassword,
    ) -> Result<bool, AuthError> {
        let depth = self.password_policy().history_depth();
        let remembered: Vec<_> = record
            .password
            .iter()
            .chain(&record.history)
            .take(depth)
            .cloned()
            .collect();
        if remembered.is_empty() {
            return Ok(false);
        }
        Ok(self
            .hasher
            .find_match(password, &remembered)
            .await?
            .is_some())
    }

    /// Hashes and stores the new password (compare-and-swap on the old one), audited.
    async fn replace(
        &self,
        record: &CredentialRecord,
        password: &NormalizedPassword,
        action: SdkAction,
        by: Actor,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let hash = self.hasher.hash(password).await?;
        let keep = self.password_policy().history_depth().saturating_sub(1);
        let permit = self.audit.reserve()?;
        let replaced = self
            .credentials
            .replace_password(
                record.user_id,
                record.password.as_ref(),
                &hash,
                self.now(),
                keep,
            )
            .await?;
        if !replaced {
            return Err(AuthError::Conflict);
        }
        permit.record(self.event(action, Outcome::Success, by, Some(record.user_id), context));
        Ok(())
    }

    /// The caller's profile plus the username and the application's name.
    pub(super) fn profile<'a>(
        &'a self,
        profile: &UserContext<'a>,
        username: &'a Username,
    ) -> UserContext<'a> {
        with_identity(*profile, username, self.app_name.as_deref())
    }
}
