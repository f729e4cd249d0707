//! An in-memory `SessionStore`, for tests and single-instance hosts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use soc2_core::{StoreError, UserId};
use time::OffsetDateTime;

use crate::jwt::TokenDenyList;
use crate::{SessionRecord, SessionStore, TokenDigest};

/// Sessions in a map behind a mutex; clones share it. Lost on restart.
#[derive(Debug, Clone, Default)]
pub struct MemorySessionStore {
    sessions: Arc<Mutex<HashMap<TokenDigest, SessionRecord>>>,
    denied: Arc<Mutex<HashMap<String, OffsetDateTime>>>,
}

impl MemorySessionStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<TokenDigest, SessionRecord>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes and returns up to `limit` sessions for which `doomed` holds.
    fn remove_matching(
        &self,
        limit: usize,
        doomed: impl Fn(&SessionRecord) -> bool,
    ) -> Vec<SessionRecord> {
        let mut sessions = self.lock();
        let digests: Vec<TokenDigest> = sessions
            .values()
            .filter(|session| doomed(session))
            .take(limit)
            .map(|session| session.digest)
            .collect();
        digests
            .iter()
            .filter_map(|digest| sessions.remove(digest))
            .collect()
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn insert(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut sessions = self.lock();
        if sessions.contains_key(&session.digest) {
            return Err(StoreError::Conflict(
                "a session with this token digest exists".into(),
            ));
        }
        sessions.insert(session.digest, session.clone());
        Ok(())
    }

    async fn get(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock().get(digest).cloned())
    }

    async fn touch(
        &self,
        digest: &TokenDigest,
        seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        Ok(match self.lock().get_mut(digest) {
            Some(session) => {
                session.last_seen_at = session.last_seen_at.max(seen_at);
                session.idle_expires_at = session.idle_expires_at.max(idle_expires_at);
                true
            }
            None => false,
        })
    }

    async fn rotate(&self, old: &TokenDigest, new: &SessionRecord) -> Result<bool, StoreError> {
        let mut sessions = self.lock();
        if sessions.contains_key(&new.digest) {
            return Err(StoreError::Conflict(
                "a session with this token digest exists".into(),
            ));
        }
        if sessions.remove(old).is_none() {
            return Ok(false);
        }
        sessions.insert(new.digest, new.clone());
        Ok(true)
    }

    async fn remove(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock().remove(digest))
    }

    async fn list_user(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError> {
        let mut listed: Vec<_> = self
            .lock()
            .values()
            .filter(|session| session.user_id == user)
            .cloned()
            .collect();
        listed.sort_by_key(|session| (session.created_at, session.id));
        Ok(listed)
    }

    async fn remove_user(
        &self,
        user: UserId,
        keep: Option<&TokenDigest>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        Ok(self.remove_matching(usize::MAX, |session| {
            session.user_id == user && Some(&session.digest) != keep
        }))
    }

    async fn remove_expired(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        Ok(self.remove_matching(limit as usize, |session| {
            session.idle_expires_at <= now || session.absolute_expires_at <= now
        }))
    }
}

#[async_trait]
impl TokenDenyList for MemorySessionStore {
    async fn deny(&self, jti: &str, until: OffsetDateTime) -> Result<(), StoreError> {
        let mut denied = self.denied.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = denied.entry(jti.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
        Ok(())
    }

    async fn is_denied(&self, jti: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let denied = self.denied.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(denied.get(jti).is_some_and(|until| now < *until))
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut denied = self.denied.lock().unwrap_or_else(PoisonError::into_inner);
        let before = denied.len();
        denied.retain(|_, until| now < *until);
        Ok((before - denied.len()) as u64)
    }
}
