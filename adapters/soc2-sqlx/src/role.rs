//! `RoleStore` on SQL, written once and expanded per database by [`sql_role_store!`].
//!
//! What a user holds at an instant (assignments, active elevations, the closure over the
//! hierarchy) is read by one recursive statement, so a decision never sees half a change.
//! Every grant (an assignment, a new elevation, an approval) runs in the database's write
//! transaction (`begin_write`) after `lock_key` on the user: it reads what the user holds,
//! checks the segregation-of-duties rules and writes, so concurrent grants for one user from
//! any number of pools apply one after another and never complete a conflict together. On
//! SQLite the transaction already holds the single writer lock (`BEGIN IMMEDIATE`); on
//! PostgreSQL `lock_key` takes a transaction-scoped advisory lock. Hierarchy changes lock the
//! whole hierarchy the same way, so two racing changes cannot close a cycle together. Elevation
//! decisions are also guarded `UPDATE`s on the expected status: exactly one decision applies.

/// Defines `$store`, the `RoleStore` for one database.
macro_rules! sql_role_store {
    ($(#[$doc:meta])* $store:ident, $db:ty, $pool:ty) => {
        mod role_store {
        use async_trait::async_trait;
        use soc2_core::{ElevationId, StoreError, UserId, truncate_to_micros, unix_micros};
        use soc2_rbac::{
            Assignment, Elevation, ElevationChange, ElevationUpdate, RoleName, RoleNode,
            RoleStore, SodRules, UserRoles,
        };
        use time::OffsetDateTime;

        use super::{begin_write, lock_key};
        use $crate::error::store_error;
        use $crate::role_rows::{
            ElevationRow, HeldRow, ancestor_count_query, elevation_columns, first_conflict,
            held_roles, held_roles_query, nodes, user_ids, users_roles,
        };

        pool_store!($(#[$doc])* $store, $pool);

        type Connection = <$db as sqlx::Database>::Connection;
        type Transaction = sqlx::Transaction<'static, $db>;

        /// The lock every grant to `user` takes.
        fn user_key(user: &str) -> String {
            format!("soc2_roles.user.{user}")
        }

        /// The lock every hierarchy change takes.
        const HIERARCHY_KEY: &str = "soc2_roles.hierarchy";

        /// What `user` holds at `at`, with `candidate` (and its ancestors) in the closure.
        async fn held(
            conn: &mut Connection,
            user: &str,
            at: i64,
            candidate: Option<&str>,
        ) -> Result<UserRoles, StoreError> {
            let rows: Vec<HeldRow> = sqlx::query_as(held_roles_query!())
                .bind(user)
                .bind(at)
                .bind(candidate)
                .fetch_all(conn)
                .await
                .map_err(store_error)?;
            held_roles(rows)
        }

        /// A write transaction holding `user`'s grant lock, and what `user` would hold at `at`
        /// with `role` too.
        async fn begin_grant(
            pool: &$pool,
            user: &str,
            role: &RoleName,
            at: i64,
        ) -> Result<(Transaction, UserRoles), StoreError> {
            let mut tx = begin_write(pool).await.map_err(store_error)?;
            lock_key(&mut tx, &user_key(user)).await.map_err(store_error)?;
            let held = held(&mut tx, user, at, Some(role.as_str())).await?;
            Ok((tx, held))
        }

        /// The elevation `id`, read on `conn` (inside a transaction: the latest committed).
        async fn elevation_in(
            conn: &mut Connection,
            id: &str,
        ) -> Result<Option<Elevation>, StoreError> {
            let row: Option<ElevationRow> = sqlx::query_as(concat!(
                "SELECT ", elevation_columns!(), " FROM soc2_elevations WHERE elevation_id = $1"
            ))
            .bind(id)
            .fetch_optional(conn)
            .await
            .map_err(store_error)?;
            row.map(Elevation::try_from).transpose()
        }

        #[async_trait]
        impl RoleStore for $store {
            async fn user_roles(
                &self,
                user: UserId,
                at: OffsetDateTime,
            ) -> Result<UserRoles, StoreError> {
                let mut conn = self.pool.acquire().await.map_err(store_error)?;
                held(&mut conn, &user.to_string(), unix_micros(at), None).await
            }

            async fn assign(
                &self,
                user: UserId,
                role: &RoleName,
                rules: &SodRules,
                at: OffsetDateTime,
            ) -> Result<Assignment, StoreError> {
                let user = user.to_string();
                let (mut tx, held) = begin_grant(&self.pool, &user, role, unix_micros(at)).await?;
                if held.assigned.contains(role) {
                    return Ok(Assignment::AlreadyHeld);
                }
                if let Some(conflict) = first_conflict(rules, &held) {
                    return Ok(Assignment::Refused(conflict));
                }
                sqlx::query("INSERT INTO soc2_role_assignments (user_id, role) VALUES ($1, $2)")
                    .bind(user.as_str())
                    .bind(role.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                Ok(Assignment::Granted)
            }

            async fn revoke(&self, user: UserId, role: &RoleName) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "DELETE FROM soc2_role_assignments WHERE user_id = $1 AND role = $2",
                )
                .bind(user.to_string())
                .bind(role.as_str())
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn holders(&self, role: &RoleName) -> Result<Vec<UserId>, StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT user_id FROM soc2_role_assignments WHERE role = $1 ORDER BY user_id",
                )
                .bind(role.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                user_ids(rows)
            }

            async fn set_parents(
                &self,
                role: &RoleName,
                parents: &[RoleName],
            ) -> Result<(), StoreError> {
                let mut parents = parents.to_vec();
                parents.sort_unstable();
                parents.dedup();
                let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                lock_key(&mut tx, HIERARCHY_KEY).await.map_err(store_error)?;
                for parent in &parents {
                    let (found,): (i64,) = sqlx::query_as(ancestor_count_query!())
                        .bind(parent.as_str())
                        .bind(role.as_str())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(store_error)?;
                    if parent == role || found > 0 {
                        return Err(StoreError::Conflict(format!(
                            "role `{role}` would become its own ancestor"
                        )));
                    }
                }
                sqlx::query("DELETE FROM soc2_role_parents WHERE role = $1")
                    .bind(role.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                for parent in &parents {
                    sqlx::query("INSERT INTO soc2_role_parents (role, parent) VALUES ($1, $2)")
                        .bind(role.as_str())
                        .bind(parent.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(store_error)?;
                }
                tx.commit().await.map_err(store_error)
            }

            async fn hierarchy(&self) -> Result<Vec<RoleNode>, StoreError> {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT role, parent FROM soc2_role_parents ORDER BY role, parent",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                nodes(rows)
            }

            async fn assignments(
                &self,
                after: Option<UserId>,
                limit: usize,
            ) -> Result<Vec<(UserId, Vec<RoleName>)>, StoreError> {
                let rows: Vec<(String, String)> = sqlx::query_as(concat!(
                    "SELECT user_id, role FROM soc2_role_assignments WHERE user_id IN",
                    " (SELECT DISTINCT user_id FROM soc2_role_assignments WHERE user_id > $1",
                    " ORDER BY user_id LIMIT $2)",
                    " ORDER BY user_id, role"
                ))
                .bind(after.map(|user| user.to_string()).unwrap_or_default())
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                users_roles(rows)
            }

            async fn add_elevation(
                &self,
                elevation: &Elevation,
                rules: &SodRules,
            ) -> Result<Assignment, StoreError> {
                let row = ElevationRow::from(elevation);
                let (mut tx, held) =
                    begin_grant(&self.pool, &row.user_id, &elevation.role, row.requested_at_us)
                        .await?;
                if held.assigned.contains(&elevation.role) {
                    return Ok(Assignment::AlreadyHeld);
                }
                if let Some(conflict) = first_conflict(rules, &held) {
                    return Ok(Assignment::Refused(conflict));
                }
                sqlx::query(concat!(
                    "INSERT INTO soc2_elevations (", elevation_columns!(), ")",
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                ))
                .bind(row.elevation_id)
                .bind(row.user_id)
                .bind(row.role)
                .bind(row.reason)
                .bind(row.requested_by)
                .bind(row.requested_at_us)
                .bind(row.expires_at_us)
                .bind(row.break_glass)
                .bind(row.status)
                .bind(row.decided_by)
                .bind(row.decided_at_us)
                .bind(row.revoked_at_us)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                Ok(Assignment::Granted)
            }

            async fn elevation(&self, id: ElevationId) -> Result<Option<Elevation>, StoreError> {
                let mut conn = self.pool.acquire().await.map_err(store_error)?;
                elevation_in(&mut conn, &id.to_string()).await
            }

            async fn change_elevation(
                &self,
                id: ElevationId,
                change: ElevationChange<'_>,
                at: OffsetDateTime,
            ) -> Result<ElevationUpdate, StoreError> {
                let (id, at) = (id.to_string(), truncate_to_micros(at));
                let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                let Some(current) = elevation_in(&mut tx, &id).await? else {
                    return Ok(ElevationUpdate::NotFound);
                };
                if current.status_at(at) != change.requires() {
                    return Ok(ElevationUpdate::Stale(current));
                }
                let user = current.user.to_string();
                lock_key(&mut tx, &user_key(&user)).await.map_err(store_error)?;
                if let ElevationChange::Approve { rules, .. } = change {
                    let role = Some(current.role.as_str());
                    let held = held(&mut tx, &user, unix_micros(at), role).await?;
                    if let Some(conflict) = first_conflict(rules, &held) {
                        return Ok(ElevationUpdate::Refused {
                            elevation: current,
                            conflict,
                        });
                    }
                }
                let changed = change.apply(&current, at);
                let row = ElevationRow::from(&changed);
                let done = sqlx::query(concat!(
                    "UPDATE soc2_elevations SET status = $2, decided_by = $3, decided_at_us = $4,",
                    " revoked_at_us = $5",
                    " WHERE elevation_id = $1 AND status = $6 AND expires_at_us > $7"
                ))
                .bind(id.as_str())
                .bind(row.status)
                .bind(row.decided_by)
                .bind(row.decided_at_us)
                .bind(row.revoked_at_us)
                .bind(change.requires().as_str())
                .bind(unix_micros(at))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                if done.rows_affected() == 1 {
                    tx.commit().await.map_err(store_error)?;
                    return Ok(ElevationUpdate::Applied(changed));
                }
                // Decided by another instance between the read and the lock.
                let latest = elevation_in(&mut tx, &id).await?;
                Ok(latest.map_or(ElevationUpdate::NotFound, ElevationUpdate::Stale))
            }

            async fn open_elevations(
                &self,
                user: UserId,
                at: OffsetDateTime,
            ) -> Result<Vec<Elevation>, StoreError> {
                let rows: Vec<ElevationRow> = sqlx::query_as(concat!(
                    "SELECT ", elevation_columns!(), " FROM soc2_elevations",
                    " WHERE user_id = $1 AND status IN ('pending', 'approved')",
                    " AND expires_at_us > $2 ORDER BY requested_at_us, elevation_id"
                ))
                .bind(user.to_string())
                .bind(unix_micros(at))
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                rows.into_iter().map(Elevation::try_from).collect()
            }
        }
        }
        pub use role_store::$store;
    };
}

pub(crate) use sql_role_store;
