//! The credential row shape shared by both databases.

use soc2_auth::{CredentialFlags, CredentialRecord, StoredHash, Username};
use soc2_core::StoreError;

use crate::rows::{corrupt, instant};

/// The columns of `soc2_credentials`, in `CredentialRow` order.
macro_rules! credential_columns {
    () => {
        "user_id, username, password_hash, password_changed_at_us, must_change, disabled, \
         created_at_us"
    };
}
pub(crate) use credential_columns;

/// Selects credentials joined with their history, one row per history entry (or one with a
/// `NULL` `previous_hash`): a single statement, so a record is never read half-changed.
/// Callers append the `WHERE` clause and `ORDER BY seq DESC`.
macro_rules! select_credentials {
    () => {
        concat!(
            "SELECT ",
            $crate::credential_rows::credential_columns!(),
            ", previous_hash FROM soc2_credentials",
            " LEFT JOIN soc2_password_history USING (user_id)"
        )
    };
}
pub(crate) use select_credentials;

/// The row kind named in `Corrupt` errors.
const ROW: &str = "credential";

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialRow {
    user_id: String,
    username: String,
    password_hash: Option<String>,
    password_changed_at_us: Option<i64>,
    must_change: bool,
    disabled: bool,
    created_at_us: i64,
    previous_hash: Option<String>,
}

/// The record that `rows` (from `select_credentials!`, newest history entry first) describe.
pub(crate) fn record_from_rows(
    rows: Vec<CredentialRow>,
) -> Result<Option<CredentialRecord>, StoreError> {
    let history = rows
        .iter()
        .filter_map(|row| row.previous_hash.as_deref())
        .map(hash_of)
        .collect::<Result<Vec<_>, _>>()?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    let username =
        Username::parse(&row.username).map_err(|_| corrupt(ROW, "username does not parse"))?;
    let user_id = row
        .user_id
        .parse()
        .map_err(|_| corrupt(ROW, "user id is not a UUID"))?;
    let password = row.password_hash.as_deref().map(hash_of).transpose()?;
    let mut record = CredentialRecord::new(
        user_id,
        username,
        password,
        instant(row.created_at_us, ROW)?,
    );
    record.password_changed_at = row
        .password_changed_at_us
        .map(|micros| instant(micros, ROW))
        .transpose()?;
    record.history = history;
    record.flags = CredentialFlags::default()
        .with_must_change(row.must_change)
        .with_disabled(row.disabled);
    Ok(Some(record))
}

fn hash_of(phc: &str) -> Result<StoredHash, StoreError> {
    StoredHash::parse(phc).map_err(|_| corrupt(ROW, "password hash is not an argon2 PHC string"))
}
