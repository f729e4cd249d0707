//! The migration runner, written once and expanded per database by [`sql_migrate!`].
//!
//! Migrations are tracked in `soc2_migrations`, apart from the host's own migration table, and
//! all pending ones are applied in one transaction that each database module opens with
//! `begin_migration(pool)`, which also keeps concurrent starters out until it ends.

/// One schema migration, embedded in the binary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

/// Defines `MIGRATIONS`: the SQL files of `migrations/$dir/`, embedded, in order.
macro_rules! embedded_migrations {
    ($dir:literal) => {
        const MIGRATIONS: &[Migration] = &[
            Migration {
                version: 1,
                name: "audit",
                sql: include_str!(concat!("../../migrations/", $dir, "/0001_audit.sql")),
            },
            Migration {
                version: 2,
                name: "sessions",
                sql: include_str!(concat!("../../migrations/", $dir, "/0002_sessions.sql")),
            },
            Migration {
                version: 3,
                name: "denied_tokens",
                sql: include_str!(concat!(
                    "../../migrations/",
                    $dir,
                    "/0003_denied_tokens.sql"
                )),
            },
            Migration {
                version: 4,
                name: "credentials",
                sql: include_str!(concat!("../../migrations/", $dir, "/0004_credentials.sql")),
            },
            Migration {
                version: 5,
                name: "lockout",
                sql: include_str!(concat!("../../migrations/", $dir, "/0005_lockout.sql")),
            },
            Migration {
                version: 6,
                name: "mfa",
                sql: include_str!(concat!("../../migrations/", $dir, "/0006_mfa.sql")),
            },
            Migration {
                version: 7,
                name: "ceremonies",
                sql: include_str!(concat!("../../migrations/", $dir, "/0007_ceremonies.sql")),
            },
            Migration {
                version: 8,
                name: "passkeys",
                sql: include_str!(concat!("../../migrations/", $dir, "/0008_passkeys.sql")),
            },
            Migration {
                version: 9,
                name: "roles",
                sql: include_str!(concat!("../../migrations/", $dir, "/0009_roles.sql")),
            },
            Migration {
                version: 10,
                name: "reviews",
                sql: include_str!(concat!("../../migrations/", $dir, "/0010_reviews.sql")),
            },
            Migration {
                version: 11,
                name: "password_resets",
                sql: include_str!(concat!(
                    "../../migrations/",
                    $dir,
                    "/0011_password_resets.sql"
                )),
            },
            Migration {
                version: 12,
                name: "changes",
                sql: include_str!(concat!("../../migrations/", $dir, "/0012_changes.sql")),
            },
        ];
    };
}

pub(crate) use embedded_migrations;

/// Defines `pub async fn migrate(pool: &$pool)` applying `MIGRATIONS`.
macro_rules! sql_migrate {
    ($pool:ty, $database:literal) => {
        /// Applies every soc2-rs migration not yet applied, all in one transaction (then
        /// nothing is applied when one fails). Safe to call from every instance at start-up:
        /// one runs them, the others wait and find nothing left to do.
        ///
        /// Migrations are tracked in `soc2_migrations`, apart from the host's own table.
        ///
        /// # Errors
        /// A [`StoreError`] when the database cannot be written or a migration fails.
        pub async fn migrate(pool: &$pool) -> Result<(), StoreError> {
            let mut tx = begin_migration(pool).await.map_err(store_error)?;
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS soc2_migrations (
                     version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at_us BIGINT NOT NULL)",
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
                    "INSERT INTO soc2_migrations (version, name, applied_at_us) VALUES ($1, $2, $3)",
                )
                .bind(migration.version)
                .bind(migration.name)
                .bind(soc2_core::unix_micros(time::OffsetDateTime::now_utc()))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                tracing::info!(
                    target: "soc2::sqlx",
                    version = migration.version,
                    name = migration.name,
                    database = $database,
                    "applying soc2 migration"
                );
            }
            tx.commit().await.map_err(store_error)
        }
    };
}

pub(crate) use sql_migrate;
