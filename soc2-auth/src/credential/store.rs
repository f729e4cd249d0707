//! `CredentialStore`: where password hashes and their history live.

use soc2_core::{StoreError, UserId};
use time::OffsetDateTime;

use super::{CredentialFlags, CredentialRecord};
use crate::{StoredHash, Username};

/// Where password credentials live. Every method is one atomic store operation.
#[async_trait::async_trait]
pub trait CredentialStore: std::fmt::Debug + Send + Sync + 'static {
    /// Adds an account's credential.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the user id or the username is taken.
    async fn insert(&self, record: &CredentialRecord) -> Result<(), StoreError>;

    /// The credential of `user`.
    async fn get(&self, user: UserId) -> Result<Option<CredentialRecord>, StoreError>;

    /// The credential whose normalised login name is `username`.
    async fn find(&self, username: &Username) -> Result<Option<CredentialRecord>, StoreError>;

    /// Replaces the password if the current one is still `expected` (compare-and-swap, so
    /// of two concurrent changes one fails): the old hash joins the history, which is cut
    /// to `keep_history` entries; `password_changed_at` becomes `at`; `must_change` is
    /// cleared. Returns `false` when the user is gone or the password changed meanwhile.
    async fn replace_password(
        &self,
        user: UserId,
        expected: Option<&StoredHash>,
        new: &StoredHash,
        at: OffsetDateTime,
        keep_history: usize,
    ) -> Result<bool, StoreError>;

    /// Swaps the current hash for a rehash of the same password (new parameters or pepper),
    /// keeping history and timestamps. Returns `false` when the hash changed meanwhile.
    async fn rehash(
        &self,
        user: UserId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<bool, StoreError>;

    /// Sets the administrative flags. Returns `false` for an unknown user.
    async fn set_flags(&self, user: UserId, flags: CredentialFlags) -> Result<bool, StoreError>;

    /// Deletes the credential and its history. Returns `false` for an unknown user.
    async fn remove(&self, user: UserId) -> Result<bool, StoreError>;
}
