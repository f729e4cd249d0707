//! Migrations apply once, also when several instances start at the same moment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::postgres::TestSchema;

/// Starts two migrations at once on `a` and `b`, then a third on `a`, and checks that
/// `soc2_migrations` lists each migration once.
macro_rules! migrates_once {
    ($backend:ident, $a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        let (first, second) = tokio::join!($backend::migrate(&a), $backend::migrate(&b));
        first.unwrap();
        second.unwrap();
        $backend::migrate(&a).await.unwrap();
        let versions: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, name FROM soc2_migrations ORDER BY version")
                .fetch_all(&a)
                .await
                .unwrap();
        assert_eq!(
            versions,
            [
                (1, "audit".to_owned()),
                (2, "sessions".to_owned()),
                (3, "denied_tokens".to_owned()),
                (4, "credentials".to_owned()),
                (5, "lockout".to_owned()),
                (6, "mfa".to_owned()),
                (7, "ceremonies".to_owned()),
                (8, "passkeys".to_owned()),
                (9, "roles".to_owned()),
                (10, "reviews".to_owned()),
                (11, "password_resets".to_owned()),
                (12, "changes".to_owned())
            ]
        );
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrations_apply_once_under_concurrent_starts() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    migrates_once!(
        sqlite,
        sqlite::connect(&url).await.unwrap(),
        sqlite::connect(&url).await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_apply_once_under_concurrent_starts() {
    let Some(schema) = TestSchema::create("migrations::postgres").await else {
        return;
    };
    migrates_once!(postgres, schema.pool().await, schema.pool().await);
    schema.drop_schema().await;
}
