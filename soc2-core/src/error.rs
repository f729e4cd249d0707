//! The error every storage trait returns.

/// A boxed error from a storage backend, kept as the `source` of a [`StoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in a store, in terms a caller can act on.
///
/// Backends map their driver errors onto these kinds; the driver error stays available as the
/// `source` for logs but is never part of the message shown to end users.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend cannot be reached right now (connection refused, pool timed out, read-only
    /// file). Retrying later may succeed.
    #[error("storage backend unavailable")]
    Unavailable(#[source] BoxError),
    /// A uniqueness or concurrency rule refused the write; the message names the rule.
    #[error("storage conflict: {0}")]
    Conflict(String),
    /// Stored data does not have the expected shape (hand-edited rows, wrong schema version).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The schema is missing or older than this version of soc2-rs: run the migrations.
    #[error("storage schema missing or outdated: {0}")]
    Schema(String),
    /// Any other backend failure.
    #[error("storage backend error")]
    Backend(#[source] BoxError),
}

impl StoreError {
    /// True when retrying the same operation later may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}
