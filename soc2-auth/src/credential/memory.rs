//! In-memory credentials, for tests and small hosts.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use soc2_core::{StoreError, UserId};
use time::OffsetDateTime;

use super::{CredentialFlags, CredentialRecord, CredentialStore};
use crate::{StoredHash, Username};

/// A [`CredentialStore`] in process memory.
#[derive(Debug, Default)]
pub struct MemoryCredentialStore {
    records: Mutex<HashMap<UserId, CredentialRecord>>,
}

impl MemoryCredentialStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn records(&self) -> MutexGuard<'_, HashMap<UserId, CredentialRecord>> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl CredentialStore for MemoryCredentialStore {
    async fn insert(&self, record: &CredentialRecord) -> Result<(), StoreError> {
        let mut records = self.records();
        let taken = records.contains_key(&record.user_id)
            || records.values().any(|r| r.username == record.username);
        if taken {
            return Err(StoreError::Conflict("user id or username taken".into()));
        }
        records.insert(record.user_id, record.clone());
        Ok(())
    }

    async fn get(&self, user: UserId) -> Result<Option<CredentialRecord>, StoreError> {
        Ok(self.records().get(&user).cloned())
    }

    async fn find(&self, username: &Username) -> Result<Option<CredentialRecord>, StoreError> {
        Ok(self
            .records()
            .values()
            .find(|r| &r.username == username)
            .cloned())
    }

    async fn replace_password(
        &self,
        user: UserId,
        expected: Option<&StoredHash>,
        new: &StoredHash,
        at: OffsetDateTime,
        keep_history: usize,
    ) -> Result<bool, StoreError> {
        let mut records = self.records();
        let Some(record) = records.get_mut(&user) else {
            return Ok(false);
        };
        if record.password.as_ref() != expected {
            return Ok(false);
        }
        if let Some(old) = record.password.replace(new.clone()) {
            record.history.insert(0, old);
        }
        record.history.truncate(keep_history);
        record.password_changed_at = Some(at);
        record.flags.must_change = false;
        Ok(true)
    }

    async fn rehash(
        &self,
        user: UserId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<bool, StoreError> {
        let mut records = self.records();
        match records.get_mut(&user) {
            Some(record) if record.password.as_ref() == Some(old) => {
                record.password = Some(new.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn set_flags(&self, user: UserId, flags: CredentialFlags) -> Result<bool, StoreError> {
        Ok(self
            .records()
            .get_mut(&user)
            .map(|record| record.flags = flags)
            .is_some())
    }

    async fn remove(&self, user: UserId) -> Result<bool, StoreError> {
        Ok(self.records().remove(&user).is_some())
    }
}
