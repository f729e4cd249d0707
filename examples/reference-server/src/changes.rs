//! The reference server's own resources: change requests (SOC 2 CC8.1), stored beside the
//! SDK's tables, the audit log and the policy set, and the `EntityProvider` that hands them to
//! Cedar. A change's requester and status come from its row, never from the request.

use async_trait::async_trait;
use soc2_core::{BoxError, StoreError, UserId};
use soc2_rbac::{EntityProvider, ResourceEntity, ResourceRef};
use sqlx::{PgPool, SqlitePool};

/// The Cedar entity type of a change (see the example policy directory's schema).
pub(crate) const CHANGE_TYPE: &str = "Change";
/// The Cedar entity type of the audit log (one entity, id `log`).
pub(crate) const AUDIT_LOG_TYPE: &str = "AuditLog";
/// The Cedar entity type of the policy set in force (one entity, id `current`).
pub(crate) const POLICY_SET_TYPE: &str = "PolicySet";

const CREATE: &str = "CREATE TABLE IF NOT EXISTS ref_changes (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    requester TEXT NOT NULL,
    status TEXT NOT NULL,
    approved_by TEXT
)";
const INSERT: &str =
    "INSERT INTO ref_changes (id, title, requester, status) VALUES ($1, $2, $3, 'pending')";
const DELETE: &str = "DELETE FROM ref_changes WHERE id = $1";
const SELECT: &str = "SELECT requester, status FROM ref_changes WHERE id = $1";
const APPROVE: &str = "UPDATE ref_changes SET status = 'approved', approved_by = $2 \
    WHERE id = $1 AND status = 'pending'";

/// Change requests on the server's database.
#[derive(Debug, Clone)]
pub(crate) enum ChangeStore {
    /// On SQLite.
    Sqlite(SqlitePool),
    /// On PostgreSQL.
    Postgres(PgPool),
}

/// Runs one query on whichever pool the store holds.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            ChangeStore::Sqlite($pool) => $body,
            ChangeStore::Postgres($pool) => $body,
        }
    };
}

/// Creates the table in a transaction that first takes the schema's lock for it.
async fn create_locked(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.ref_changes'))")
        .execute(&mut *tx)
        .await?;
    sqlx::query(CREATE).execute(&mut *tx).await?;
    tx.commit().await
}

fn store_error(error: sqlx::Error) -> StoreError {
    StoreError::Backend(Box::new(error))
}

impl ChangeStore {
    /// Creates the table if missing.
    /// On PostgreSQL under a transaction-scoped advisory lock: concurrent `CREATE TABLE IF NOT
    /// EXISTS` statements can otherwise both try to create the table's type, and one fails.
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(pool) => sqlx::query(CREATE).execute(pool).await.map(|_| ()),
            Self::Postgres(pool) => create_locked(pool).await,
        }
        .map_err(store_error)
    }

    /// Records a pending change requested by `requester`.
    pub(crate) async fn create(
        &self,
        id: &str,
        title: &str,
        requester: UserId,
    ) -> Result<(), StoreError> {
        let requester = requester.to_string();
        on_pool!(self, |pool| sqlx::query(INSERT)
            .bind(id)
            .bind(title)
            .bind(&requester)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(store_error)
    }

    /// Deletes a change (one whose request was refused).
    pub(crate) async fn delete(&self, id: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query(DELETE)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(store_error)
    }

    /// Marks a pending change approved by `approver`; false when it was not pending.
    pub(crate) async fn approve(&self, id: &str, approver: UserId) -> Result<bool, StoreError> {
        let approver = approver.to_string();
        on_pool!(self, |pool| sqlx::query(APPROVE)
            .bind(id)
            .bind(&approver)
            .execute(pool)
            .await
            .map(|done| done.rows_affected() == 1))
        .map_err(store_error)
    }

    /// The requester and status of a change.
    async fn find(&self, id: &str) -> Result<Option<(String, String)>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(SELECT)
            .bind(id)
            .fetch_optional(pool)
            .await)
        .map_err(store_error)
    }
}

/// The host resources Cedar sees: changes from their table, the audit log and the policy set.
#[derive(Debug, Clone)]
pub(crate) struct Resources {
    pub(crate) changes: ChangeStore,
}

#[async_trait]
impl EntityProvider for Resources {
    async fn resource(&self, resource: &ResourceRef) -> Result<Option<ResourceEntity>, BoxError> {
        match resource.kind() {
            CHANGE_TYPE => {
                let Some((requester, status)) = self.changes.find(resource.id()).await? else {
                    return Ok(None);
                };
                let requester: UserId = requester
                    .parse()
                    .map_err(|_| StoreError::Corrupt("change requester is not a user id".into()))?;
                Ok(Some(
                    ResourceEntity::new()
                        .with_attribute("requester", requester)
                        .with_attribute("status", status),
                ))
            }
            AUDIT_LOG_TYPE | POLICY_SET_TYPE => Ok(Some(ResourceEntity::new())),
            _ => Ok(None),
        }
    }
}
