//! Redis errors mapped onto [`StoreError`] kinds.

use redis::{ErrorKind, RedisError};
use soc2_core::StoreError;

/// The `StoreError` for a failed Redis call: connection trouble is `Unavailable` (retry later),
/// a value of the wrong type under a key or a reply of the wrong shape is `Corrupt`, anything
/// else `Backend`. The Redis error stays the source.
pub(crate) fn store_error(error: RedisError) -> StoreError {
    if error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
    {
        return StoreError::Unavailable(Box::new(error));
    }
    match error.code() {
        Some("WRONGTYPE") => {
            return StoreError::Corrupt("a key holds a value of the wrong Redis type".into());
        }
        // Raised by this crate's scripts on a malformed stored value.
        Some("CORRUPT") => {
            return StoreError::Corrupt(error.detail().unwrap_or("malformed value").to_owned());
        }
        _ => {}
    }
    match error.kind() {
        ErrorKind::UnexpectedReturnType | ErrorKind::Parse => {
            StoreError::Corrupt("a Redis reply does not have the expected shape".into())
        }
        _ => StoreError::Backend(Box::new(error)),
    }
}

/// The error for a malformed stored value of kind `what`.
pub(crate) fn corrupt(what: &str, detail: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}
