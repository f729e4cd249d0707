//! The passkey row shape shared by both databases.

use soc2_auth::passkey::{PasskeyRecord, StoredPasskey};
use soc2_core::{StoreError, UserId};

use crate::rows::{corrupt, instant};

/// The columns of `soc2_passkeys`, in `PasskeyRow` order.
macro_rules! passkey_columns {
    () => {
        "credential_id, user_id, name, passkey, sign_count, backup_eligible, backed_up, \
         created_at_us, last_used_at_us"
    };
}
pub(crate) use passkey_columns;

/// The row kind named in `Corrupt` errors.
const ROW: &str = "passkey";

/// A [`PasskeyRecord`] as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct PasskeyRow {
    credential_id: String,
    user_id: String,
    name: String,
    passkey: String,
    sign_count: i64,
    backup_eligible: bool,
    backed_up: bool,
    created_at_us: i64,
    last_used_at_us: Option<i64>,
}

impl TryFrom<PasskeyRow> for PasskeyRecord {
    type Error = StoreError;

    fn try_from(row: PasskeyRow) -> Result<Self, StoreError> {
        let user_id: UserId = row.user_id.parse().map_err(|_| corrupt(ROW, "user_id"))?;
        let sign_count = u32::try_from(row.sign_count).map_err(|_| corrupt(ROW, "sign_count"))?;
        let passkey =
            StoredPasskey::new(row.passkey, sign_count, row.backup_eligible, row.backed_up);
        let mut record = PasskeyRecord::new(
            user_id,
            row.credential_id,
            row.name,
            passkey,
            instant(row.created_at_us, ROW)?,
        );
        record.last_used_at = row
            .last_used_at_us
            .map(|micros| instant(micros, ROW))
            .transpose()?;
        Ok(record)
    }
}
