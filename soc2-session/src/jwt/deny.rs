//! Revoking service tokens before they expire: a deny list of `jti`s.

use std::fmt::Debug;

use async_trait::async_trait;
use soc2_core::StoreError;
use time::OffsetDateTime;

/// Token ids refused until the token would have expired anyway. Implemented by every session
/// store, so all app instances share it.
#[async_trait]
pub trait TokenDenyList: Debug + Send + Sync + 'static {
    /// Refuses `jti` until `until`; denying again keeps the later time.
    async fn deny(&self, jti: &str, until: OffsetDateTime) -> Result<(), StoreError>;

    /// True when `jti` is refused at `now`.
    async fn is_denied(&self, jti: &str, now: OffsetDateTime) -> Result<bool, StoreError>;

    /// Forgets denials whose token has expired by `now`; returns how many.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}
