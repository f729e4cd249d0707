//! argon2id password hashing: PHC strings, OWASP parameters, a versioned pepper, bounded
//! parallelism on the blocking pool, rehash detection and dummy work for unknown accounts.

mod compute;
mod hasher;
mod params;
mod stored;
mod workers;

pub use hasher::{PasswordHasher, Verification};
pub use params::{HashParams, MAX_PEPPER_ID_BYTES};
pub use stored::StoredHash;

/// Why hashing or verification could not run (a wrong password is not an error: see
/// [`Verification`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The stored hash is not an argon2 PHC string this crate can verify.
    #[error("stored password hash is malformed or uses an unsupported algorithm")]
    Malformed,
    /// The stored hash names a pepper key that is not configured (it was retired too early).
    #[error("stored password hash needs pepper key `{0}`, which is not configured")]
    UnknownPepper(String),
    /// The parameters are outside what argon2 accepts, or a pepper key id is too long.
    #[error("invalid argon2 configuration: {0}")]
    Config(String),
    /// argon2 itself failed.
    #[error("argon2 failed: {0}")]
    Argon2(String),
    /// The blocking task did not finish (the runtime is shutting down).
    #[error("password hashing task was cancelled")]
    Cancelled,
}
