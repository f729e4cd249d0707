//! Shared by the soc2ctl process tests: running the binary, and migrated databases on SQLite
//! and PostgreSQL with the stores the tests arrange and inspect.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;
use soc2_audit::{AuditLog, AuditLogConfig, AuditSink, AuditStore};
use soc2_auth::{CredentialStore, LockoutStore};
use soc2_core::KeyRing;
use soc2_rbac::RoleStore;
use soc2_rbac::review::ReviewStore;
use soc2_session::SessionStore;
use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::postgres::TestSchema;

/// The audit keys of every test database.
pub const KEYS: &str = "ctl-1=AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";

/// Runs soc2ctl with `args` and `env`, without the caller's `DATABASE_URL`,
/// `SOC2_AUDIT_KEYS`, `SOC2_OPERATOR` or `REDIS_URL`.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soc2ctl"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SOC2_AUDIT_KEYS")
        .env_remove("SOC2_OPERATOR")
        .env_remove("REDIS_URL")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Runs soc2ctl with `args` and the test audit keys in `SOC2_AUDIT_KEYS`.
pub fn soc2ctl(args: &[&str]) -> Output {
    run(args, &[("SOC2_AUDIT_KEYS", KEYS)])
}

/// Standard output or error as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the exit code, showing standard error when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A migrated database with the stores of the server, signing audit events with [`KEYS`].
pub struct Db {
    /// The URL soc2ctl opens.
    pub url: String,
    pub audit: Arc<dyn AuditStore>,
    pub credentials: Arc<dyn CredentialStore>,
    pub lockouts: Arc<dyn LockoutStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub roles: Arc<dyn RoleStore>,
    pub reviews: Arc<dyn ReviewStore>,
    dir: Option<tempfile::TempDir>,
    schema: Option<TestSchema>,
}

impl Db {
    /// A fresh SQLite file in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("soc2.db").display());
        let pool = sqlite::connect(&url).await.unwrap();
        sqlite::migrate(&pool).await.unwrap();
        let keys = KeyRing::parse(KEYS).unwrap();
        Self {
            url,
            audit: Arc::new(sqlite::SqliteAuditStore::new(pool.clone(), &keys)),
            credentials: Arc::new(sqlite::SqliteCredentialStore::new(pool.clone())),
            lockouts: Arc::new(sqlite::SqliteLockoutStore::new(pool.clone())),
            sessions: Arc::new(sqlite::SqliteSessionStore::new(pool.clone())),
            roles: Arc::new(sqlite::SqliteRoleStore::new(pool.clone())),
            reviews: Arc::new(sqlite::SqliteReviewStore::new(pool)),
            dir: Some(dir),
            schema: None,
        }
    }

    /// A fresh schema on the test PostgreSQL server; `None` (skip) when none is configured.
    pub async fn postgres(test: &str) -> Option<Self> {
        let schema = TestSchema::create(test).await?;
        let pool = schema.pool().await;
        postgres::migrate(&pool).await.unwrap();
        let keys = KeyRing::parse(KEYS).unwrap();
        Some(Self {
            url: format!(
                "{}?options=-c%20search_path%3D{}",
                schema.url(),
                schema.name()
            ),
            audit: Arc::new(postgres::PgAuditStore::new(pool.clone(), &keys)),
            credentials: Arc::new(postgres::PgCredentialStore::new(pool.clone())),
            lockouts: Arc::new(postgres::PgLockoutStore::new(pool.clone())),
            sessions: Arc::new(postgres::PgSessionStore::new(pool.clone())),
            roles: Arc::new(postgres::PgRoleStore::new(pool.clone())),
            reviews: Arc::new(postgres::PgReviewStore::new(pool)),
            dir: None,
            schema: Some(schema),
        })
    }

    /// A directory that lives as long as the database (a temporary one on PostgreSQL too).
    pub fn dir(&mut self) -> std::path::PathBuf {
        self.dir
            .get_or_insert_with(|| tempfile::tempdir().unwrap())
            .path()
            .to_owned()
    }

    /// An audit log on this database, for arranging state as the server would.
    pub fn audit_log(&self) -> AuditLog {
        AuditLog::start(
            Arc::clone(&self.audit) as Arc<dyn AuditSink>,
            AuditLogConfig::default(),
        )
    }

    /// Every stored audit event's JSON body, in order.
    pub async fn events(&self) -> Vec<Value> {
        self.audit
            .read(0, 10_000)
            .await
            .unwrap()
            .iter()
            .map(|stored| serde_json::from_str(&stored.body).unwrap())
            .collect()
    }

    /// The stored events of `action`.
    pub async fn events_of(&self, action: &str) -> Vec<Value> {
        self.events()
            .await
            .into_iter()
            .filter(|event| event["action"] == action)
            .collect()
    }

    /// Drops the PostgreSQL schema after a passing test.
    pub async fn cleanup(self) {
        if let Some(schema) = &self.schema {
            schema.drop_schema().await;
        }
    }
}

/// One `#[tokio::test]` per backend for each case `async fn case(db: &mut Db)`:
/// `case::sqlite` and `case::postgres` (skipped without `SOC2_TEST_POSTGRES_URL`).
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                use crate::common::Db;

                #[tokio::test]
                async fn sqlite() {
                    super::$case(&mut Db::sqlite().await).await;
                }

                #[tokio::test]
                async fn postgres() {
                    let test = concat!(module_path!(), "::postgres");
                    if let Some(mut db) = Db::postgres(test).await {
                        super::$case(&mut db).await;
                        db.cleanup().await;
                    }
                }
            }
        )*
    };
}
