//! Where sessions live: the `SessionStore` trait.

use std::fmt::Debug;

use async_trait::async_trait;
use soc2_core::{StoreError, UserId};
use time::OffsetDateTime;

use crate::{SessionRecord, TokenDigest};

/// Storage for sessions, keyed by token digest. Every method is one atomic operation, safe with
/// many app instances on one store.
#[async_trait]
pub trait SessionStore: Debug + Send + Sync + 'static {
    /// Stores a new session. A digest that already exists is a [`StoreError::Conflict`], never
    /// an overwrite.
    async fn insert(&self, session: &SessionRecord) -> Result<(), StoreError>;

    /// The session with `digest`, if stored (expired or not: the manager decides).
    async fn get(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError>;

    /// Records use at `seen_at`, extending the idle expiry to `idle_expires_at`; never moves
    /// either backwards. Returns false when the session is gone.
    async fn touch(
        &self,
        digest: &TokenDigest,
        seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Replaces the session under `old` with `new` (new digest, same or stepped-up session)
    /// atomically: the old token is dead as soon as the call returns. Of concurrent rotations
    /// of one token exactly one returns true.
    async fn rotate(&self, old: &TokenDigest, new: &SessionRecord) -> Result<bool, StoreError>;

    /// Deletes the session with `digest`, returning it if it existed.
    async fn remove(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError>;

    /// Every session of `user`, oldest first.
    async fn list_user(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError>;

    /// Deletes every session of `user` except `keep`, returning the deleted ones.
    async fn remove_user(
        &self,
        user: UserId,
        keep: Option<&TokenDigest>,
    ) -> Result<Vec<SessionRecord>, StoreError>;

    /// Deletes up to `limit` sessions whose idle or absolute expiry is at or before `now`,
    /// returning them (the sweeper audits each).
    async fn remove_expired(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<SessionRecord>, StoreError>;
}
