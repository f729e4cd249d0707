//! Opening a database by URL: `sqlite://…` or `postgres://…`.

use std::error::Error;
use std::sync::Arc;

use soc2_audit::AuditStore;
use soc2_auth::{CredentialStore, LockoutStore};
use soc2_core::{KeyRing, StoreError};
use soc2_rbac::RoleStore;
use soc2_rbac::review::ReviewStore;
use soc2_session::SessionStore;
use soc2_sqlx::{postgres, sqlite};

use crate::Failure;

/// Which backend a URL names.
enum Backend {
    Sqlite,
    Postgres,
}

fn backend(url: &str) -> Result<Backend, Failure> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(Failure::config(
            "unsupported database URL: use sqlite://path.db or postgres://user@host/db",
        ))
    }
}

/// The soc2-rs stores of one existing database, on one pool.
#[derive(Debug)]
pub(crate) struct Stores {
    pub(crate) audit: Arc<dyn AuditStore>,
    pub(crate) credentials: Arc<dyn CredentialStore>,
    pub(crate) lockouts: Arc<dyn LockoutStore>,
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) roles: Arc<dyn RoleStore>,
    pub(crate) reviews: Arc<dyn ReviewStore>,
}

/// Opens the stores of an existing database (a missing SQLite file is an error, never created
/// empty); audit appends are signed with `keys`.
pub(crate) async fn open(url: &str, keys: &KeyRing) -> Result<Stores, Failure> {
    Ok(match backend(url)? {
        Backend::Sqlite => {
            let pool = sqlite::connect_existing(url)
                .await
                .map_err(|e| store_failure(url, &e))?;
            Stores {
                audit: Arc::new(sqlite::SqliteAuditStore::new(pool.clone(), keys)),
                credentials: Arc::new(sqlite::SqliteCredentialStore::new(pool.clone())),
                lockouts: Arc::new(sqlite::SqliteLockoutStore::new(pool.clone())),
                sessions: Arc::new(sqlite::SqliteSessionStore::new(pool.clone())),
                roles: Arc::new(sqlite::SqliteRoleStore::new(pool.clone())),
                reviews: Arc::new(sqlite::SqliteReviewStore::new(pool)),
            }
        }
        Backend::Postgres => {
            let pool = postgres::connect(url)
                .await
                .map_err(|e| store_failure(url, &e))?;
            Stores {
                audit: Arc::new(postgres::PgAuditStore::new(pool.clone(), keys)),
                credentials: Arc::new(postgres::PgCredentialStore::new(pool.clone())),
                lockouts: Arc::new(postgres::PgLockoutStore::new(pool.clone())),
                sessions: Arc::new(postgres::PgSessionStore::new(pool.clone())),
                roles: Arc::new(postgres::PgRoleStore::new(pool.clone())),
                reviews: Arc::new(postgres::PgReviewStore::new(pool)),
            }
        }
    })
}

/// A throwaway key ring for commands that only read (export, head, review report): stores need a ring to
/// append, which these commands never do, and reading needs no key.
pub(crate) fn read_only_keys() -> Result<KeyRing, Failure> {
    let id = soc2_core::KeyId::new("read-only").map_err(|e| Failure::config(e.to_string()))?;
    Ok(KeyRing::single(id, [0; soc2_core::KEY_LEN]))
}

/// Applies the soc2-rs migrations.
pub(crate) async fn migrate(url: &str) -> Result<(), Failure> {
    let result = match backend(url)? {
        Backend::Sqlite => match sqlite::connect(url).await {
            Ok(pool) => sqlite::migrate(&pool).await,
            Err(error) => Err(error),
        },
        Backend::Postgres => match postgres::connect(url).await {
            Ok(pool) => postgres::migrate(&pool).await,
            Err(error) => Err(error),
        },
    };
    result.map_err(|e| store_failure(url, &e))?;
    println!("migrations applied");
    Ok(())
}

/// A store error as a message naming the database (without credentials) and the cause.
pub(crate) fn store_failure(url: &str, error: &StoreError) -> Failure {
    let mut message = format!("{} ({})", error, redact(url));
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message.push_str(&format!(": {cause_text}"));
        }
        source = cause.source();
    }
    if matches!(error, StoreError::Schema(_)) {
        message.push_str("\nhint: run `soc2ctl migrate --database-url URL` first");
    }
    Failure::config(message)
}

/// The URL without a password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..scheme_end + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://u:secret@db/x"), "postgres://u@db/x");
        assert_eq!(redact("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(redact("sqlite://a.db"), "sqlite://a.db");
    }
}
