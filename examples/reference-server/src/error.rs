//! Why the server could not start.

use std::path::PathBuf;

use soc2_auth::password::PasswordPolicyError;
use soc2_auth::{AuthError, LockoutPolicyError};
use soc2_core::{KeyRingError, StoreError};
use soc2_session::PolicyError;

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A top-level section the server does not know.
    #[error("unknown section [{0}]: use server, password, lockout, session, mfa, passkey or audit")]
    UnknownSection(String),
    /// A section does not parse.
    #[error("[{0}]: {1}")]
    Section(String, String),
    /// Two settings contradict each other.
    #[error("{0}")]
    Conflict(String),
    /// The `[password]` policy is refused.
    #[error("[password]: {0}")]
    Password(#[from] PasswordPolicyError),
    /// The `[lockout]` policy is refused.
    #[error("[lockout]: {0}")]
    Lockout(#[from] LockoutPolicyError),
    /// The `[session]` policy is refused.
    #[error("[session]: {0}")]
    Session(#[from] PolicyError),
    /// `allowed_origins` or `trusted_proxies` is malformed.
    #[error("[server]: {0}")]
    Server(#[from] soc2_tower::ConfigError),
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database URL names no supported backend.
    #[error("unsupported database URL: use sqlite://path.db or postgres://user@host/db")]
    DatabaseUrl,
    /// `server.redis_url` (or `REDIS_URL`) is not a Redis URL; the message carries the URL
    /// without its password.
    #[error(
        "server.redis_url: {url} is not a Redis URL (redis://[:password@]host:port[/db]): {reason}"
    )]
    RedisUrl {
        /// The URL, its password replaced by `***`.
        url: String,
        /// Why the Redis client refused it.
        reason: String,
    },
    /// The Redis server of `server.redis_url` cannot be reached, or its change channel cannot
    /// be followed.
    #[error("redis ({url}): {source}")]
    Redis {
        /// The URL, its password replaced by `***`.
        url: String,
        /// Why.
        source: StoreError,
    },
    /// The database cannot be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] StoreError),
    /// No audit key is configured and none can be generated (PostgreSQL or in-memory SQLite).
    #[error(
        "no audit key: set SOC2_AUDIT_KEYS or [audit] keys_file (a key file is generated only beside a SQLite file)"
    )]
    NoAuditKeys,
    /// No secret-sealing key is configured and none can be generated (PostgreSQL or in-memory
    /// SQLite).
    #[error(
        "no secret-sealing key: set SOC2_SEALING_KEYS or [mfa] sealing_keys_file (a key file is generated only beside a SQLite file)"
    )]
    NoSealingKeys,
    /// A key ring (audit or sealing) is malformed.
    #[error("keys: {0}")]
    Keys(#[from] KeyRingError),
    /// A key file cannot be read or written.
    #[error("key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The operating system's random generator failed.
    #[error("the operating system's random generator failed")]
    Random,
    /// The first administrator could not be created (e.g. the configured bootstrap password
    /// breaks the password policy).
    #[error("bootstrap administrator: {0}")]
    Bootstrap(#[from] AuthError),
    /// The password hasher could not start.
    #[error("password hasher: {0}")]
    Hasher(#[from] soc2_auth::HashError),
    /// The policy directory cannot be loaded.
    #[error("policies: {0}")]
    Policies(#[from] soc2_rbac::ReloadError),
    /// `server.watch_policies` is on and the policy directory cannot be watched.
    #[error("watching the policies: {0}")]
    PolicyWatch(#[from] soc2_rbac::WatchError),
    /// A role name in the configuration is invalid.
    #[error("role name: {0}")]
    RoleName(#[from] soc2_rbac::InvalidRoleName),
    /// The first administrator's role could not be granted.
    #[error("bootstrap administrator role: {0}")]
    BootstrapRole(#[from] soc2_rbac::RoleError),
}
