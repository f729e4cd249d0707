//! A private PostgreSQL schema per test.
//!
//! Tests read `SOC2_TEST_POSTGRES_URL`. Without it they print a notice and skip, unless
//! `SOC2_TEST_POSTGRES_REQUIRED=1` (CI), where a missing or unreachable server fails the test.
//! Every test that got a schema appends its name to the file named by `SOC2_TEST_POSTGRES_LOG`,
//! so CI can check that PostgreSQL tests really ran.

use std::io::Write;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

/// The variable holding the server URL.
pub const URL_VAR: &str = "SOC2_TEST_POSTGRES_URL";
/// Set to `1` to fail instead of skipping when no server is configured.
pub const REQUIRED_VAR: &str = "SOC2_TEST_POSTGRES_REQUIRED";
/// A file that collects the names of PostgreSQL tests that ran.
pub const LOG_VAR: &str = "SOC2_TEST_POSTGRES_LOG";

/// A schema of its own on the test server; pools opened through it see only that schema.
#[derive(Debug, Clone)]
pub struct TestSchema {
    url: String,
    name: String,
}

impl TestSchema {
    /// Creates a fresh schema for `test`, or returns `None` (after a notice) when no server is
    /// configured and none is required.
    ///
    /// # Panics
    /// When the server is required but missing or unreachable.
    #[allow(clippy::panic)]
    pub async fn create(test: &str) -> Option<Self> {
        let Ok(url) = std::env::var(URL_VAR) else {
            if std::env::var(REQUIRED_VAR).is_ok_and(|v| v == "1") {
                panic!("{REQUIRED_VAR}=1 but {URL_VAR} is not set");
            }
            eprintln!("note: skipping PostgreSQL test `{test}`: set {URL_VAR} to run it");
            return None;
        };
        let name = format!("soc2t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = match PgConnection::connect(&url).await {
            Ok(conn) => conn,
            Err(error) => panic!("cannot connect to {URL_VAR}={url}: {error}"),
        };
        let create = format!("CREATE SCHEMA {name}");
        if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&mut admin)
            .await
        {
            panic!("cannot create test schema: {error}");
        }
        record_run(test);
        Some(Self { url, name })
    }

    /// The server URL, without the schema.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connect options whose `search_path` is this schema.
    ///
    /// # Panics
    /// When the URL does not parse.
    #[allow(clippy::panic)]
    #[must_use]
    pub fn options(&self) -> PgConnectOptions {
        match PgConnectOptions::from_str(&self.url) {
            Ok(options) => options.options([("search_path", self.name.as_str())]),
            Err(error) => panic!("{URL_VAR} does not parse: {error}"),
        }
    }

    /// A new pool on this schema (each call a separate pool, like a separate app instance).
    ///
    /// # Panics
    /// When the server cannot be reached.
    #[allow(clippy::panic)]
    pub async fn pool(&self) -> PgPool {
        match PgPoolOptions::new()
            .max_connections(4)
            .connect_with(self.options())
            .await
        {
            Ok(pool) => pool,
            Err(error) => panic!("cannot open a pool on the test schema: {error}"),
        }
    }

    /// Drops the schema and everything in it.
    pub async fn drop_schema(&self) {
        if let Ok(mut admin) = PgConnection::connect(&self.url).await {
            let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&mut admin)
                .await;
        }
    }
}

fn record_run(test: &str) {
    let Ok(path) = std::env::var(LOG_VAR) else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{test}");
    }
}
