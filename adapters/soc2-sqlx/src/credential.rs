//! `CredentialStore` on SQL, written once and expanded per database by
//! [`sql_credential_store!`].
//!
//! A record and its history are read by one statement, so a read never sees half a change.
//! Writes of more than one statement run in the database's write transaction (`begin_write`);
//! a password change starts with its compare-and-swap `UPDATE` of the credential row, which on
//! PostgreSQL also locks that row, so of concurrent changes from one expected hash exactly one
//! applies and history sequence numbers never collide.

/// Defines `$store`, the `CredentialStore` for one database.
macro_rules! sql_credential_store {
    ($(#[$doc:meta])* $store:ident, $db:ty, $pool:ty) => {
        mod credential_store {
        use async_trait::async_trait;
        use soc2_auth::{CredentialFlags, CredentialRecord, CredentialStore, StoredHash, Username};
        use soc2_core::{StoreError, UserId, unix_micros};
        use sqlx::QueryBuilder;
        use time::OffsetDateTime;

        use super::begin_write;
        use $crate::INSERT_CHUNK;
        use $crate::credential_rows::{
            CredentialRow, credential_columns, record_from_rows, select_credentials,
        };
        use $crate::error::store_error;

        pool_store!($(#[$doc])* $store, $pool);

        #[async_trait]
        impl CredentialStore for $store {
            async fn insert(&self, record: &CredentialRecord) -> Result<(), StoreError> {
                let user_id = record.user_id.to_string();
                let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                sqlx::query(concat!(
                    "INSERT INTO soc2_credentials (", credential_columns!(), ")",
                    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ))
                .bind(user_id.as_str())
                .bind(record.username.as_str())
                .bind(record.password.as_ref().map(StoredHash::as_str))
                .bind(record.password_changed_at.map(unix_micros))
                .bind(record.flags.must_change)
                .bind(record.flags.disabled)
                .bind(unix_micros(record.created_at))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                // Oldest first, from sequence number 1: the history is newest first.
                let numbered: Vec<(i64, &StoredHash)> =
                    (1..).zip(record.history.iter().rev()).collect();
                for chunk in numbered.chunks(INSERT_CHUNK) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO soc2_password_history (user_id, seq, previous_hash) ",
                    );
                    insert.push_values(chunk, |mut row, (seq, hash)| {
                        row.push_bind(user_id.clone())
                            .push_bind(*seq)
                            .push_bind(hash.as_str().to_owned());
                    });
                    insert.build().execute(&mut *tx).await.map_err(store_error)?;
                }
                tx.commit().await.map_err(store_error)
            }

            async fn get(&self, user: UserId) -> Result<Option<CredentialRecord>, StoreError> {
                let rows: Vec<CredentialRow> = sqlx::query_as(concat!(
                    select_credentials!(), " WHERE user_id = $1 ORDER BY seq DESC"
                ))
                .bind(user.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                record_from_rows(rows)
            }

            async fn find(
                &self,
                username: &Username,
            ) -> Result<Option<CredentialRecord>, StoreError> {
                let rows: Vec<CredentialRow> = sqlx::query_as(concat!(
                    select_credentials!(), " WHERE username = $1 ORDER BY seq DESC"
                ))
                .bind(username.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                record_from_rows(rows)
            }

            async fn replace_password(
                &self,
                user: UserId,
                expected: Option<&StoredHash>,
                new: &StoredHash,
                at: OffsetDateTime,
                keep_history: usize,
            ) -> Result<bool, StoreError> {
                let user_id = user.to_string();
                let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                let swapped = sqlx::query(concat!(
                    "UPDATE soc2_credentials",
                    " SET password_hash = $2, password_changed_at_us = $3, must_change = FALSE",
                    " WHERE user_id = $1 AND password_hash IS NOT DISTINCT FROM $4"
                ))
                .bind(user_id.as_str())
                .bind(new.as_str())
                .bind(unix_micros(at))
                .bind(expected.map(StoredHash::as_str))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                if swapped.rows_affected() == 0 {
                    return Ok(false);
                }
                if let Some(old) = expected {
                    sqlx::query(concat!(
                        "INSERT INTO soc2_password_history (user_id, seq, previous_hash)",
                        " SELECT $1, COALESCE(MAX(seq), 0) + 1, $2",
                        " FROM soc2_password_history WHERE user_id = $1"
                    ))
                    .bind(user_id.as_str())
                    .bind(old.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                }
                sqlx::query(concat!(
                    "DELETE FROM soc2_password_history WHERE user_id = $1 AND seq NOT IN",
                    " (SELECT seq FROM soc2_password_history WHERE user_id = $1",
                    " ORDER BY seq DESC LIMIT $2)"
                ))
                .bind(user_id.as_str())
                .bind(i64::try_from(keep_history).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                Ok(true)
            }

            async fn rehash(
                &self,
                user: UserId,
                old: &StoredHash,
                new: &StoredHash,
            ) -> Result<bool, StoreError> {
                let swapped = sqlx::query(
                    "UPDATE soc2_credentials SET password_hash = $3 \
                     WHERE user_id = $1 AND password_hash = $2",
                )
                .bind(user.to_string())
                .bind(old.as_str())
                .bind(new.as_str())
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(swapped.rows_affected() == 1)
            }

            async fn set_flags(
                &self,
                user: UserId,
                flags: CredentialFlags,
            ) -> Result<bool, StoreError> {
                let updated = sqlx::query(
                    "UPDATE soc2_credentials SET must_change = $2, disabled = $3 \
                     WHERE user_id = $1",
                )
                .bind(user.to_string())
                .bind(flags.must_change)
                .bind(flags.disabled)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(updated.rows_affected() == 1)
            }

            async fn remove(&self, user: UserId) -> Result<bool, StoreError> {
                // The history goes with it (`ON DELETE CASCADE`).
                let deleted = sqlx::query("DELETE FROM soc2_credentials WHERE user_id = $1")
                    .bind(user.to_string())
                    .execute(&self.pool)
                    .await
                    .map_err(store_error)?;
                Ok(deleted.rows_affected() == 1)
            }
        }
        }
        pub use credential_store::$store;
    };
}

pub(crate) use sql_credential_store;
