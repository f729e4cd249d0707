//! `SessionStore` on SQL, written once and expanded per database by [`sql_session_store!`].
//! Rotation takes the database's write transaction (`begin_write`), so of concurrent rotations
//! of one token exactly one finds the old row to delete.

/// Defines `$store`, the `SessionStore` for one database.
macro_rules! sql_session_store {
    ($(#[$doc:meta])* $store:ident, $db:ty, $pool:ty) => {
        mod session_store {
        use async_trait::async_trait;
        use soc2_core::{StoreError, UserId, unix_micros};
        use soc2_session::jwt::TokenDenyList;
        use soc2_session::{SessionRecord, SessionStore, TokenDigest};
        use sqlx::QueryBuilder;
        use time::OffsetDateTime;

        use super::begin_write;
        use $crate::error::store_error;
        use $crate::rows::convert;
        use $crate::session_rows::{SessionRow, SessionValues, session_columns};

        pool_store!($(#[$doc])* $store, $pool);

        async fn insert_into<'c, E>(executor: E, session: &SessionRecord) -> Result<(), StoreError>
        where
            E: sqlx::Executor<'c, Database = $db>,
        {
            let values = SessionValues::from(session);
            let mut insert = QueryBuilder::<$db>::new(concat!("INSERT INTO soc2_sessions (", session_columns!(), ") "));
            insert.push_values([values], |mut row, v| {
                row.push_bind(v.token_digest)
                    .push_bind(v.session_id)
                    .push_bind(v.user_id)
                    .push_bind(v.created_at_us)
                    .push_bind(v.last_seen_at_us)
                    .push_bind(v.idle_expires_at_us)
                    .push_bind(v.absolute_expires_at_us)
                    .push_bind(v.authenticated_at_us)
                    .push_bind(v.factors)
                    .push_bind(v.mfa_verified_at_us)
                    .push_bind(v.client_ip)
                    .push_bind(v.user_agent);
            });
            insert.build().execute(executor).await.map_err(store_error)?;
            Ok(())
        }

        #[async_trait]
        impl SessionStore for $store {
            async fn insert(&self, session: &SessionRecord) -> Result<(), StoreError> {
                insert_into(&self.pool, session).await
            }

            async fn get(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError> {
                let row: Option<SessionRow> = sqlx::query_as(concat!(
                    "SELECT ", session_columns!(), " FROM soc2_sessions WHERE token_digest = $1"
                ))
                .bind(digest.as_bytes().to_vec())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                row.map(SessionRecord::try_from).transpose()
            }

            async fn touch(
                &self,
                digest: &TokenDigest,
                seen_at: OffsetDateTime,
                idle_expires_at: OffsetDateTime,
            ) -> Result<bool, StoreError> {
                let touched = sqlx::query(concat!(
                    "UPDATE soc2_sessions SET",
                    " last_seen_at_us = CASE WHEN last_seen_at_us < $2 THEN $2 ELSE last_seen_at_us END,",
                    " idle_expires_at_us = CASE WHEN idle_expires_at_us < $3 THEN $3 ELSE idle_expires_at_us END",
                    " WHERE token_digest = $1"
                ))
                .bind(digest.as_bytes().to_vec())
                .bind(unix_micros(seen_at))
                .bind(unix_micros(idle_expires_at))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(touched.rows_affected() == 1)
            }

            async fn rotate(&self, old: &TokenDigest, new: &SessionRecord) -> Result<bool, StoreError> {
                let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                let deleted = sqlx::query("DELETE FROM soc2_sessions WHERE token_digest = $1")
                    .bind(old.as_bytes().to_vec())
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                if deleted.rows_affected() == 0 {
                    return Ok(false);
                }
                insert_into(&mut *tx, new).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(true)
            }

            async fn remove(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError> {
                let row: Option<SessionRow> = sqlx::query_as(concat!(
                    "DELETE FROM soc2_sessions WHERE token_digest = $1 RETURNING ", session_columns!()
                ))
                .bind(digest.as_bytes().to_vec())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                row.map(SessionRecord::try_from).transpose()
            }

            async fn list_user(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError> {
                let rows: Vec<SessionRow> = sqlx::query_as(concat!(
                    "SELECT ", session_columns!(),
                    " FROM soc2_sessions WHERE user_id = $1 ORDER BY created_at_us, session_id"
                ))
                .bind(user.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                convert(rows)
            }

            async fn remove_user(
                &self,
                user: UserId,
                keep: Option<&TokenDigest>,
            ) -> Result<Vec<SessionRecord>, StoreError> {
                let rows: Vec<SessionRow> = sqlx::query_as(concat!(
                    "DELETE FROM soc2_sessions WHERE user_id = $1",
                    " AND ($2 IS NULL OR token_digest <> $2) RETURNING ", session_columns!()
                ))
                .bind(user.to_string())
                .bind(keep.map(|digest| digest.as_bytes().to_vec()))
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                convert(rows)
            }

            async fn remove_expired(
                &self,
                now: OffsetDateTime,
                limit: u32,
            ) -> Result<Vec<SessionRecord>, StoreError> {
                let rows: Vec<SessionRow> = sqlx::query_as(concat!(
                    "DELETE FROM soc2_sessions WHERE token_digest IN (SELECT token_digest FROM soc2_sessions",
                    " WHERE idle_expires_at_us <= $1 OR absolute_expires_at_us <= $1 LIMIT $2)",
                    " RETURNING ", session_columns!()
                ))
                .bind(unix_micros(now))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                convert(rows)
            }
        }

        #[async_trait]
        impl TokenDenyList for $store {
            async fn deny(&self, jti: &str, until: OffsetDateTime) -> Result<(), StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO soc2_denied_tokens (jti, expires_at_us) VALUES ($1, $2)",
                    " ON CONFLICT (jti) DO UPDATE SET expires_at_us = CASE",
                    " WHEN excluded.expires_at_us > soc2_denied_tokens.expires_at_us",
                    " THEN excluded.expires_at_us ELSE soc2_denied_tokens.expires_at_us END"
                ))
                .bind(jti.to_owned())
                .bind(unix_micros(until))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(())
            }

            async fn is_denied(&self, jti: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
                let found: Option<i64> = sqlx::query_scalar(
                    "SELECT expires_at_us FROM soc2_denied_tokens WHERE jti = $1 AND expires_at_us > $2",
                )
                .bind(jti.to_owned())
                .bind(unix_micros(now))
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(found.is_some())
            }

            async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
                let purged = sqlx::query("DELETE FROM soc2_denied_tokens WHERE expires_at_us <= $1")
                    .bind(unix_micros(now))
                    .execute(&self.pool)
                    .await
                    .map_err(store_error)?;
                Ok(purged.rows_affected())
            }
        }
        }
        pub use session_store::$store;
    };
}

pub(crate) use sql_session_store;
