//! `AuditStore` on SQL, written once and expanded per database by [`sql_audit_store!`].
//!
//! The SQL is common to SQLite and PostgreSQL (`$N` placeholders, `ON CONFLICT`); what differs is
//! how a write transaction starts, which each database module provides as `begin_write(pool)`.
//!
//! Appends are serialized by the head checkpoint row: each append chains its batch after the
//! head it expects, then, in one statement, moves the head with a guarded
//! `UPDATE ... WHERE seq = expected` (or `INSERT ... ON CONFLICT DO NOTHING` for the first) and
//! inserts the events only if the guard changed the row. If another instance moved the head
//! first, nothing is written, and the batch is re-chained after the new head. A store remembers
//! the head it wrote last, so a lone writer pays what a plain batched insert pays: begin, one
//! statement, commit.
//!
//! Each database module supplies the glue between guard and insert: `GUARD_OPEN`,
//! `GUARD_CLOSE`, `INSERT_IF_GUARDED` and `GUARD_ROWS_COUNTED` (whether the guard's row is
//! included in the statement's affected-row count).

use std::sync::{Mutex, PoisonError};

use soc2_audit::Checkpoint;

/// How often an append re-chains after losing the head to another writer before giving up.
pub(crate) const MAX_APPEND_ATTEMPTS: usize = 64;

/// The head this store instance wrote last (`Some(None)`: the empty chain), or unknown.
#[derive(Debug, Default)]
pub(crate) struct KnownHead(Mutex<Option<Option<Checkpoint>>>);

impl KnownHead {
    /// The remembered head, if any.
    pub(crate) fn get(&self) -> Option<Option<Checkpoint>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Remembers `head` as the current one.
    pub(crate) fn set(&self, head: Checkpoint) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(Some(head));
    }

    /// Forgets the head, so the next append reads it from the database.
    pub(crate) fn forget(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Defines `$store`, the hash-chained `AuditStore` for one database.
macro_rules! sql_audit_store {
    ($(#[$doc:meta])* $store:ident, $db:ty, $pool:ty, $conn:ty) => {
        mod audit_store {
        use async_trait::async_trait;
        use soc2_audit::{
            AuditSink, AuditStore, Chainer, Checkpoint, PreparedEvent, StoredEvent,
            TimeRange,
        };
        use soc2_core::{KeyRing, StoreError};
        use sqlx::QueryBuilder;
        use time::OffsetDateTime;

        use super::begin_write;
        use $crate::audit::{KnownHead, MAX_APPEND_ATTEMPTS};
        use $crate::INSERT_CHUNK;
        use $crate::error::store_error;
        use $crate::rows::{
            CheckpointRow, EventRow, checkpoint_columns, convert, db_seq, event_columns,
        };

        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $store {
            pool: $pool,
            chainer: std::sync::Arc<Chainer>,
            known_head: std::sync::Arc<KnownHead>,
        }

        impl $store {
            /// A store on `pool` (migrated with `migrate`) chaining with `keys`.
            #[must_use]
            pub fn new(pool: $pool, keys: &KeyRing) -> Self {
                Self {
                    pool,
                    chainer: std::sync::Arc::new(Chainer::new(keys)),
                    known_head: std::sync::Arc::default(),
                }
            }

            async fn append_chained(&self, batch: &[PreparedEvent]) -> Result<(), StoreError> {
                for _ in 0..MAX_APPEND_ATTEMPTS {
                    let expected = match self.known_head.get() {
                        Some(head) => head,
                        None => self.head().await?,
                    };
                    let mut cursor = self.chainer.resume(expected.as_ref())?;
                    let linked: Vec<StoredEvent> = batch.iter().map(|event| cursor.link(event)).collect();
                    let new_head = cursor.head();
                    let (guarded, rest) = linked.split_at(linked.len().min(INSERT_CHUNK));
                    let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                    // One statement moves the head from `expected` and inserts the first rows only
                    // if it did, so a lone writer pays no extra round-trip for the guard.
                    let mut statement = QueryBuilder::<$db>::new(super::GUARD_OPEN);
                    push_head_guard(&mut statement, expected.as_ref(), &new_head);
                    statement.push(super::GUARD_CLOSE);
                    statement.push(concat!("INSERT INTO soc2_audit_events (", event_columns!(), ") SELECT * FROM ("));
                    push_event_values(&mut statement, guarded);
                    statement.push(super::INSERT_IF_GUARDED);
                    let affected = statement.build().execute(&mut *tx).await.map_err(store_error)?.rows_affected();
                    if affected != guarded.len() as u64 + super::GUARD_ROWS_COUNTED {
                        // Another writer appended since `expected`: roll back, re-read, re-chain.
                        self.known_head.forget();
                        continue;
                    }
                    for chunk in rest.chunks(INSERT_CHUNK) {
                        let mut insert = QueryBuilder::<$db>::new(concat!(
                            "INSERT INTO soc2_audit_events (",
                            event_columns!(),
                            ") "
                        ));
                        push_event_values(&mut insert, chunk);
                        insert.build().execute(&mut *tx).await.map_err(store_error)?;
                    }
                    tx.commit().await.map_err(store_error)?;
                    self.known_head.set(new_head);
                    return Ok(());
                }
                Err(StoreError::Unavailable(
                    format!("audit append lost the race for the chain head {MAX_APPEND_ATTEMPTS} times").into(),
                ))
            }

            async fn already_stored(&self, event: &PreparedEvent) -> Result<bool, StoreError> {
                let found: Option<i64> = sqlx::query_scalar("SELECT seq FROM soc2_audit_events WHERE event_id = $1")
                    .bind(&event.index.event_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(store_error)?;
                Ok(found.is_some())
            }
        }

        #[async_trait]
        impl AuditSink for $store {
            async fn append(&self, batch: &[PreparedEvent]) -> Result<(), StoreError> {
                let Some(first) = batch.first() else {
                    return Ok(());
                };
                let result = self.append_chained(batch).await;
                if result.is_err() {
                    self.known_head.forget();
                }
                match result {
                    // A retried batch whose first attempt committed: batches are atomic, so it is all in.
                    Err(StoreError::Conflict(_)) if self.already_stored(first).await? => Ok(()),
                    result => result,
                }
            }
        }

        #[async_trait]
        impl AuditStore for $store {
            async fn head(&self) -> Result<Option<Checkpoint>, StoreError> {
                let mut conn = self.pool.acquire().await.map_err(store_error)?;
                checkpoint(&mut conn, "head").await
            }

            async fn anchor(&self) -> Result<Option<Checkpoint>, StoreError> {
                let mut conn = self.pool.acquire().await.map_err(store_error)?;
                checkpoint(&mut conn, "anchor").await
            }

            async fn read(&self, after_seq: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
                let rows: Vec<EventRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM soc2_audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
                ))
                .bind(db_seq(after_seq))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                convert(rows)
            }

            async fn read_range(
                &self,
                range: &TimeRange,
                after_seq: u64,
                limit: u32,
            ) -> Result<Vec<StoredEvent>, StoreError> {
                let rows: Vec<EventRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM soc2_audit_events WHERE seq > $1 AND occurred_at_us >= $2 AND occurred_at_us < $3",
                    " ORDER BY seq LIMIT $4"
                ))
                .bind(db_seq(after_seq))
                .bind(range.from_micros())
                .bind(range.to_micros())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                convert(rows)
            }

            async fn first_seq_since(&self, at: OffsetDateTime) -> Result<Option<u64>, StoreError> {
                let seq: Option<i64> =
                    sqlx::query_scalar("SELECT MIN(seq) FROM soc2_audit_events WHERE occurred_at_us >= $1")
                        .bind(soc2_core::unix_micros(at))
                        .fetch_one(&self.pool)
                        .await
                        .map_err(store_error)?;
                Ok(seq.and_then(|seq| u64::try_from(seq).ok()))
            }

            async fn purge_through(&self, anchor: &Checkpoint) -> Result<u64, StoreError> {
                let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                let deleted = sqlx::query("DELETE FROM soc2_audit_events WHERE seq <= $1")
                    .bind(db_seq(anchor.seq))
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?
                    .rows_affected();
                put_checkpoint(&mut tx, anchor).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(deleted)
            }
        }

        async fn checkpoint(conn: &mut $conn, kind: &str) -> Result<Option<Checkpoint>, StoreError> {
            let row: Option<CheckpointRow> = sqlx::query_as(concat!(
                "SELECT ",
                checkpoint_columns!(),
                " FROM soc2_audit_checkpoints WHERE kind = $1"
            ))
            .bind(kind)
            .fetch_optional(conn)
            .await
            .map_err(store_error)?;
            row.map(Checkpoint::try_from).transpose()
        }

        /// Pushes the statement that moves the head from `expected` to `new_head` only if nobody
        /// else moved it first (it changes no row otherwise); holding the head row is what
        /// serializes appenders.
        fn push_head_guard(
            statement: &mut QueryBuilder<$db>,
            expected: Option<&Checkpoint>,
            new_head: &Checkpoint,
        ) {
            match expected {
                None => {
                    statement.push(concat!("INSERT INTO soc2_audit_checkpoints (", checkpoint_columns!(), ") VALUES ("));
                    statement
                        .separated(", ")
                        .push_bind(new_head.kind.name())
                        .push_bind(db_seq(new_head.seq))
                        .push_bind(new_head.hash.to_vec())
                        .push_bind(new_head.key_id.clone())
                        .push_bind(new_head.mac.to_vec());
                    statement.push(") ON CONFLICT (kind) DO NOTHING");
                }
                Some(expected) => {
                    statement
                        .push("UPDATE soc2_audit_checkpoints SET seq = ")
                        .push_bind(db_seq(new_head.seq))
                        .push(", hash = ")
                        .push_bind(new_head.hash.to_vec())
                        .push(", key_id = ")
                        .push_bind(new_head.key_id.clone())
                        .push(", mac = ")
                        .push_bind(new_head.mac.to_vec())
                        .push(" WHERE kind = 'head' AND seq = ")
                        .push_bind(db_seq(expected.seq))
                        .push(" AND hash = ")
                        .push_bind(expected.hash.to_vec());
                }
            }
        }

        /// Pushes `VALUES (...), (...)` for `events`, in `event_columns!()` order.
        fn push_event_values(statement: &mut QueryBuilder<$db>, events: &[StoredEvent]) {
            statement.push_values(events, |mut row, event| {
                row.push_bind(db_seq(event.seq))
                    .push_bind(event.index.event_id.clone())
                    .push_bind(event.index.occurred_at_us)
                    .push_bind(event.index.action.clone())
                    .push_bind(event.index.outcome.clone())
                    .push_bind(event.key_id.clone())
                    .push_bind(event.prev_hash.to_vec())
                    .push_bind(event.hash.to_vec())
                    .push_bind(event.body.clone());
            });
        }

        async fn put_checkpoint(conn: &mut $conn, checkpoint: &Checkpoint) -> Result<(), StoreError> {
            sqlx::query(concat!(
                "INSERT INTO soc2_audit_checkpoints (",
                checkpoint_columns!(),
                ") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind) DO UPDATE SET",
                " seq = excluded.seq, hash = excluded.hash, key_id = excluded.key_id, mac = excluded.mac"
            ))
            .bind(checkpoint.kind.name())
            .bind(db_seq(checkpoint.seq))
            .bind(checkpoint.hash.to_vec())
            .bind(checkpoint.key_id.clone())
            .bind(checkpoint.mac.to_vec())
            .execute(conn)
            .await
            .map_err(store_error)?;
            Ok(())
        }
        }
        pub use audit_store::$store;
    };
}

pub(crate) use sql_audit_store;
