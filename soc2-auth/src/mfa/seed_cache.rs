//! The sealed seeds of confirmed TOTP factors, kept per process so a login's code check reads
//! no row before its one write. Only ciphertext is kept (the seed is opened per check).
//!
//! An entry goes stale when another instance removes, re-enrols or re-seals the factor. The
//! store's compare-and-set on the sealed value then refuses the step, and the check re-reads
//! the row before deciding, so a stale entry can never accept a code.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use soc2_core::UserId;

/// Most entries kept (about 150 bytes each); the map is cleared when full.
const CAPACITY: usize = 65_536;

/// Sealed seeds by user.
#[derive(Debug, Default)]
pub(super) struct SealedSeeds {
    entries: RwLock<HashMap<UserId, String>>,
}

impl SealedSeeds {
    /// The cached sealed seed of `user`'s confirmed factor.
    pub(super) fn get(&self, user: UserId) -> Option<String> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user)
            .cloned()
    }

    /// Remembers `user`'s confirmed factor.
    pub(super) fn put(&self, user: UserId, sealed: &str) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(user, sealed.to_owned());
    }

    /// Forgets `user`'s factor (removed or replaced here).
    pub(super) fn forget(&self, user: UserId) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&user);
    }
}
