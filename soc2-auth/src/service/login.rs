//! The login password check.

use soc2_audit::{Actor, Outcome, SdkAction};
use soc2_core::RequestContext;

use super::attempt::{Slot, Verdict};
use super::{
    AuthError, ChangeReason, DenyReason, LoginDenied, PasswordAuth, PasswordCheck,
    VerifiedPassword, with_identity,
};
use zeroize::Zeroizing;

use crate::password::{NormalizedPassword, UserContext, ViolationCode, normalize_password};
use crate::{CredentialRecord, IpOp, IpOutcome, LockoutKey, Username, Verification};

impl PasswordAuth {
    /// Checks `username` and `password` as the first step of a login.
    ///
    /// In order: the client IP's failure rate (refused without any work when throttled),
    /// well-formed input, then one slot in the account's lockout counter (a locked account is
    /// refused without consulting its hash), then argon2. Unknown, disabled, password-less and
    /// locked accounts spend the same argon2 work on a dummy hash, and by default all answer
    /// [`PublicDenial::InvalidCredentials`](crate::PublicDenial::InvalidCredentials). A
    /// correct password resets the counter, upgrades an outdated hash, and reports whether
    /// the user must change the password now (administrator flag, maximum age, or a password
    /// the current policy would refuse).
    ///
    /// # Errors
    /// Store, hash and audit failures: treat them as a refusal.
    pub async fn verify(
        &self,
        username: &str,
        password: &str,
        context: &RequestContext,
    ) -> Result<PasswordCheck, AuthError> {
        if let Some(ip) = context.client_ip() {
            let outcome = self
                .lockouts
                .apply_ip(ip, IpOp::Check, self.now(), &self.lockout)
                .await?;
            if let IpOutcome::Throttled { retry_after } = outcome {
                let event = self
                    .event(
                        SdkAction::LoginThrottled,
                        Outcome::Denied,
                        Actor::anonymous(Some(username)),
                        None,
                        context,
                    )
                    .with_metadata("retry_after_secs", retry_after.as_secs());
                self.audit.record(event)?;
                return Ok(PasswordCheck::Denied(
                    self.denied(DenyReason::Throttled { retry_after }),
                ));
            }
        }
        let input = Username::parse(username)
            .ok()
            .zip(normalize_password(password, self.password_policy().max_input_bytes()).ok());
        let Some((username, password)) = input else {
            return self.refuse(None, DenyReason::MalformedInput, username, context);
        };
        let record = self.credentials.find(&username).await?;
        let key = record.as_ref().map_or_else(
            || LockoutKey::UnknownName(username.clone()),
            |record| LockoutKey::Account(record.user_id),
        );
        let user = record.as_ref().map(|record| record.user_id);
        match self.begin_attempt(&key, user, context).await? {
            Slot::Granted => {}
            Slot::Locked(until) => {
                self.hasher.verify_dummy(&password).await?;
                let reason = DenyReason::Locked { until };
                return self.refuse(record.as_ref(), reason, username.as_str(), context);
            }
            Slot::Busy => {
                return self.refuse(
                    record.as_ref(),
                    DenyReason::Busy,
                    username.as_str(),
                    context,
                );
            }
        }
        let checked = self.check_hash(record.as_ref(), &password).await;
        let verdict = match &checked {
            Ok(Ok(_)) => Verdict::Right,
            Ok(Err(_)) => Verdict::Wrong,
            Err(_) => Verdict::Inconclusive,
        };
        self.finish_attempt(&key, user, verdict, context).await?;
        match (checked?, record) {
            (Ok(needs_rehash), Some(record)) => {
                self.accept(record, &password, needs_rehash, context).await
            }
            (Err(reason), record) => {
                if let Some(ip) = context.client_ip() {
                    self.lockouts
                        .apply_ip(ip, IpOp::Fail, self.now(), &self.lockout)
                        .await?;
                }
                self.refuse(record.as_ref(), reason, username.as_str(), context)
            }
            (Ok(_), None) => Err(AuthError::UnknownUser),
        }
    }

    /// Checks the password against the record's hash, or spends the same work on the dummy
    /// hash when there is nothing to check. `Ok(Ok(needs_rehash))` for a match.
    async fn check_hash(
        &self,
        record: Option<&CredentialRecord>,
        password: &NormalizedPassword,
    ) -> Result<Result<bool, DenyReason>, AuthError> {
        let refusal = match record {
            None => DenyReason::UnknownUser,
            Some(record) if record.flags.disabled => DenyReason::Disabled,
            Some(CredentialRecord {
                password: Some(stored),
                ..
            }) => {
                return Ok(match self.hasher.verify(password, stored).await? {
                    Verification::Match { needs_rehash } => Ok(needs_rehash),
                    _ => Err(DenyReason::WrongPassword),
                });
            }
            Some(_) => DenyReason::NoPassword,
        };
        self.hasher.verify_dummy(password).await?;
        Ok(Err(refusal))
    }

    async fn accept(
        &self,
        record: CredentialRecord,
        password: &NormalizedPassword,
        needs_rehash: bool,
        context: &RequestContext,
    ) -> Result<PasswordCheck, AuthError> {
        if needs_rehash {
            self.rehash(&record, password, context).await?;
        }
        let change_required = self.change_required(&record, password).await;
        let mut event = self.event(
            SdkAction::PasswordVerified,
            Outcome::Success,
            Actor::user(record.user_id),
            Some(record.user_id),
            context,
        );
        if let Some(reason) = &change_required {
            event = event.with_metadata("change_required", change_reason_code(reason));
        }
        self.audit.record(event)?;
        Ok(PasswordCheck::Verified(VerifiedPassword {
            user_id: record.user_id,
            username: record.username,
            change_required,
        }))
    }

    /// Upgrades the stored hash; skipped (and retried next login) when the audit log has no
    /// room, so no rehash goes unrecorded.
    async fn rehash(
        &self,
        record: &CredentialRecord,
        password: &NormalizedPassword,
        context: &RequestContext,
    ) -> Result<(), AuthError> {
        let Some(old) = &record.password else {
            return Ok(());
        };
        let Ok(permit) = self.audit.reserve() else {
            tracing::warn!(target: "soc2::auth", "password rehash postponed: audit buffer full");
            return Ok(());
        };
        let new = self.hasher.hash(password).await?;
        if self.credentials.rehash(record.user_id, old, &new).await? {
            permit.record(
                self.event(
                    SdkAction::PasswordRehashed,
                    Outcome::Success,
                    Actor::System,
                    Some(record.user_id),
                    context,
                )
                .with_metadata("params", format!("{:?}", self.hasher.params())),
            );
        }
        Ok(())
    }

    async fn change_required(
        &self,
        record: &CredentialRecord,
        password: &NormalizedPassword,
    ) -> Option<ChangeReason> {
        if record.flags.must_change {
            return Some(ChangeReason::AdministratorRequired);
        }
        let expired = self
            .password_policy()
            .max_age()
            .zip(record.password_changed_at)
            .is_some_and(|(max_age, changed)| changed + max_age <= self.now());
        if expired {
            return Some(ChangeReason::Expired);
        }
        self.policy_violations(record, password)
            .await
            .map(ChangeReason::PolicyChanged)
    }

    /// What the current policy would say about this (correct) password, checked off the async
    /// runtime: zxcvbn takes a few hundred microseconds for a passphrase.
    async fn policy_violations(
        &self,
        record: &CredentialRecord,
        password: &NormalizedPassword,
    ) -> Option<Vec<ViolationCode>> {
        let checker = self.checker.clone();
        let username = record.username.clone();
        let app_name = self.app_name.clone();
        let candidate = Zeroizing::new(password.as_str().to_owned());
        let checked = tokio::task::spawn_blocking(move || {
            let user = with_identity(UserContext::default(), &username, app_name.as_deref());
            checker
                .check_offline(&candidate, &user)
                .err()
                .map(|rejected| rejected.violations().iter().map(|v| v.code()).collect())
        })
        .await;
        checked.unwrap_or_else(|error| {
            tracing::warn!(target: "soc2::auth", %error, "password policy re-check did not run");
            None
        })
    }

    fn refuse(
        &self,
        record: Option<&CredentialRecord>,
        reason: DenyReason,
        attempted: &str,
        context: &RequestContext,
    ) -> Result<PasswordCheck, AuthError> {
        let denied = self.denied(reason);
        let actor = match record {
            Some(record) => Actor::user(record.user_id),
            None => Actor::anonymous(Some(attempted)),
        };
        let event = self
            .event(
                SdkAction::PasswordFailed,
                Outcome::Failure,
                actor,
                record.map(|record| record.user_id),
                context,
            )
            .with_reason(denied.code());
        self.audit.record(event)?;
        Ok(PasswordCheck::Denied(denied))
    }

    fn denied(&self, reason: DenyReason) -> LoginDenied {
        LoginDenied::new(reason, self.lockout.reveals_lock())
    }
}

fn change_reason_code(reason: &ChangeReason) -> &'static str {
    match reason {
        ChangeReason::AdministratorRequired => "administrator_required",
        ChangeReason::Expired => "expired",
        ChangeReason::PolicyChanged(_) => "policy_changed",
    }
}
