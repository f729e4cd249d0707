//! PostgreSQL, for production and many app instances.

use soc2_core::StoreError;
use sqlx::PgPool;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

mod changes;

pub use changes::{
    CHANGES_CHANNEL, DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_SILENCE_LIMIT, ListenConfig,
    follow_changes, follow_changes_with,
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

sql_migrate!(PgPool, "postgres");

// The guarded append: the guard is a data-modifying CTE the insert depends on.
const GUARD_OPEN: &str = "WITH head AS (";
const GUARD_CLOSE: &str = " RETURNING 1) ";
const INSERT_IF_GUARDED: &str = ") AS v WHERE EXISTS (SELECT 1 FROM head)";
const GUARD_ROWS_COUNTED: u64 = 0;

sql_session_store!(
    /// Sessions on PostgreSQL, shared by every app instance. Of concurrent rotations of one
    /// token, exactly one finds the row to delete.
    PgSessionStore,
    sqlx::Postgres,
    sqlx::PgPool
);

sql_audit_store!(
    /// The hash-chained audit store on PostgreSQL. Appends from any number of app instances are
    /// serialized by the head checkpoint row (a guarded update), so they form one chain.
    PgAuditStore,
    sqlx::Postgres,
    sqlx::PgPool,
    sqlx::PgConnection
);

sql_credential_store!(
    /// Password credentials and their history on PostgreSQL, shared by every app instance. A
    /// password change locks the credential row: of concurrent changes from one expected
    /// hash, exactly one applies.
    PgCredentialStore,
    sqlx::Postgres,
    sqlx::PgPool
);

sql_lockout_store!(
    /// Lockout counters and per-IP windows on PostgreSQL, shared by every app instance. Each
    /// change locks its row (an upsert) for its read-modify-write, so concurrent instances
    /// never lose an update.
    PgLockoutStore,
    sqlx::PgPool
);

sql_mfa_store!(
    /// TOTP factors and recovery codes on PostgreSQL. Accepting a time step and consuming a code
    /// are single conditional statements: of racing uses, exactly one succeeds.
    PgMfaStore,
    sqlx::PgPool
);

sql_role_store!(
    /// Role assignments, the role hierarchy and elevations on PostgreSQL, shared by every app
    /// instance. Grants and approvals for one user, and hierarchy changes, check and write
    /// under a transaction-scoped advisory lock: of concurrent grants that together break a
    /// segregation-of-duties rule, one is refused.
    PgRoleStore,
    sqlx::Postgres,
    sqlx::PgPool
);

sql_review_store!(
    /// Access-review campaigns on PostgreSQL, shared by every app instance. A campaign and its
    /// items are written in one transaction; a decision is one conditional statement: of
    /// racing decisions on one item, exactly one is recorded.
    PgReviewStore,
    sqlx::PgPool
);

sql_passkey_store!(
    /// Passkeys on PostgreSQL, shared by every app instance. A credential id is registered
    /// once, by anyone; recording a use is one conditional update on the stored state: of
    /// racing uses, exactly one applies.
    PgPasskeyStore,
    sqlx::PgPool
);

embedded_migrations!("postgres");

/// Opens a pool on `url` (e.g. `postgres://user@host/db`).
///
/// # Errors
/// [`StoreError::Unavailable`] when the server cannot be reached, [`StoreError::Backend`] for a
/// malformed URL or refused credentials.
pub async fn connect(url: &str) -> Result<PgPool, StoreError> {
    connect_with(PgConnectOptions::from_str(url).map_err(store_error)?).await
}

/// Opens a pool with explicit connect options (e.g. a `search_path` per tenant schema).
///
/// # Errors
/// As [`connect`].
pub async fn connect_with(options: PgConnectOptions) -> Result<PgPool, StoreError> {
    PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options)
        .await
        .map_err(store_error)
}

/// Starts a write transaction; its statements lock the rows they change (the audit head
/// checkpoint, a credential, a lockout counter), which serializes competing writers.
async fn begin_write(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin().await
}

/// Starts the migration transaction under an advisory lock on the current schema.
async fn begin_migration(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.soc2_migrations'))")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Serializes the current transaction with every other one that locks `key` in this schema,
/// until it ends (a transaction-scoped advisory lock on a 64-bit hash of schema and key; a
/// collision only serializes more).
async fn lock_key(conn: &mut sqlx::PgConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.' || $1, 0))")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}
