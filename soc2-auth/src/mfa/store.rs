//! `MfaStore`: enrolled second factors and recovery codes.

use soc2_core::{KeyId, StoreError, UserId};
use time::OffsetDateTime;

use super::RecoveryDigest;

/// A user's TOTP factor as stored: the sealed seed and the last accepted time step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TotpRecord {
    /// The user.
    pub user_id: UserId,
    /// The seed, sealed by a [`Sealer`](crate::Sealer) for this user.
    pub sealed_secret: String,
    /// Whether the user confirmed a code (only confirmed factors count at login).
    pub confirmed: bool,
    /// The last time step accepted (RFC 6238 §5.2: a code whose step is not newer is refused).
    pub last_step: Option<u64>,
    /// When enrolment began.
    pub created_at: OffsetDateTime,
}

impl TotpRecord {
    /// A pending (unconfirmed) factor.
    #[must_use]
    pub fn pending(user_id: UserId, sealed_secret: String, created_at: OffsetDateTime) -> Self {
        Self {
            user_id,
            sealed_secret,
            confirmed: false,
            last_step: None,
            created_at,
        }
    }
}

/// Short-lived, single-use state of a multi-step ceremony (an MFA login challenge, later
/// WebAuthn ceremonies and reset tokens), found by the SHA-256 of its opaque token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ceremony {
    /// SHA-256 of the token handed to the client (the token itself is never stored).
    pub digest: [u8; 32],
    /// What kind of ceremony, e.g. `mfa_login`.
    pub kind: String,
    /// The user it is bound to.
    pub user_id: UserId,
    /// Kind-specific state (JSON), never a secret in the clear.
    pub payload: String,
    /// When it stops being usable.
    pub expires_at: OffsetDateTime,
}

impl Ceremony {
    /// A ceremony record.
    #[must_use]
    pub fn new(
        digest: [u8; 32],
        kind: &str,
        user_id: UserId,
        payload: String,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            digest,
            kind: kind.to_owned(),
            user_id,
            payload,
            expires_at,
        }
    }
}

/// The ceremony kind of password-reset tokens (at most one per user).
pub const PASSWORD_RESET: &str = "password_reset";

/// Where second factors live. Every method is one atomic store operation.
///
/// Sealed values are opaque to stores except for their `v1.<key id>.` prefix.
#[async_trait::async_trait]
pub trait MfaStore: std::fmt::Debug + Send + Sync + 'static {
    /// Stores a pending TOTP enrolment, replacing an earlier pending one.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a confirmed factor exists (remove it first).
    async fn put_pending_totp(&self, record: &TotpRecord) -> Result<(), StoreError>;

    /// The user's TOTP factor, pending or confirmed.
    async fn totp(&self, user: UserId) -> Result<Option<TotpRecord>, StoreError>;

    /// Accepts `step` if it is newer than the last accepted one: for a confirmed factor
    /// (`confirm == false`, a login) or a pending one (`confirm == true`, which also confirms
    /// it), whose seed is still `sealed` (so a check made with a seed read earlier fails once
    /// the factor was removed, re-enrolled or re-sealed). Compare-and-set: of concurrent calls
    /// with one step, exactly one returns `true`.
    async fn accept_totp_step(
        &self,
        user: UserId,
        sealed: &str,
        step: u64,
        confirm: bool,
    ) -> Result<bool, StoreError>;

    /// [`accept_totp_step`](Self::accept_totp_step) for a confirmed factor (a login), in the
    /// same statement as a look at the second-factor counter `counter` (a [`LockoutKey::storage_key`](crate::LockoutKey)):
    /// `Some(true)` when the step was accepted and the counter holds no failure and no lock at
    /// `now`; `Some(false)` when nothing changed (a stale or replayed step, or a counter with
    /// something on record, which the caller then reads and applies itself). `None`, the
    /// default, when this store cannot see the lockout counters.
    ///
    /// Only a store that shares its database with the `LockoutStore` the caller counts on may
    /// answer `Some`; it saves the login's separate counter read.
    async fn accept_totp_step_if_clear(
        &self,
        user: UserId,
        sealed: &str,
        step: u64,
        counter: &str,
        now: OffsetDateTime,
    ) -> Result<Option<bool>, StoreError> {
        let _ = (user, sealed, step, counter, now);
        Ok(None)
    }

    /// Up to `limit` TOTP factors whose seed is sealed under a key other than `active`
    /// (sealed values start `v1.<key id>.`), for re-sealing after a key rotation.
    async fn totp_sealed_with_other_keys(
        &self,
        active: &KeyId,
        limit: usize,
    ) -> Result<Vec<TotpRecord>, StoreError>;

    /// How many TOTP factors are sealed under `key` (a key with any may not be retired).
    async fn count_sealed_with(&self, key: &KeyId) -> Result<u64, StoreError>;

    /// Replaces a factor's sealed seed if it is still `old` (compare-and-set). Returns
    /// whether it was replaced.
    async fn reseal_totp(&self, user: UserId, old: &str, new: &str) -> Result<bool, StoreError>;

    /// Deletes the TOTP factor. Returns whether one existed.
    async fn remove_totp(&self, user: UserId) -> Result<bool, StoreError>;

    /// Stores a ceremony.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when its digest exists (a token collision: never in practice).
    async fn put_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError>;

    /// Stores a password-reset ceremony (kind [`PASSWORD_RESET`]), replacing the user's
    /// earlier one in the same step: a newer token invalidates the older (OWASP Forgot
    /// Password Cheat Sheet), and of concurrent calls for one user exactly one token survives.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when its digest exists, or its kind is not [`PASSWORD_RESET`].
    async fn put_password_reset(&self, ceremony: &Ceremony) -> Result<(), StoreError>;

    /// Removes and returns the ceremony of `kind` with `digest` if it has not expired at
    /// `now`: single use, so of racing takes exactly one gets it. An expired one is removed
    /// and `None` returned; one of another kind is left alone.
    async fn take_ceremony(
        &self,
        digest: &[u8; 32],
        kind: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Ceremony>, StoreError>;

    /// Deletes ceremonies expired by `now`; returns how many.
    async fn purge_ceremonies(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// Replaces the user's recovery codes (the old set stops working).
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        digests: &[RecoveryDigest],
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Consumes one code: `true` if it was unused (exactly one of concurrent uses wins).
    async fn consume_recovery_code(
        &self,
        user: UserId,
        digest: &RecoveryDigest,
    ) -> Result<bool, StoreError>;

    /// Unused codes left.
    async fn recovery_codes_left(&self, user: UserId) -> Result<usize, StoreError>;
}
