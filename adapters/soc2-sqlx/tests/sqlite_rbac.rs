//! The role store conformance suite on SQLite, and hand-edited rows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::SqlBackend;
use soc2_core::{ElevationId, StoreError, UserId};
use soc2_rbac::{RoleName, RoleStore};
use soc2_sqlx::sqlite;
use time::macros::datetime;

soc2_testkit::role_store_conformance!(SqlBackend::sqlite().await);

/// Rows edited by hand (a role name outside the alphabet, an id that is not a UUID) are
/// `StoreError::Corrupt`, never a panic or a silently dropped role.
#[tokio::test]
async fn hand_edited_rows_are_corrupt() {
    let backend = SqlBackend::sqlite().await.unwrap();
    let SqlBackend::Sqlite { url, .. } = &backend else {
        unreachable!("a SQLite backend")
    };
    let pool = sqlite::connect(url).await.unwrap();
    let store = sqlite::SqliteRoleStore::new(pool.clone());
    let (user, at) = (UserId::new_v7(), datetime!(2026-11-23 09:00 UTC));
    sqlx::query("INSERT INTO soc2_role_assignments (user_id, role) VALUES ($1, 'Admin; --')")
        .bind(user.to_string())
        .execute(&pool)
        .await
        .unwrap();
    let read = store.user_roles(user, at).await;
    assert!(matches!(read, Err(StoreError::Corrupt(_))), "{read:?}");

    sqlx::query("UPDATE soc2_role_assignments SET user_id = 'not-a-uuid', role = 'admin'")
        .execute(&pool)
        .await
        .unwrap();
    let holders = store.holders(&RoleName::new("admin").unwrap()).await;
    assert!(
        matches!(holders, Err(StoreError::Corrupt(_))),
        "{holders:?}"
    );

    let id = ElevationId::new_v7();
    sqlx::query(concat!(
        "INSERT INTO soc2_elevations (elevation_id, user_id, role, reason, requested_by,",
        " requested_at_us, expires_at_us, break_glass, status)",
        " VALUES ($1, $2, 'admin', 'x', $2, 0, 9223372036854775807, FALSE, 'pending')"
    ))
    .bind(id.to_string())
    .bind(user.to_string())
    .execute(&pool)
    .await
    .unwrap();
    let elevation = store.elevation(id).await;
    assert!(
        matches!(elevation, Err(StoreError::Corrupt(_))),
        "{elevation:?}"
    );
}
