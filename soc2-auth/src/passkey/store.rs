//! `PasskeyStore`: the WebAuthn credentials registered to each user.

use soc2_core::{StoreError, UserId};
use time::OffsetDateTime;

/// A credential's verification data: the serialized webauthn-rs `Passkey` (public key, sign
/// counter, backup flags; no secret), with the counter and flags also kept apart for listing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredPasskey {
    /// The webauthn-rs `Passkey` as JSON.
    pub json: String,
    /// The authenticator's signature counter (0 for authenticators without one).
    pub sign_count: u32,
    /// The credential may be synced or backed up (WebAuthn L3 §6.1 flag BE).
    pub backup_eligible: bool,
    /// The credential is backed up right now (WebAuthn L3 §6.1 flag BS).
    pub backed_up: bool,
}

impl StoredPasskey {
    /// Verification data as stored.
    #[must_use]
    pub fn new(json: String, sign_count: u32, backup_eligible: bool, backed_up: bool) -> Self {
        Self {
            json,
            sign_count,
            backup_eligible,
            backed_up,
        }
    }
}

/// One registered credential.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasskeyRecord {
    /// The owner.
    pub user_id: UserId,
    /// The credential id, base64url without padding (unique across all users).
    pub credential_id: String,
    /// The name the user gave it.
    pub name: String,
    /// Its verification data, replaced after each use.
    pub passkey: StoredPasskey,
    /// When it was registered.
    pub created_at: OffsetDateTime,
    /// When it last proved its owner, if ever.
    pub last_used_at: Option<OffsetDateTime>,
}

impl PasskeyRecord {
    /// A credential just registered.
    #[must_use]
    pub fn new(
        user_id: UserId,
        credential_id: String,
        name: String,
        passkey: StoredPasskey,
        created_at: OffsetDateTime,
    ) -> Self {
        Self {
            user_id,
            credential_id,
            name,
            passkey,
            created_at,
            last_used_at: None,
        }
    }
}

/// Where passkeys live. Every method is one atomic store operation.
#[async_trait::async_trait]
pub trait PasskeyStore: std::fmt::Debug + Send + Sync + 'static {
    /// Registers a credential.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when its credential id is registered already, to anyone.
    async fn add_passkey(&self, record: &PasskeyRecord) -> Result<(), StoreError>;

    /// The user's credentials, oldest first.
    async fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>, StoreError>;

    /// The credential with this id, whoever owns it.
    async fn passkey(&self, credential_id: &str) -> Result<Option<PasskeyRecord>, StoreError>;

    /// Records a successful use at `at`: replaces the user's credential's verification data
    /// if it is still `previous` (its JSON; compare-and-set, so of concurrent uses from one
    /// stored state exactly one applies). Returns whether it was replaced.
    async fn record_passkey_use(
        &self,
        user: UserId,
        credential_id: &str,
        previous: &str,
        passkey: &StoredPasskey,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Renames the user's credential. Returns whether it exists.
    async fn rename_passkey(
        &self,
        user: UserId,
        credential_id: &str,
        name: &str,
    ) -> Result<bool, StoreError>;

    /// Deletes the user's credential. Returns whether it existed.
    async fn remove_passkey(&self, user: UserId, credential_id: &str) -> Result<bool, StoreError>;

    /// How many credentials the user has.
    async fn count_passkeys(&self, user: UserId) -> Result<u64, StoreError>;
}
