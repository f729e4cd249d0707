//! The change feed: the follower of the database's change log (soc2-sqlx's PostgreSQL
//! listener or SQLite poller) whose [`ChangeFeed`] the in-process caches follow.

use std::time::Duration;

use soc2_core::StoreError;
use soc2_sqlx::{ChangeFollower, postgres, sqlite};

use crate::changes::ChangeStore;

/// Starts following the change log of the database `store` is on; SQLite's is read every
/// `poll_interval`.
pub(crate) async fn follow(
    store: &ChangeStore,
    poll_interval: Duration,
) -> Result<ChangeFollower, StoreError> {
    match store {
        ChangeStore::Sqlite(pool) => {
            let config = sqlite::PollConfig::default().with_poll_interval(poll_interval);
            sqlite::follow_changes(pool, config).await
        }
        ChangeStore::Postgres(pool) => postgres::follow_changes(pool).await,
    }
}
