//! The soc2-rs reference server: an axum JSON API that uses every soc2-rs crate, and the
//! project's end-to-end test bed.
//!
//! [`App::build`] opens the database, loads the keys, creates the first administrator and
//! returns the router; `main.rs` only parses arguments, binds and waits for a signal. Tests
//! build the same [`App`] with a `ManualClock`.
//!
//! Everything lives on the SQL database (SQLite or PostgreSQL) unless `server.redis_url` is
//! set: then sessions and lockouts (account and per-IP) live on Redis under
//! `server.redis_prefix` ([`RedisStores`], soc2-redis), shared by every instance and by
//! `soc2ctl`, and the session cache follows the Redis change channel (the keys are described
//! with the others in `src/config.rs`).

mod app;
mod bootstrap;
mod changes;
pub mod config;
mod database;
mod error;
mod feed;
mod keys;
mod passkeys;
mod rbac;
mod redis_stores;
mod routes;
mod sweeper;

pub use app::{App, serve};
pub use config::{
    AuditConfig, Config, DEFAULT_CACHE_MAX_STALENESS, DEFAULT_CHANGE_POLL_INTERVAL,
    DEFAULT_DATABASE_URL, DEFAULT_POLICY_DIR, DEFAULT_REDIS_PREFIX, DEFAULT_SWEEP_INTERVAL,
    MfaConfig, PasskeyConfig, ServerConfig,
};
pub use error::{ConfigError, StartError};
pub use keys::audit_keys_file;
pub use redis_stores::RedisStores;
pub use sweeper::{SweepError, Swept};
