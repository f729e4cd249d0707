//! In-memory passkeys, for tests and small hosts.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use soc2_core::{StoreError, UserId};
use time::OffsetDateTime;

use super::{PasskeyRecord, PasskeyStore, StoredPasskey};

/// A [`PasskeyStore`] in process memory.
#[derive(Debug, Default)]
pub struct MemoryPasskeyStore {
    /// By credential id.
    passkeys: Mutex<HashMap<String, PasskeyRecord>>,
}

impl MemoryPasskeyStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, PasskeyRecord>> {
        self.passkeys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change` to the user's credential; returns whether there was one to change.
    fn update(
        &self,
        user: UserId,
        credential_id: &str,
        change: impl FnOnce(&mut PasskeyRecord) -> bool,
    ) -> bool {
        self.lock()
            .get_mut(credential_id)
            .filter(|record| record.user_id == user)
            .is_some_and(change)
    }
}

#[async_trait::async_trait]
impl PasskeyStore for MemoryPasskeyStore {
    async fn add_passkey(&self, record: &PasskeyRecord) -> Result<(), StoreError> {
        let mut passkeys = self.lock();
        if passkeys.contains_key(&record.credential_id) {
            return Err(StoreError::Conflict("credential id registered".into()));
        }
        passkeys.insert(record.credential_id.clone(), record.clone());
        Ok(())
    }

    async fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>, StoreError> {
        let mut owned: Vec<_> = self
            .lock()
            .values()
            .filter(|record| record.user_id == user)
            .cloned()
            .collect();
        owned.sort_by(|a, b| {
            (a.created_at, &a.credential_id).cmp(&(b.created_at, &b.credential_id))
        });
        Ok(owned)
    }

    async fn passkey(&self, credential_id: &str) -> Result<Option<PasskeyRecord>, StoreError> {
        Ok(self.lock().get(credential_id).cloned())
    }

    async fn record_passkey_use(
        &self,
        user: UserId,
        credential_id: &str,
        previous: &str,
        passkey: &StoredPasskey,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        Ok(self.update(user, credential_id, |record| {
            if record.passkey.json != previous {
                return false;
            }
            record.passkey = passkey.clone();
            record.last_used_at = Some(at);
            true
        }))
    }

    async fn rename_passkey(
        &self,
        user: UserId,
        credential_id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.update(user, credential_id, |record| {
            name.clone_into(&mut record.name);
            true
        }))
    }

    async fn remove_passkey(&self, user: UserId, credential_id: &str) -> Result<bool, StoreError> {
        let mut passkeys = self.lock();
        if passkeys
            .get(credential_id)
            .is_none_or(|record| record.user_id != user)
        {
            return Ok(false);
        }
        Ok(passkeys.remove(credential_id).is_some())
    }

    async fn count_passkeys(&self, user: UserId) -> Result<u64, StoreError> {
        let count = self
            .lock()
            .values()
            .filter(|record| record.user_id == user)
            .count();
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }
}
