//! Row shapes shared by both databases, and their conversion to domain types.

use soc2_audit::{Checkpoint, CheckpointKind, IndexColumns, StoredEvent, hash_from_slice};
use soc2_core::{StoreError, from_unix_micros};
use time::OffsetDateTime;

/// The columns every audit query selects, in `EventRow` order (a macro, so queries stay
/// `&'static str` literals built with `concat!`).
macro_rules! event_columns {
    () => {
        "seq, event_id, occurred_at_us, action, outcome, key_id, prev_hash, hash, body"
    };
}
pub(crate) use event_columns;

/// The columns every checkpoint query selects, in `CheckpointRow` order.
macro_rules! checkpoint_columns {
    () => {
        "kind, seq, hash, key_id, mac"
    };
}
pub(crate) use checkpoint_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    seq: i64,
    event_id: String,
    occurred_at_us: i64,
    action: String,
    outcome: String,
    key_id: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    body: String,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        Ok(StoredEvent {
            seq: to_seq(row.seq)?,
            index: IndexColumns {
                event_id: row.event_id,
                occurred_at_us: row.occurred_at_us,
                action: row.action,
                outcome: row.outcome,
            },
            key_id: row.key_id,
            prev_hash: hash_from_slice(&row.prev_hash)?,
            hash: hash_from_slice(&row.hash)?,
            body: row.body,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CheckpointRow {
    kind: String,
    seq: i64,
    hash: Vec<u8>,
    key_id: String,
    mac: Vec<u8>,
}

impl TryFrom<CheckpointRow> for Checkpoint {
    type Error = StoreError;

    fn try_from(row: CheckpointRow) -> Result<Self, StoreError> {
        Ok(Checkpoint {
            kind: CheckpointKind::from_name(&row.kind).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown checkpoint kind `{}`", row.kind))
            })?,
            seq: to_seq(row.seq)?,
            hash: hash_from_slice(&row.hash)?,
            key_id: row.key_id,
            mac: hash_from_slice(&row.mac)?,
        })
    }
}

/// Converts rows into domain values, failing on the first malformed one.
pub(crate) fn convert<R, T: TryFrom<R, Error = StoreError>>(
    rows: Vec<R>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}

/// A sequence number as stored (`BIGINT`).
pub(crate) fn db_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn to_seq(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("negative sequence number {seq}")))
}

/// A stored timestamp (microseconds since the Unix epoch) as an instant.
pub(crate) fn instant(micros: i64, row: &str) -> Result<OffsetDateTime, StoreError> {
    from_unix_micros(micros).ok_or_else(|| corrupt(row, "timestamp out of range"))
}

/// The error for a malformed value in a row of kind `row`.
pub(crate) fn corrupt(row: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("{row} row: {what}"))
}
