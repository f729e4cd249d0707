//! `LockoutStore`: lockout counters and per-IP windows, each changed atomically.

use std::net::IpAddr;

use soc2_core::StoreError;
use time::OffsetDateTime;

use super::{
    AccountLockState, AccountOp, AccountOutcome, IpOp, IpOutcome, LockoutKey, LockoutPolicy,
};

/// Where lockout counters live. Each `apply_*` call is one atomic read-modify-write of one
/// row: implementations load the state (or a default), call
/// [`AccountLockState::apply`] / [`IpWindowState::apply`](super::IpWindowState::apply) and
/// write the result before any other caller can read it, including callers in other
/// processes sharing the database.
#[async_trait::async_trait]
pub trait LockoutStore: std::fmt::Debug + Send + Sync + 'static {
    /// Applies `op` to the account's counters.
    async fn apply_account(
        &self,
        key: &LockoutKey,
        op: AccountOp,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> Result<AccountOutcome, StoreError>;

    /// Applies `op` to the IP's sliding window.
    async fn apply_ip(
        &self,
        ip: IpAddr,
        op: IpOp,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> Result<IpOutcome, StoreError>;

    /// The account's counters, if any were ever recorded.
    async fn account_state(&self, key: &LockoutKey)
    -> Result<Option<AccountLockState>, StoreError>;

    /// Deletes counters and IP windows untouched since `before` that hold no lock in force
    /// (housekeeping; nothing they held still matters). Returns how many rows went.
    async fn remove_idle(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
