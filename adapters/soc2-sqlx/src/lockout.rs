//! `LockoutStore` on SQL, written once and expanded per database by [`sql_lockout_store!`].
//!
//! Each `apply_*` is one read-modify-write in the database's write transaction
//! (`begin_write`): an upsert that creates the row with the fresh state (the column defaults)
//! or touches the existing one, returning the state; then the pure state machine; then an
//! `UPDATE` with the result. On SQLite the transaction holds the writer lock from its start
//! (`BEGIN IMMEDIATE`); on PostgreSQL the upsert's `ON CONFLICT DO UPDATE` locks the row
//! (waiting for, then returning, the latest committed state), so racing callers from any
//! number of pools or processes apply one after another.

/// Defines `$store`, the `LockoutStore` for one database.
macro_rules! sql_lockout_store {
    ($(#[$doc:meta])* $store:ident, $pool:ty) => {
        mod lockout_store {
        use std::net::IpAddr;

        use async_trait::async_trait;
        use soc2_auth::{
            AccountLockState, AccountOp, AccountOutcome, IpOp, IpOutcome, IpWindowState,
            LockoutKey, LockoutPolicy, LockoutStore,
        };
        use soc2_core::{StoreError, unix_micros};
        use time::OffsetDateTime;

        use super::begin_write;
        use $crate::error::store_error;
        use $crate::lockout_rows::{AccountRow, IpRow, account_columns, ip_columns};

        pool_store!($(#[$doc])* $store, $pool);

        #[async_trait]
        impl LockoutStore for $store {
            async fn apply_account(
                &self,
                key: &LockoutKey,
                op: AccountOp,
                now: OffsetDateTime,
                policy: &LockoutPolicy,
            ) -> Result<AccountOutcome, StoreError> {
                let key = key.storage_key();
                let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                let row: AccountRow = sqlx::query_as(concat!(
                    "INSERT INTO soc2_lockouts (lockout_key, updated_at_us) VALUES ($1, $2)",
                    " ON CONFLICT (lockout_key)",
                    " DO UPDATE SET updated_at_us = excluded.updated_at_us",
                    " RETURNING ", account_columns!()
                ))
                .bind(key.as_str())
                .bind(unix_micros(now))
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                let mut state = AccountLockState::try_from(row)?;
                let outcome = state.apply(op, now, policy);
                let row = AccountRow::from(&state);
                sqlx::query(concat!(
                    "UPDATE soc2_lockouts SET failures = $2, window_start_us = $3, pending = $4,",
                    " pending_since_us = $5, locked_until_us = $6, admin_lock = $7, lockouts = $8",
                    " WHERE lockout_key = $1"
                ))
                .bind(key.as_str())
                .bind(row.failures)
                .bind(row.window_start_us)
                .bind(row.pending)
                .bind(row.pending_since_us)
                .bind(row.locked_until_us)
                .bind(row.admin_lock)
                .bind(row.lockouts)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                Ok(outcome)
            }

            async fn apply_ip(
                &self,
                ip: IpAddr,
                op: IpOp,
                now: OffsetDateTime,
                policy: &LockoutPolicy,
            ) -> Result<IpOutcome, StoreError> {
                let ip = ip.to_string();
                let now_us = unix_micros(now);
                let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                let row: IpRow = sqlx::query_as(concat!(
                    "INSERT INTO soc2_ip_throttle (ip, bucket_start_us, updated_at_us)",
                    " VALUES ($1, $2, $2)",
                    " ON CONFLICT (ip) DO UPDATE SET updated_at_us = excluded.updated_at_us",
                    " RETURNING ", ip_columns!()
                ))
                .bind(ip.as_str())
                .bind(now_us)
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                let mut state = IpWindowState::try_from(row)?;
                let outcome = state.apply(op, now, policy);
                let row = IpRow::from(&state);
                sqlx::query(concat!(
                    "UPDATE soc2_ip_throttle SET bucket_start_us = $2, current_failures = $3,",
                    " previous_failures = $4 WHERE ip = $1"
                ))
                .bind(ip.as_str())
                .bind(row.bucket_start_us)
                .bind(row.current_failures)
                .bind(row.previous_failures)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                Ok(outcome)
            }

            async fn account_state(
                &self,
                key: &LockoutKey,
            ) -> Result<Option<AccountLockState>, StoreError> {
                let row: Option<AccountRow> = sqlx::query_as(concat!(
                    "SELECT ", account_columns!(), " FROM soc2_lockouts WHERE lockout_key = $1"
                ))
                .bind(key.storage_key())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                row.map(AccountLockState::try_from).transpose()
            }

            async fn remove_idle(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
                let before = unix_micros(before);
                let accounts = sqlx::query(concat!(
                    "DELETE FROM soc2_lockouts WHERE updated_at_us < $1 AND NOT admin_lock",
                    " AND (locked_until_us IS NULL OR locked_until_us <= $1)"
                ))
                .bind(before)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                let ips = sqlx::query("DELETE FROM soc2_ip_throttle WHERE updated_at_us < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await
                    .map_err(store_error)?;
                Ok(accounts.rows_affected() + ips.rows_affected())
            }
        }
        }
        pub use lockout_store::$store;
    };
}

pub(crate) use sql_lockout_store;
