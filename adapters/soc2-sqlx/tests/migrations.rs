//! Migrations apply once, also when several instances start at the same moment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::postgres::TestSchema;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrations_apply_once_under_concurrent_starts() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let (a, b) = (
        sqlite::connect(&url).await.unwrap(),
        sqlite::connect(&url).await.unwrap(),
    );
    let (first, second) = tokio::join!(sqlite::migrate(&a), sqlite::migrate(&b));
    first.unwrap();
    second.unwrap();
    sqlite::migrate(&a).await.unwrap();
    let versions: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, name FROM soc2_migrations ORDER BY version")
            .fetch_all(&a)
            .await
            .unwrap();
    assert_eq!(versions, [(1, "audit".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_apply_once_under_concurrent_starts() {
    let Some(schema) = TestSchema::create("migrations::postgres").await else {
        return;
    };
    let (a, b) = (schema.pool().await, schema.pool().await);
    let (first, second) = tokio::join!(postgres::migrate(&a), postgres::migrate(&b));
    first.unwrap();
    second.unwrap();
    postgres::migrate(&a).await.unwrap();
    let versions: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, name FROM soc2_migrations ORDER BY version")
            .fetch_all(&a)
            .await
            .unwrap();
    assert_eq!(versions, [(1, "audit".to_owned())]);
    schema.drop_schema().await;
}
