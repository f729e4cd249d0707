//! What a lockout counter is keyed on.

use std::fmt;

use soc2_core::UserId;

use crate::Username;

/// The subject of a lockout counter: the account for known users, the normalised name for
/// unknown ones (so guessing at names is throttled too, and creating the account later does
/// not inherit an attacker's counter).
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockoutKey {
    /// A known account.
    Account(UserId),
    /// A name no account has.
    UnknownName(Username),
    /// An account's second-factor failures, counted apart from its password failures.
    SecondFactor(UserId),
}

impl LockoutKey {
    /// The key as stored: `account:<uuid>`, `name:<normalised name>` or `mfa:<uuid>`.
    #[must_use]
    pub fn storage_key(&self) -> String {
        match self {
            Self::Account(user) => format!("account:{user}"),
            Self::UnknownName(name) => format!("name:{name}"),
            Self::SecondFactor(user) => format!("mfa:{user}"),
        }
    }
}

impl fmt::Debug for LockoutKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.storage_key())
    }
}
