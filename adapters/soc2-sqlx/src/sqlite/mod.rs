//! SQLite, the embedded default: one file, WAL mode, writers serialized by `BEGIN IMMEDIATE`.

use std::str::FromStr;
use std::time::Duration;

use soc2_core::StoreError;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

mod changes;

pub use changes::{
    DEFAULT_POLL_INTERVAL, DEFAULT_PRUNE_INTERVAL, DEFAULT_RETENTION, PollConfig, follow_changes,
    prune_changes,
};

use crate::audit::sql_audit_store;
use crate::credential::sql_credential_store;
use crate::error::store_error;
use crate::lockout::sql_lockout_store;
use crate::mfa::sql_mfa_store;
use crate::migrate::{Migration, embedded_migrations, sql_migrate};
use crate::passkey::sql_passkey_store;
use crate::review::sql_review_store;
use crate::role::sql_role_store;
use crate::session::sql_session_store;

sql_migrate!(SqlitePool, "sqlite");

// The guarded append: two statements in one call; `changes()` is what the guard changed.
const GUARD_OPEN: &str = "";
const GUARD_CLOSE: &str = "; ";
const INSERT_IF_GUARDED: &str = ") WHERE changes() = 1";
const GUARD_ROWS_COUNTED: u64 = 1;

sql_session_store!(
    /// Sessions on SQLite. Rotation runs under `BEGIN IMMEDIATE`: of concurrent rotations of
    /// one token, exactly one succeeds.
    SqliteSessionStore,
    sqlx::Sqlite,
    sqlx::SqlitePool
);

sql_audit_store!(
    /// The hash-chained audit store on SQLite. Appends from several pools or processes on the
    /// same file are serialized by `BEGIN IMMEDIATE`, so they form one chain.
    SqliteAuditStore,
    sqlx::Sqlite,
    sqlx::SqlitePool,
    sqlx::SqliteConnection
);

sql_credential_store!(
    /// Password credentials and their history on SQLite. A password change runs under
    /// `BEGIN IMMEDIATE`: of concurrent changes from one expected hash, exactly one applies.
    /// Removing a credential removes its history through the foreign key, which needs
    /// `PRAGMA foreign_keys = ON` (set by [`connect`](crate::sqlite::connect) and by sqlx's
    /// defaults).
    SqliteCredentialStore,
    sqlx::Sqlite,
    sqlx::SqlitePool
);

sql_lockout_store!(
    /// Lockout counters and per-IP windows on SQLite. Each change is a read-modify-write under
    /// `BEGIN IMMEDIATE`, so several pools or processes on one file never lose an update.
    SqliteLockoutStore,
    sqlx::SqlitePool
);

sql_mfa_store!(
    /// TOTP factors and recovery codes on SQLite. Accepting a time step and consuming a code
    /// are single conditional statements: of racing uses, exactly one succeeds.
    SqliteMfaStore,
    sqlx::SqlitePool
);

sql_role_store!(
    /// Role assignments, the role hierarchy and elevations on SQLite. Grants, approvals and
    /// hierarchy changes check and write under `BEGIN IMMEDIATE`: of concurrent grants that
    /// together break a segregation-of-duties rule, from any number of pools on one file, one
    /// is refused.
    SqliteRoleStore,
    sqlx::Sqlite,
    sqlx::SqlitePool
);

sql_review_store!(
    /// Access-review campaigns on SQLite. A campaign and its items are written under
    /// `BEGIN IMMEDIATE`, all or nothing; a decision is one conditional statement: of racing
    /// decisions on one item, exactly one is recorded.
    SqliteReviewStore,
    sqlx::SqlitePool
);

sql_passkey_store!(
    /// Passkeys on SQLite. A credential id is registered once, by anyone; recording a use is
    /// one conditional update on the stored state: of racing uses, exactly one applies.
    SqlitePasskeyStore,
    sqlx::SqlitePool
);

embedded_migrations!("sqlite");

/// How long a connection waits for another writer's lock before reporting the store busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a pool on `url` (e.g. `sqlite://soc2.db`), creating the file if missing, in WAL mode
/// with `synchronous = FULL` (a committed audit event survives power loss) and foreign keys on.
///
/// # Errors
/// [`StoreError::Unavailable`] when the file cannot be opened, [`StoreError::Backend`] for a
/// malformed URL.
pub async fn connect(url: &str) -> Result<SqlitePool, StoreError> {
    open(url, true).await
}

/// Like [`connect`], but fails when the database file does not exist (for tools that inspect an
/// existing log and must not create an empty one).
///
/// # Errors
/// As [`connect`]; a missing file is [`StoreError::Unavailable`].
pub async fn connect_existing(url: &str) -> Result<SqlitePool, StoreError> {
    open(url, false).await
}

async fn open(url: &str, create: bool) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(store_error)?
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(store_error)
}

/// Starts a write transaction that holds SQLite's single writer lock from the start, so a
/// waiting writer queues on the busy timeout instead of failing on a stale WAL snapshot.
async fn begin_write(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Migrations take the same writer lock as appends.
async fn begin_migration(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    begin_write(pool).await
}

/// Nothing to do on SQLite: a write transaction (`begin_write`) already holds the single writer
/// lock, which serializes it with every other writer, whatever `key` it would lock.
async fn lock_key(_conn: &mut sqlx::SqliteConnection, _key: &str) -> Result<(), sqlx::Error> {
    Ok(())
}
