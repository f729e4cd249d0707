//! `PasskeyStore` on SQL, written once and expanded per database by [`sql_passkey_store!`].
//!
//! Registering is one insert under the credential id's primary key (a second registration of
//! an id, by anyone, is a unique violation); recording a use is one conditional update on the
//! stored JSON, so of racing uses from one stored state on any number of pools exactly one
//! applies.

/// Defines `$store`, the `PasskeyStore` for one database.
macro_rules! sql_passkey_store {
    ($(#[$doc:meta])* $store:ident, $pool:ty) => {
        mod passkey_store {
        use async_trait::async_trait;
        use soc2_auth::passkey::{PasskeyRecord, PasskeyStore, StoredPasskey};
        use soc2_core::{StoreError, UserId, unix_micros};
        use time::OffsetDateTime;

        use $crate::error::store_error;
        use $crate::passkey_rows::{PasskeyRow, passkey_columns};
        use $crate::rows::convert;

        pool_store!($(#[$doc])* $store, $pool);

        #[async_trait]
        impl PasskeyStore for $store {
            async fn add_passkey(&self, record: &PasskeyRecord) -> Result<(), StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO soc2_passkeys (", passkey_columns!(), ")",
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                ))
                .bind(record.credential_id.as_str())
                .bind(record.user_id.to_string())
                .bind(record.name.as_str())
                .bind(record.passkey.json.as_str())
                .bind(i64::from(record.passkey.sign_count))
                .bind(record.passkey.backup_eligible)
                .bind(record.passkey.backed_up)
                .bind(unix_micros(record.created_at))
                .bind(record.last_used_at.map(unix_micros))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(())
            }

            async fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>, StoreError> {
                let rows: Vec<PasskeyRow> = sqlx::query_as(concat!(
                    "SELECT ", passkey_columns!(), " FROM soc2_passkeys WHERE user_id = $1",
                    " ORDER BY created_at_us, credential_id"
                ))
                .bind(user.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                convert(rows)
            }

            async fn passkey(
                &self,
                credential_id: &str,
            ) -> Result<Option<PasskeyRecord>, StoreError> {
                let row: Option<PasskeyRow> = sqlx::query_as(concat!(
                    "SELECT ", passkey_columns!(), " FROM soc2_passkeys WHERE credential_id = $1"
                ))
                .bind(credential_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                row.map(PasskeyRecord::try_from).transpose()
            }

            async fn record_passkey_use(
                &self,
                user: UserId,
                credential_id: &str,
                previous: &str,
                passkey: &StoredPasskey,
                at: OffsetDateTime,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(concat!(
                    "UPDATE soc2_passkeys SET passkey = $4, sign_count = $5,",
                    " backup_eligible = $6, backed_up = $7, last_used_at_us = $8",
                    " WHERE credential_id = $1 AND user_id = $2 AND passkey = $3"
                ))
                .bind(credential_id)
                .bind(user.to_string())
                .bind(previous)
                .bind(passkey.json.as_str())
                .bind(i64::from(passkey.sign_count))
                .bind(passkey.backup_eligible)
                .bind(passkey.backed_up)
                .bind(unix_micros(at))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn rename_passkey(
                &self,
                user: UserId,
                credential_id: &str,
                name: &str,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE soc2_passkeys SET name = $3 WHERE credential_id = $1 AND user_id = $2",
                )
                .bind(credential_id)
                .bind(user.to_string())
                .bind(name)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn remove_passkey(
                &self,
                user: UserId,
                credential_id: &str,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "DELETE FROM soc2_passkeys WHERE credential_id = $1 AND user_id = $2",
                )
                .bind(credential_id)
                .bind(user.to_string())
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn count_passkeys(&self, user: UserId) -> Result<u64, StoreError> {
                let (count,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM soc2_passkeys WHERE user_id = $1")
                        .bind(user.to_string())
                        .fetch_one(&self.pool)
                        .await
                        .map_err(store_error)?;
                Ok(u64::try_from(count).unwrap_or(0))
            }
        }
        }
        pub use passkey_store::$store;
    };
}

pub(crate) use sql_passkey_store;
