//! The lockout row shapes shared by both databases.

use soc2_auth::{AccountLockState, IpWindowState};
use soc2_core::{StoreError, unix_micros};

use crate::rows::{corrupt, instant};

/// The state columns of `soc2_lockouts`, in `AccountRow` order.
macro_rules! account_columns {
    () => {
        "failures, window_start_us, pending, pending_since_us, locked_until_us, admin_lock, \
         lockouts"
    };
}
pub(crate) use account_columns;

/// The state columns of `soc2_ip_throttle`, in `IpRow` order.
macro_rules! ip_columns {
    () => {
        "bucket_start_us, current_failures, previous_failures"
    };
}
pub(crate) use ip_columns;

const ACCOUNT_ROW: &str = "lockout";
const IP_ROW: &str = "ip throttle";

/// An [`AccountLockState`] as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    pub(crate) failures: i64,
    pub(crate) window_start_us: Option<i64>,
    pub(crate) pending: i64,
    pub(crate) pending_since_us: Option<i64>,
    pub(crate) locked_until_us: Option<i64>,
    pub(crate) admin_lock: bool,
    pub(crate) lockouts: i64,
}

impl From<&AccountLockState> for AccountRow {
    fn from(state: &AccountLockState) -> Self {
        Self {
            failures: state.failures.into(),
            window_start_us: state.window_start.map(unix_micros),
            pending: state.pending.into(),
            pending_since_us: state.pending_since.map(unix_micros),
            locked_until_us: state.locked_until.map(unix_micros),
            admin_lock: state.admin_lock,
            lockouts: state.lockouts.into(),
        }
    }
}

impl TryFrom<AccountRow> for AccountLockState {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> Result<Self, StoreError> {
        let instant = |micros| instant(micros, ACCOUNT_ROW);
        let mut state = Self::default();
        state.failures = count(row.failures, ACCOUNT_ROW)?;
        state.window_start = row.window_start_us.map(instant).transpose()?;
        state.pending = count(row.pending, ACCOUNT_ROW)?;
        state.pending_since = row.pending_since_us.map(instant).transpose()?;
        state.locked_until = row.locked_until_us.map(instant).transpose()?;
        state.admin_lock = row.admin_lock;
        state.lockouts = count(row.lockouts, ACCOUNT_ROW)?;
        Ok(state)
    }
}

/// An [`IpWindowState`] as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct IpRow {
    pub(crate) bucket_start_us: i64,
    pub(crate) current_failures: i64,
    pub(crate) previous_failures: i64,
}

impl From<&IpWindowState> for IpRow {
    fn from(state: &IpWindowState) -> Self {
        Self {
            bucket_start_us: unix_micros(state.bucket_start),
            current_failures: state.current.into(),
            previous_failures: state.previous.into(),
        }
    }
}

impl TryFrom<IpRow> for IpWindowState {
    type Error = StoreError;

    fn try_from(row: IpRow) -> Result<Self, StoreError> {
        let mut state = Self::new(instant(row.bucket_start_us, IP_ROW)?);
        state.current = count(row.current_failures, IP_ROW)?;
        state.previous = count(row.previous_failures, IP_ROW)?;
        Ok(state)
    }
}

fn count(value: i64, row: &str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(row, "counter out of range"))
}
