//! The SQL backends under test, and tampering through plain SQL.

#![allow(dead_code)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_audit::AuditStore;
use soc2_auth::mfa::MfaStore;
use soc2_auth::passkey::PasskeyStore;
use soc2_auth::{CredentialStore, LockoutStore};
use soc2_core::KeyRing;
use soc2_rbac::RoleStore;
use soc2_rbac::review::ReviewStore;
use soc2_session::SessionStore;
use soc2_session::jwt::TokenDenyList;
use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::audit::{AuditBackend, AuditTamper};
use soc2_testkit::credential::CredentialBackend;
use soc2_testkit::lockout::LockoutBackend;
use soc2_testkit::mfa::MfaBackend;
use soc2_testkit::passkey::PasskeyBackend;
use soc2_testkit::postgres::TestSchema;
use soc2_testkit::rbac::RoleBackend;
use soc2_testkit::review::ReviewBackend;
use soc2_testkit::session::SessionBackend;
use sqlx::AnyPool;

/// A database a test owns: a SQLite file in a temporary directory, or a PostgreSQL schema.
pub(crate) enum SqlBackend {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres(TestSchema),
}

impl SqlBackend {
    pub(crate) async fn sqlite() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("audit.db").display());
        sqlite::migrate(&sqlite::connect(&url).await.unwrap())
            .await
            .unwrap();
        Some(Self::Sqlite { _dir: dir, url })
    }

    pub(crate) async fn postgres(test: &str) -> Option<Self> {
        let schema = TestSchema::create(test).await?;
        postgres::migrate(&schema.pool().await).await.unwrap();
        Some(Self::Postgres(schema))
    }

    /// The same database through sqlx's `Any` driver, for tampering.
    async fn any(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        let url = match self {
            Self::Sqlite { url, .. } => url.clone(),
            Self::Postgres(schema) => {
                format!(
                    "{}?options=-c%20search_path%3D{}",
                    schema.url(),
                    schema.name()
                )
            }
        };
        AnyPool::connect(&url).await.unwrap()
    }

    async fn execute(&self, sql: &'static str, binds: &[i64]) {
        let pool = self.any().await;
        let mut query = sqlx::query(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query.execute(&pool).await.unwrap();
        pool.close().await;
    }
}

#[async_trait]
impl AuditBackend for SqlBackend {
    async fn open(&self, keys: &KeyRing) -> Arc<dyn AuditStore> {
        match self {
            Self::Sqlite { url, .. } => Arc::new(sqlite::SqliteAuditStore::new(
                sqlite::connect(url).await.unwrap(),
                keys,
            )),
            Self::Postgres(schema) => {
                Arc::new(postgres::PgAuditStore::new(schema.pool().await, keys))
            }
        }
    }

    async fn cleanup(&self) {
        if let Self::Postgres(schema) = self {
            schema.drop_schema().await;
        }
    }
}

#[async_trait]
impl SessionBackend for SqlBackend {
    async fn open(&self) -> Arc<dyn SessionStore> {
        match self {
            Self::Sqlite { url, .. } => Arc::new(sqlite::SqliteSessionStore::new(
                sqlite::connect(url).await.unwrap(),
            )),
            Self::Postgres(schema) => Arc::new(postgres::PgSessionStore::new(schema.pool().await)),
        }
    }

    async fn open_deny_list(&self) -> Arc<dyn TokenDenyList> {
        match self {
            Self::Sqlite { url, .. } => Arc::new(sqlite::SqliteSessionStore::new(
                sqlite::connect(url).await.unwrap(),
            )),
            Self::Postgres(schema) => Arc::new(postgres::PgSessionStore::new(schema.pool().await)),
        }
    }

    async fn cleanup(&self) {
        AuditBackend::cleanup(self).await;
    }
}

#[async_trait]
impl CredentialBackend for SqlBackend {
    async fn open(&self) -> Arc<dyn CredentialStore> {
        match self {
            Self::Sqlite { url, .. } => Arc::new(sqlite::SqliteCredentialStore::new(
                sqlite::connect(url).await.unwrap(),
            )),
            Self::Postgres(schema) => {
                Arc::new(postgres::PgCredentialStore::new(schema.pool().await))
            }
        }
    }

    async fn cleanup(&self) {
        AuditBackend::cleanup(self).await;
    }
}

#[async_trait]
impl LockoutBackend for SqlBackend {
    async fn open(&self) -> Arc<dyn LockoutStore> {
        match self {
            Self::Sqlite { url, .. } => Arc::new(sqlite::SqliteLockoutStore::new(
                sqlite::connect(url).await.unwrap(),
            )),
            Self::Postgres(schema) => Arc::new(postgres::PgLockoutStore::new(schema.pool().await)),
        }
    }

    async fn cleanup(&self) {
        AuditBackend::cleanup(self).await;
    }
}

#[async_trait]
impl MfaBackend for SqlBackend {
    async fn open(&self) -> Arc<dyn MfaStore> {
        match self {
            Self::Sqlite { url, .. } => Arc::new(sqlite::SqliteMfaStore::new(
                sqlite::connect(url).await.unwrap(),
            )),
            Self::Postgres(schema) => Arc::new(postgres::PgMfaStore::new(schema.pool().await)),
        }
    }

    async fn open_sharing_counters(&self) -> Option<(Arc<dyn MfaStore>, Arc<dyn LockoutStore>)> {
        Some(match self {
            Self::Sqlite { url, .. } => {
                let pool = sqlite::connect(url).await.unwrap();
                (
                    Arc::new(sqlite::SqliteMfaStore::new(pool.clone()).sharing_lockouts()),
                    Arc::new(sqlite::SqliteLockoutStore::new(pool)),
                )
            }
            Self::Postgres(schema) => {
                let pool = schema.pool().await;
                (
                    Arc::new(postgres::PgMfaStore::new(pool.clone()).sharing_lockouts()),
                    Arc::new(postgres::PgLockoutStore::new(pool)),
                )
            }
        })
    }

    async fn cleanup(&self) {
        AuditBackend::cleanup(self).await;
    }
}

#[async_trait]
impl PasskeyBackend for SqlBackend {
    async fn open(&self) -> Arc<dyn PasskeyStore> {
        match self {
            Self::Sqlite { url, .. } => Arc::new(sqlite::SqlitePasskeyStore::new(
                sqlite::connect(url).await.unwrap(),
            )),
            Self::Postgres(schema) => Arc::new(postgres::PgPasskeyStore::new(schema.pool().await)),
        }
    }

    async fn cleanup(&self) {
        AuditBackend::cleanup(self).await;
    }
}

#[async_trait]
impl AuditTamper for SqlBackend {
    async fn set_body(&self, seq: u64, body: &str) {
        let pool = self.any().await;
        sqlx::query("UPDATE soc2_audit_events SET body = $1 WHERE seq = $2")
            .bind(body.to_owned())
            .bind(seq as i64)
            .execute(&pool)
            .await
            .unwrap();
    }

    async fn set_action_column(&self, seq: u64, action: &str) {
        let pool = self.any().await;
        sqlx::query("UPDATE soc2_audit_events SET action = $1 WHERE seq = $2")
            .bind(action.to_owned())
            .bind(seq as i64)
            .execute(&pool)
            .await
            .unwrap();
    }

    async fn delete(&self, seq: u64) {
        self.execute(
            "DELETE FROM soc2_audit_events WHERE seq = $1",
            &[seq as i64],
        )
        .await;
    }

    async fn delete_after(&self, seq: u64) {
        self.execute(
            "DELETE FROM soc2_audit_events WHERE seq > $1",
            &[seq as i64],
        )
        .await;
    }

    async fn swap(&self, a: u64, b: u64) {
        let (a, b) = (a as i64, b as i64);
        self.execute("UPDATE soc2_audit_events SET seq = -1 WHERE seq = $1", &[a])
            .await;
        self.execute(
            "UPDATE soc2_audit_events SET seq = $1 WHERE seq = $2",
            &[a, b],
        )
        .await;
        self.execute("UPDATE soc2_audit_events SET seq = $1 WHERE seq = -1", &[b])
            .await;
    }

    async fn set_head_seq(&self, seq: u64) {
        self.execute(
            "UPDATE soc2_audit_checkpoints SET seq = $1 WHERE kind = 'head'",
            &[seq as i64],
        )
        .await;
    }

    async fn delete_checkpoints(&self) {
        self.execute("DELETE FROM soc2_audit_checkpoints", &[])
            .await;
    }
}

#[async_trait]
impl RoleBackend for SqlBackend {
    async fn open(&self) -> Arc<dyn RoleStore> {
        match self {
            Self::Sqlite { url, .. } => Arc::new(sqlite::SqliteRoleStore::new(
                sqlite::connect(url).await.unwrap(),
            )),
            Self::Postgres(schema) => Arc::new(postgres::PgRoleStore::new(schema.pool().await)),
        }
    }

    async fn cleanup(&self) {
        AuditBackend::cleanup(self).await;
    }
}

#[async_trait]
impl ReviewBackend for SqlBackend {
    async fn open(&self) -> Arc<dyn ReviewStore> {
        match self {
            Self::Sqlite { url, .. } => Arc::new(sqlite::SqliteReviewStore::new(
                sqlite::connect(url).await.unwrap(),
            )),
            Self::Postgres(schema) => Arc::new(postgres::PgReviewStore::new(schema.pool().await)),
        }
    }

    async fn cleanup(&self) {
        AuditBackend::cleanup(self).await;
    }
}
