//! The MFA row shapes shared by both databases.

use soc2_auth::mfa::TotpRecord;
use soc2_core::{StoreError, UserId};

use crate::rows::{corrupt, instant};

/// The columns of `soc2_totp`, in `TotpRow` order.
macro_rules! totp_columns {
    () => {
        "user_id, sealed_secret, confirmed, last_step, created_at_us"
    };
}
pub(crate) use totp_columns;

const TOTP_ROW: &str = "totp";

/// A [`TotpRecord`] as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct TotpRow {
    pub(crate) user_id: String,
    pub(crate) sealed_secret: String,
    pub(crate) confirmed: bool,
    pub(crate) last_step: Option<i64>,
    pub(crate) created_at_us: i64,
}

impl TryFrom<TotpRow> for TotpRecord {
    type Error = StoreError;

    fn try_from(row: TotpRow) -> Result<Self, StoreError> {
        let user_id: UserId = row
            .user_id
            .parse()
            .map_err(|_| corrupt(TOTP_ROW, "user_id"))?;
        let mut record = TotpRecord::pending(
            user_id,
            row.sealed_secret,
            instant(row.created_at_us, TOTP_ROW)?,
        );
        record.confirmed = row.confirmed;
        record.last_step = row
            .last_step
            .map(|step| u64::try_from(step).map_err(|_| corrupt(TOTP_ROW, "last_step")))
            .transpose()?;
        Ok(record)
    }
}

/// A time step as stored (steps are ~10^8 for centuries to come).
pub(crate) fn db_step(step: u64) -> Result<i64, StoreError> {
    i64::try_from(step).map_err(|_| StoreError::Corrupt(format!("time step {step} out of range")))
}

/// A [`Ceremony`](soc2_auth::mfa::Ceremony) as stored, without its digest.
#[derive(sqlx::FromRow)]
pub(crate) struct CeremonyRow {
    pub(crate) kind: String,
    pub(crate) user_id: String,
    pub(crate) payload: String,
    pub(crate) expires_at_us: i64,
}

impl CeremonyRow {
    /// The ceremony with `digest`.
    pub(crate) fn into_ceremony(
        self,
        digest: [u8; 32],
    ) -> Result<soc2_auth::mfa::Ceremony, StoreError> {
        let user_id: UserId = self
            .user_id
            .parse()
            .map_err(|_| corrupt(CEREMONY_ROW, "user_id"))?;
        Ok(soc2_auth::mfa::Ceremony::new(
            digest,
            &self.kind,
            user_id,
            self.payload,
            instant(self.expires_at_us, CEREMONY_ROW)?,
        ))
    }
}

const CEREMONY_ROW: &str = "ceremony";
