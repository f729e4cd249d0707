//! `MfaStore` on SQL, written once and expanded per database by [`sql_mfa_store!`].
//!
//! Every check-and-set is one conditional statement (`UPDATE … WHERE last_step < $2`,
//! `DELETE … WHERE digest = $2`), so of racing callers on any number of pools exactly one
//! sees its row change; replacing a set of recovery codes is one transaction. A store told it
//! shares its database with the lockout store (`sharing_lockouts`) folds the login's
//! second-factor counter check into the step's `UPDATE`.

/// Defines `$store`, the `MfaStore` for one database.
macro_rules! sql_mfa_store {
    ($(#[$doc:meta])* $store:ident, $pool:ty) => {
        mod mfa_store {
        use async_trait::async_trait;
        use soc2_auth::mfa::{
            Ceremony, MfaStore, PASSWORD_RESET, RecoveryDigest, TotpRecord, sealed_prefix,
        };
        use soc2_core::{KeyId, StoreError, UserId, unix_micros};
        use time::OffsetDateTime;

        use super::begin_write;
        use $crate::error::store_error;
        use $crate::mfa_rows::{CeremonyRow, TotpRow, db_step, totp_columns};

        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $store {
            pool: $pool,
            counters_here: bool,
        }

        impl $store {
            /// A store on `pool` (migrated with `migrate`).
            #[must_use]
            pub fn new(pool: $pool) -> Self {
                Self { pool, counters_here: false }
            }

            /// Declares that the lockout store the login counts second-factor failures on is
            /// the SQL lockout store on this same database, so accepting a TOTP code checks
            /// that counter in the same statement (a login saves a round trip). Only when
            /// true: beside any other lockout store, the check would read a table nothing
            /// writes and miss a lock.
            #[must_use]
            pub fn sharing_lockouts(mut self) -> Self {
                self.counters_here = true;
                self
            }
        }

        #[async_trait]
        impl MfaStore for $store {
            async fn put_pending_totp(&self, record: &TotpRecord) -> Result<(), StoreError> {
                let done = sqlx::query(concat!(
                    "INSERT INTO soc2_totp (", totp_columns!(), ")",
                    " VALUES ($1, $2, FALSE, NULL, $3)",
                    " ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret,",
                    " last_step = NULL, created_at_us = excluded.created_at_us",
                    " WHERE soc2_totp.confirmed = FALSE"
                ))
                .bind(record.user_id.to_string())
                .bind(record.sealed_secret.as_str())
                .bind(unix_micros(record.created_at))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict("a confirmed TOTP factor exists".into()));
                }
                Ok(())
            }

            async fn totp(&self, user: UserId) -> Result<Option<TotpRecord>, StoreError> {
                let row: Option<TotpRow> = sqlx::query_as(concat!(
                    "SELECT ", totp_columns!(), " FROM soc2_totp WHERE user_id = $1"
                ))
                .bind(user.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                row.map(TotpRecord::try_from).transpose()
            }

            async fn accept_totp_step(
                &self,
                user: UserId,
                sealed: &str,
                step: u64,
                confirm: bool,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(concat!(
                    "UPDATE soc2_totp SET last_step = $2, confirmed = TRUE",
                    " WHERE user_id = $1 AND confirmed = $3 AND sealed_secret = $4",
                    " AND (last_step IS NULL OR last_step < $2)"
                ))
                .bind(user.to_string())
                .bind(db_step(step)?)
                .bind(!confirm)
                .bind(sealed)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn accept_totp_step_if_clear(
                &self,
                user: UserId,
                sealed: &str,
                step: u64,
                counter: &str,
                now: OffsetDateTime,
            ) -> Result<Option<bool>, StoreError> {
                if !self.counters_here {
                    return Ok(None);
                }
                let done = sqlx::query(concat!(
                    "UPDATE soc2_totp SET last_step = $2",
                    " WHERE user_id = $1 AND confirmed = TRUE AND sealed_secret = $3",
                    " AND (last_step IS NULL OR last_step < $2)",
                    " AND NOT EXISTS (SELECT 1 FROM soc2_lockouts WHERE lockout_key = $4",
                    " AND (failures > 0 OR admin_lock OR locked_until_us > $5))"
                ))
                .bind(user.to_string())
                .bind(db_step(step)?)
                .bind(sealed)
                .bind(counter)
                .bind(unix_micros(now))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(Some(done.rows_affected() == 1))
            }

            async fn totp_sealed_with_other_keys(
                &self,
                active: &KeyId,
                limit: usize,
            ) -> Result<Vec<TotpRecord>, StoreError> {
                let rows: Vec<TotpRow> = sqlx::query_as(concat!(
                    "SELECT ", totp_columns!(), " FROM soc2_totp",
                    " WHERE substr(sealed_secret, 1, length($1)) <> $1",
                    " ORDER BY user_id LIMIT $2"
                ))
                .bind(sealed_prefix(active))
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                rows.into_iter().map(TotpRecord::try_from).collect()
            }

            async fn count_sealed_with(&self, key: &KeyId) -> Result<u64, StoreError> {
                let (count,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM soc2_totp WHERE substr(sealed_secret, 1, length($1)) = $1",
                )
                .bind(sealed_prefix(key))
                .fetch_one(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn reseal_totp(
                &self,
                user: UserId,
                old: &str,
                new: &str,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE soc2_totp SET sealed_secret = $3 WHERE user_id = $1 AND sealed_secret = $2",
                )
                .bind(user.to_string())
                .bind(old)
                .bind(new)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn remove_totp(&self, user: UserId) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM soc2_totp WHERE user_id = $1")
                    .bind(user.to_string())
                    .execute(&self.pool)
                    .await
                    .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn put_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO soc2_ceremonies (digest, kind, user_id, payload, expires_at_us)",
                    " VALUES ($1, $2, $3, $4, $5)"
                ))
                .bind(ceremony.digest.as_slice())
                .bind(ceremony.kind.as_str())
                .bind(ceremony.user_id.to_string())
                .bind(ceremony.payload.as_str())
                .bind(unix_micros(ceremony.expires_at))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(())
            }

            async fn put_password_reset(&self, ceremony: &Ceremony) -> Result<(), StoreError> {
                if ceremony.kind != PASSWORD_RESET {
                    return Err(StoreError::Conflict("not a password-reset ceremony".into()));
                }
                sqlx::query(concat!(
                    "INSERT INTO soc2_ceremonies (digest, kind, user_id, payload, expires_at_us)",
                    " VALUES ($1, $2, $3, $4, $5)",
                    " ON CONFLICT (user_id) WHERE kind = 'password_reset' DO UPDATE SET",
                    " digest = excluded.digest, payload = excluded.payload,",
                    " expires_at_us = excluded.expires_at_us"
                ))
                .bind(ceremony.digest.as_slice())
                .bind(ceremony.kind.as_str())
                .bind(ceremony.user_id.to_string())
                .bind(ceremony.payload.as_str())
                .bind(unix_micros(ceremony.expires_at))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(())
            }

            async fn take_ceremony(
                &self,
                digest: &[u8; 32],
                kind: &str,
                now: OffsetDateTime,
            ) -> Result<Option<Ceremony>, StoreError> {
                let row: Option<CeremonyRow> = sqlx::query_as(concat!(
                    "DELETE FROM soc2_ceremonies WHERE digest = $1 AND kind = $2",
                    " RETURNING kind, user_id, payload, expires_at_us"
                ))
                .bind(digest.as_slice())
                .bind(kind)
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                let ceremony = row.map(|row| row.into_ceremony(*digest)).transpose()?;
                Ok(ceremony.filter(|ceremony| ceremony.expires_at > now))
            }

            async fn purge_ceremonies(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM soc2_ceremonies WHERE expires_at_us <= $1")
                    .bind(unix_micros(now))
                    .execute(&self.pool)
                    .await
                    .map_err(store_error)?;
                Ok(done.rows_affected())
            }

            async fn replace_recovery_codes(
                &self,
                user: UserId,
                digests: &[RecoveryDigest],
                at: OffsetDateTime,
            ) -> Result<(), StoreError> {
                let user = user.to_string();
                let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                sqlx::query("DELETE FROM soc2_recovery_codes WHERE user_id = $1")
                    .bind(user.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                for digest in digests {
                    sqlx::query(
                        "INSERT INTO soc2_recovery_codes (user_id, digest, created_at_us) VALUES ($1, $2, $3)",
                    )
                    .bind(user.as_str())
                    .bind(digest.as_slice())
                    .bind(unix_micros(at))
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                }
                tx.commit().await.map_err(store_error)
            }

            async fn consume_recovery_code(
                &self,
                user: UserId,
                digest: &RecoveryDigest,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "DELETE FROM soc2_recovery_codes WHERE user_id = $1 AND digest = $2",
                )
                .bind(user.to_string())
                .bind(digest.as_slice())
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn recovery_codes_left(&self, user: UserId) -> Result<usize, StoreError> {
                let (count,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM soc2_recovery_codes WHERE user_id = $1")
                        .bind(user.to_string())
                        .fetch_one(&self.pool)
                        .await
                        .map_err(store_error)?;
                Ok(usize::try_from(count).unwrap_or(0))
            }
        }
        }
        pub use mfa_store::$store;
    };
}

pub(crate) use sql_mfa_store;
