#![doc = include_str!("../README.md")]

mod changes;
mod error;
mod keys;
mod lockout;
mod session;
mod session_hash;
mod session_scripts;

pub use changes::{
    CHANGES_CHANNEL_SUFFIX, DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_SILENCE_LIMIT, FollowConfig,
    follow_changes,
};
pub use keys::DEFAULT_PREFIX;
pub use lockout::RedisLockoutStore;
/// The Redis client this crate is built on (connect with the same version).
pub use redis;
pub use redis::aio::{ConnectionManager, ConnectionManagerConfig};
pub use session::{DEFAULT_EXPIRY_GRACE, RedisSessionStore};
pub use soc2_core::ChangeFollower;

use soc2_core::StoreError;

/// Opens a reconnecting, multiplexed connection to the Redis server at `url`
/// (`redis://[:password@]host:port[/db]`, `rediss://` needs a TLS feature of the `redis` crate).
/// Clones of it share one connection; give it to both stores.
///
/// # Errors
/// [`StoreError::Unavailable`] when the server cannot be reached, [`StoreError::Backend`] when
/// the URL is invalid.
pub async fn connect(url: &str) -> Result<ConnectionManager, StoreError> {
    connect_with(url, ConnectionManagerConfig::new()).await
}

/// [`connect`] with the connection's timeouts and reconnection retries set by `config` (the
/// default retries 6 times with exponential backoff, a few seconds in all, before an operation
/// or the first connection fails).
///
/// # Errors
/// As [`connect`].
pub async fn connect_with(
    url: &str,
    config: ConnectionManagerConfig,
) -> Result<ConnectionManager, StoreError> {
    let client = redis::Client::open(url).map_err(error::store_error)?;
    ConnectionManager::new_with_config(client, config)
        .await
        .map_err(error::store_error)
}
