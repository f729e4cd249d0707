//! PostgreSQL, for production and many app instances.

use soc2_core::StoreError;
use sqlx::PgPool;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::Migration;
use crate::audit::sql_audit_store;
use crate::error::store_error;

sql_audit_store!(
    /// The hash-chained audit store on PostgreSQL. Appends from any number of app instances are
    /// serialized by the head checkpoint row (a guarded update), so they form one chain.
    PgAuditStore,
    sqlx::Postgres,
    sqlx::PgPool,
    sqlx::PgConnection
);

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "audit",
    sql: include_str!("../../migrations/postgres/0001_audit.sql"),
}];

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

/// Applies every soc2-rs migration not yet applied to the connection's current schema, all in
/// one transaction under an advisory lock, so several instances can call it at start-up.
///
/// Migrations are tracked in `soc2_migrations`, apart from the host's own migration table.
///
/// # Errors
/// A [`StoreError`] when the database cannot be written or a migration fails (then nothing is
/// applied).
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.soc2_migrations'))")
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS soc2_migrations (
             version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    for migration in MIGRATIONS {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT version FROM soc2_migrations WHERE version = $1")
                .bind(migration.version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
        if applied.is_some() {
            continue;
        }
        sqlx::raw_sql(migration.sql)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        sqlx::query(
            "INSERT INTO soc2_migrations (version, name, applied_at) VALUES ($1, $2, now())",
        )
        .bind(migration.version)
        .bind(migration.name)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        tracing::info!(target: "soc2::sqlx", version = migration.version, name = migration.name, "applying PostgreSQL migration");
    }
    tx.commit().await.map_err(store_error)
}

/// Starts an append transaction; the guarded head update inside it is the lock.
async fn begin_write(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin().await
}
