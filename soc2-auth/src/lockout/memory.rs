//! In-memory lockout counters, for tests and single-instance hosts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use soc2_core::StoreError;
use time::OffsetDateTime;

use super::{
    AccountLockState, AccountOp, AccountOutcome, IpOp, IpOutcome, IpWindowState, LockoutKey,
    LockoutPolicy, LockoutStore,
};

/// A [`LockoutStore`] in process memory: counters vanish on restart and are not shared
/// between instances (use soc2-sqlx for that).
#[derive(Debug, Default)]
pub struct MemoryLockoutStore {
    accounts: Mutex<HashMap<LockoutKey, Touched<AccountLockState>>>,
    ips: Mutex<HashMap<IpAddr, Touched<IpWindowState>>>,
}

#[derive(Debug)]
struct Touched<T> {
    state: T,
    at: OffsetDateTime,
}

impl MemoryLockoutStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[async_trait::async_trait]
impl LockoutStore for MemoryLockoutStore {
    async fn apply_account(
        &self,
        key: &LockoutKey,
        op: AccountOp,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> Result<AccountOutcome, StoreError> {
        let mut accounts = lock(&self.accounts);
        let entry = accounts.entry(key.clone()).or_insert_with(|| Touched {
            state: AccountLockState::default(),
            at: now,
        });
        entry.at = now;
        Ok(entry.state.apply(op, now, policy))
    }

    async fn apply_ip(
        &self,
        ip: IpAddr,
        op: IpOp,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> Result<IpOutcome, StoreError> {
        let mut ips = lock(&self.ips);
        let entry = ips.entry(ip).or_insert_with(|| Touched {
            state: IpWindowState::new(now),
            at: now,
        });
        entry.at = now;
        Ok(entry.state.apply(op, now, policy))
    }

    async fn account_state(
        &self,
        key: &LockoutKey,
    ) -> Result<Option<AccountLockState>, StoreError> {
        Ok(lock(&self.accounts)
            .get(key)
            .map(|entry| entry.state.clone()))
    }

    async fn remove_idle(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut removed = 0;
        lock(&self.accounts).retain(|_, entry| {
            let keep = entry.at >= before || entry.state.is_locked(before);
            removed += u64::from(!keep);
            keep
        });
        lock(&self.ips).retain(|_, entry| {
            let keep = entry.at >= before;
            removed += u64::from(!keep);
            keep
        });
        Ok(removed)
    }
}
