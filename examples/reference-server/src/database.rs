//! Opening the database named by the configuration, with every store the server uses.

use std::path::PathBuf;
use std::sync::Arc;

use soc2_audit::AuditStore;
use soc2_auth::mfa::MfaStore;
use soc2_auth::passkey::PasskeyStore;
use soc2_auth::{CredentialStore, LockoutStore};
use soc2_core::KeyRing;
use soc2_rbac::RoleStore;
use soc2_session::SessionStore;
use soc2_sqlx::{postgres, sqlite};

use crate::StartError;
use crate::changes::ChangeStore;

/// Which backend a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Backend {
    /// SQLite, with the database file when it is one (not `:memory:`).
    Sqlite(Option<PathBuf>),
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    pub(crate) fn of(url: &str) -> Result<Self, StartError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or_default();
            let file = (!path.is_empty() && !path.starts_with(":memory:")).then(|| path.into());
            Ok(Self::Sqlite(file))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StartError::DatabaseUrl)
        }
    }
}

/// The stores of one database.
#[derive(Debug, Clone)]
pub(crate) struct Stores {
    pub(crate) audit: Arc<dyn AuditStore>,
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) credentials: Arc<dyn CredentialStore>,
    pub(crate) lockouts: Arc<dyn LockoutStore>,
    /// Second factors and the login challenges.
    pub(crate) mfa: Arc<dyn MfaStore>,
    /// Registered passkeys (their ceremonies live in `mfa`).
    pub(crate) passkeys: Arc<dyn PasskeyStore>,
    /// Role assignments, the role hierarchy and elevations.
    pub(crate) roles: Arc<dyn RoleStore>,
    /// The server's own change requests.
    pub(crate) changes: ChangeStore,
}

/// Connects (creating a SQLite file if missing) and applies the migrations. With
/// `lockouts_on_sql` false (lockouts on Redis) the MFA store does not read the SQL lockout
/// table (`sharing_lockouts`), which nothing would write.
pub(crate) async fn open(
    url: &str,
    keys: &KeyRing,
    lockouts_on_sql: bool,
) -> Result<Stores, StartError> {
    let stores = match Backend::of(url)? {
        Backend::Sqlite(_) => {
            let pool = sqlite::connect(url).await?;
            sqlite::migrate(&pool).await?;
            Stores {
                audit: Arc::new(sqlite::SqliteAuditStore::new(pool.clone(), keys)),
                sessions: Arc::new(sqlite::SqliteSessionStore::new(pool.clone())),
                credentials: Arc::new(sqlite::SqliteCredentialStore::new(pool.clone())),
                lockouts: Arc::new(sqlite::SqliteLockoutStore::new(pool.clone())),
                mfa: if lockouts_on_sql {
                    Arc::new(sqlite::SqliteMfaStore::new(pool.clone()).sharing_lockouts())
                } else {
                    Arc::new(sqlite::SqliteMfaStore::new(pool.clone()))
                },
                passkeys: Arc::new(sqlite::SqlitePasskeyStore::new(pool.clone())),
                roles: Arc::new(sqlite::SqliteRoleStore::new(pool.clone())),
                changes: ChangeStore::Sqlite(pool),
            }
        }
        Backend::Postgres => {
            let pool = postgres::connect(url).await?;
            postgres::migrate(&pool).await?;
            Stores {
                audit: Arc::new(postgres::PgAuditStore::new(pool.clone(), keys)),
                sessions: Arc::new(postgres::PgSessionStore::new(pool.clone())),
                credentials: Arc::new(postgres::PgCredentialStore::new(pool.clone())),
                lockouts: Arc::new(postgres::PgLockoutStore::new(pool.clone())),
                mfa: if lockouts_on_sql {
                    Arc::new(postgres::PgMfaStore::new(pool.clone()).sharing_lockouts())
                } else {
                    Arc::new(postgres::PgMfaStore::new(pool.clone()))
                },
                passkeys: Arc::new(postgres::PgPasskeyStore::new(pool.clone())),
                roles: Arc::new(postgres::PgRoleStore::new(pool.clone())),
                changes: ChangeStore::Postgres(pool),
            }
        }
    };
    stores.changes.migrate().await?;
    Ok(stores)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn urls_name_their_backend_and_file() {
        assert_eq!(
            Backend::of("sqlite://soc2.db").unwrap(),
            Backend::Sqlite(Some("soc2.db".into()))
        );
        assert_eq!(
            Backend::of("sqlite:///tmp/x.db?mode=rwc").unwrap(),
            Backend::Sqlite(Some("/tmp/x.db".into()))
        );
        assert_eq!(
            Backend::of("sqlite::memory:").unwrap(),
            Backend::Sqlite(None)
        );
        assert_eq!(Backend::of("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert!(matches!(
            Backend::of("mysql://x"),
            Err(StartError::DatabaseUrl)
        ));
    }
}
