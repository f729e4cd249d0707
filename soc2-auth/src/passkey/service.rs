//! `PasskeyAuth`: the service, its ceremonies, and managing a user's credentials.

use std::sync::Arc;

use serde::Serialize;
use soc2_audit::{Actor, AuditEvent, AuditLog, Outcome, SdkAction};
use soc2_core::{Clock, RequestContext, StoreError, UserId, truncate_to_micros};
use time::OffsetDateTime;
use webauthn_rs::prelude::{Credential, Passkey, WebauthnError};

use super::{PasskeyConfig, PasskeyError, PasskeyInfo, PasskeyPrompt, PasskeyStore, StoredPasskey};
use super::{PasskeyRecord, input};
use crate::audit::user_event;
use crate::login::{Challenge, challenge};
use crate::mfa::counter::SecondFactorCounter;
use crate::mfa::{Ceremony, MfaStore};
use crate::{LockoutPolicy, LockoutStore};

/// The `factor` every passkey audit event carries.
pub(super) const FACTOR: &str = "passkey";

/// Passkeys for a host: registration, assertions as a second factor or for passwordless
/// sign-in, listing, renaming and removal. Wrong assertions count on the second-factor
/// counter shared with TOTP. Ceremony state lives in the `MfaStore`'s ceremony table, found
/// by the digest of an opaque token, single use and expiring after the configured TTL.
///
/// Registering and removing a passkey must follow a fresh authentication, and should revoke
/// the user's other sessions; both are the caller's (e.g. `Session::require_fresh`,
/// `SessionManager::revoke_user`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct PasskeyAuth {
    pub(super) config: PasskeyConfig,
    pub(super) store: Arc<dyn PasskeyStore>,
    ceremonies: Arc<dyn MfaStore>,
    pub(super) counter: SecondFactorCounter,
    pub(super) audit: AuditLog,
    clock: Arc<dyn Clock>,
}

impl PasskeyAuth {
    /// A service with the `Soc2Strict` lockout policy applied to wrong assertions.
    /// `ceremonies` is the `MfaStore` whose ceremony table holds the ceremony state.
    #[must_use]
    pub fn new(
        config: PasskeyConfig,
        store: Arc<dyn PasskeyStore>,
        ceremonies: Arc<dyn MfaStore>,
        lockouts: Arc<dyn LockoutStore>,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            config,
            store,
            ceremonies,
            counter: SecondFactorCounter::new(lockouts, audit.clone(), clock.clone()),
            audit,
            clock,
        }
    }

    /// Uses `policy` for the second-factor counter (use the same as `MfaAuth`'s).
    #[must_use]
    pub fn with_lockout_policy(mut self, policy: LockoutPolicy) -> Self {
        self.counter.set_policy(policy);
        self
    }

    /// The user's passkeys, oldest first.
    ///
    /// # Errors
    /// Store failures.
    pub async fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyInfo>, PasskeyError> {
        let records = self.store.passkeys(user).await?;
        Ok(records.iter().map(PasskeyInfo::from).collect())
    }

    /// Whether the user has a passkey.
    ///
    /// # Errors
    /// Store failures.
    pub async fn has_passkeys(&self, user: UserId) -> Result<bool, PasskeyError> {
        Ok(self.store.count_passkeys(user).await? > 0)
    }

    /// Renames one of the user's passkeys, audited with `by` as actor and the old and new
    /// names. Returns whether the user has it.
    ///
    /// # Errors
    /// [`PasskeyError::InvalidName`], [`PasskeyError::InvalidCredentialId`], store and audit
    /// failures.
    pub async fn rename(
        &self,
        user: UserId,
        credential_id: &str,
        name: &str,
        by: Actor,
        context: &RequestContext,
    ) -> Result<bool, PasskeyError> {
        let name = input::name("name", name)?;
        let credential_id = input::credential_id(credential_id)?;
        let Some(record) = self.owned(user, credential_id).await? else {
            return Ok(false);
        };
        let permit = self.audit.reserve()?;
        let renamed = self
            .store
            .rename_passkey(user, credential_id, &name)
            .await?;
        if renamed {
            let event = self.event(
                SdkAction::MfaRenamed,
                Outcome::Success,
                by,
                Some(user),
                context,
            );
            permit.record(
                about(event, credential_id, Some(&name))
                    .with_metadata("previous_name", record.name),
            );
        }
        Ok(renamed)
    }

    /// Removes one of the user's passkeys, audited with `by` as actor. Returns whether the
    /// user had it.
    ///
    /// # Errors
    /// [`PasskeyError::InvalidCredentialId`], store and audit failures.
    pub async fn remove(
        &self,
        user: UserId,
        credential_id: &str,
        by: Actor,
        context: &RequestContext,
    ) -> Result<bool, PasskeyError> {
        let credential_id = input::credential_id(credential_id)?;
        let Some(record) = self.owned(user, credential_id).await? else {
            return Ok(false);
        };
        let permit = self.audit.reserve()?;
        let removed = self.store.remove_passkey(user, credential_id).await?;
        if removed {
            let event = self.event(
                SdkAction::MfaRemoved,
                Outcome::Success,
                by,
                Some(user),
                context,
            );
            permit.record(about(event, credential_id, Some(&record.name)));
        }
        Ok(removed)
    }

    /// The credential with this id if `user` owns it.
    async fn owned(
        &self,
        user: UserId,
        credential_id: &str,
    ) -> Result<Option<PasskeyRecord>, StoreError> {
        Ok(self
            .store
            .passkey(credential_id)
            .await?
            .filter(|record| record.user_id == user))
    }

    /// The credential with this id, whoever owns it (`None` for an id no credential can
    /// have, e.g. an oversized one from a forged response, which is not even looked up).
    pub(super) async fn find(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRecord>, StoreError> {
        match input::credential_id(credential_id) {
            Ok(id) => self.store.passkey(id).await,
            Err(_) => Ok(None),
        }
    }

    /// Stores a ceremony's state for `user` and hands out its token with the options.
    pub(super) async fn open(
        &self,
        kind: &str,
        user: UserId,
        state: &impl Serialize,
        options: &impl Serialize,
    ) -> Result<PasskeyPrompt, PasskeyError> {
        let expires_at = self.now() + self.config.ceremony_ttl();
        let (challenge, digest) =
            Challenge::generate(expires_at).map_err(|_| PasskeyError::Random)?;
        let ceremony = Ceremony::new(digest, kind, user, to_json(state)?, expires_at);
        self.ceremonies.put_ceremony(&ceremony).await?;
        Ok(PasskeyPrompt {
            challenge,
            options: to_json(options)?,
        })
    }

    /// Takes (spends) the ceremony of `kind` named by `token`, if it is live.
    pub(super) async fn take(
        &self,
        kind: &str,
        token: &str,
    ) -> Result<Option<Ceremony>, PasskeyError> {
        let Some(digest) = challenge::presented(token) else {
            return Ok(None);
        };
        Ok(self
            .ceremonies
            .take_ceremony(&digest, kind, self.now())
            .await?)
    }

    /// An audit event of the passkey factor.
    pub(super) fn event(
        &self,
        action: SdkAction,
        outcome: Outcome,
        actor: Actor,
        user: Option<UserId>,
        context: &RequestContext,
    ) -> AuditEvent {
        user_event(action, outcome, actor, user, self.now(), context)
            .with_metadata("factor", FACTOR)
    }

    pub(super) fn now(&self) -> OffsetDateTime {
        truncate_to_micros(self.clock.now())
    }
}

/// `event` naming the credential: its id (when it can be one: a refused response's id is
/// untrusted) and its name when known. Never key material.
pub(super) fn about(event: AuditEvent, credential_id: &str, name: Option<&str>) -> AuditEvent {
    let event = match input::credential_id(credential_id) {
        Ok(id) => event.with_metadata("credential_id", id),
        Err(_) => event,
    };
    match name {
        Some(name) => event.with_metadata("name", name),
        None => event,
    }
}

/// The verification data to store for `passkey`.
pub(super) fn stored(passkey: &Passkey) -> Result<StoredPasskey, PasskeyError> {
    let json = to_json(passkey)?;
    let credential = Credential::from(passkey.clone());
    Ok(StoredPasskey::new(
        json,
        credential.counter,
        credential.backup_eligible,
        credential.backup_state,
    ))
}

/// A stored credential's verification data, read back.
pub(super) fn parse_passkey(record: &PasskeyRecord) -> Result<Passkey, StoreError> {
    serde_json::from_str(&record.passkey.json)
        .map_err(|_| StoreError::Corrupt(format!("passkey {}", record.credential_id)))
}

/// The error for a ceremony the WebAuthn library could not start.
pub(super) fn not_started(error: &WebauthnError) -> PasskeyError {
    PasskeyError::Ceremony(error.to_string())
}

fn to_json(value: &impl Serialize) -> Result<String, PasskeyError> {
    serde_json::to_string(value).map_err(|_| PasskeyError::State)
}
