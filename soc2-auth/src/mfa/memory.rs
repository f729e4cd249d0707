//! In-memory second factors, for tests and small hosts.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use soc2_core::{KeyId, StoreError, UserId};
use time::OffsetDateTime;

use super::{Ceremony, MfaStore, PASSWORD_RESET, RecoveryDigest, TotpRecord, sealed_prefix};

/// An [`MfaStore`] in process memory.
#[derive(Debug, Default)]
pub struct MemoryMfaStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    totp: HashMap<UserId, TotpRecord>,
    recovery: HashMap<UserId, Vec<RecoveryDigest>>,
    ceremonies: HashMap<[u8; 32], Ceremony>,
}

impl MemoryMfaStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl MfaStore for MemoryMfaStore {
    async fn put_pending_totp(&self, record: &TotpRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.totp.get(&record.user_id).is_some_and(|r| r.confirmed) {
            return Err(StoreError::Conflict(
                "a confirmed TOTP factor exists".into(),
            ));
        }
        state.totp.insert(record.user_id, record.clone());
        Ok(())
    }

    async fn totp(&self, user: UserId) -> Result<Option<TotpRecord>, StoreError> {
        Ok(self.state().totp.get(&user).cloned())
    }

    async fn accept_totp_step(
        &self,
        user: UserId,
        sealed: &str,
        step: u64,
        confirm: bool,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(record) = state.totp.get_mut(&user) else {
            return Ok(false);
        };
        if record.sealed_secret != sealed {
            return Ok(false);
        }
        let newer = record.last_step.is_none_or(|last| step > last);
        if record.confirmed == confirm || !newer {
            return Ok(false);
        }
        record.last_step = Some(step);
        record.confirmed = true;
        Ok(true)
    }

    async fn totp_sealed_with_other_keys(
        &self,
        active: &KeyId,
        limit: usize,
    ) -> Result<Vec<TotpRecord>, StoreError> {
        let prefix = sealed_prefix(active);
        Ok(self
            .state()
            .totp
            .values()
            .filter(|r| !r.sealed_secret.starts_with(&prefix))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn count_sealed_with(&self, key: &KeyId) -> Result<u64, StoreError> {
        let prefix = sealed_prefix(key);
        let count = self
            .state()
            .totp
            .values()
            .filter(|r| r.sealed_secret.starts_with(&prefix))
            .count();
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }

    async fn reseal_totp(&self, user: UserId, old: &str, new: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.totp.get_mut(&user) {
            Some(record) if record.sealed_secret == old => {
                new.clone_into(&mut record.sealed_secret);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn remove_totp(&self, user: UserId) -> Result<bool, StoreError> {
        Ok(self.state().totp.remove(&user).is_some())
    }

    async fn put_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.ceremonies.contains_key(&ceremony.digest) {
            return Err(StoreError::Conflict("ceremony digest exists".into()));
        }
        state.ceremonies.insert(ceremony.digest, ceremony.clone());
        Ok(())
    }

    async fn put_password_reset(&self, ceremony: &Ceremony) -> Result<(), StoreError> {
        if ceremony.kind != PASSWORD_RESET {
            return Err(StoreError::Conflict("not a password-reset ceremony".into()));
        }
        let mut state = self.state();
        if state.ceremonies.contains_key(&ceremony.digest) {
            return Err(StoreError::Conflict("ceremony digest exists".into()));
        }
        state
            .ceremonies
            .retain(|_, c| c.kind != PASSWORD_RESET || c.user_id != ceremony.user_id);
        state.ceremonies.insert(ceremony.digest, ceremony.clone());
        Ok(())
    }

    async fn take_ceremony(
        &self,
        digest: &[u8; 32],
        kind: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Ceremony>, StoreError> {
        let mut state = self.state();
        if state.ceremonies.get(digest).is_none_or(|c| c.kind != kind) {
            return Ok(None);
        }
        Ok(state
            .ceremonies
            .remove(digest)
            .filter(|ceremony| ceremony.expires_at > now))
    }

    async fn purge_ceremonies(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.ceremonies.len();
        state
            .ceremonies
            .retain(|_, ceremony| ceremony.expires_at > now);
        Ok(u64::try_from(before - state.ceremonies.len()).unwrap_or(u64::MAX))
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        digests: &[RecoveryDigest],
        _at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.state().recovery.insert(user, digests.to_vec());
        Ok(())
    }

    async fn consume_recovery_code(
        &self,
        user: UserId,
        digest: &RecoveryDigest,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(codes) = state.recovery.get_mut(&user) else {
            return Ok(false);
        };
        let before = codes.len();
        codes.retain(|code| code != digest);
        Ok(codes.len() < before)
    }

    async fn recovery_codes_left(&self, user: UserId) -> Result<usize, StoreError> {
        Ok(self.state().recovery.get(&user).map_or(0, Vec::len))
    }
}
