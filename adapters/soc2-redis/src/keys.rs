//! Key names under a prefix.

use soc2_core::UserId;

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "soc2:";

/// Builds every key the stores use from one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Default for Keys {
    fn default() -> Self {
        Self::new(DEFAULT_PREFIX)
    }
}

impl Keys {
    pub(crate) fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A session's hash (the scripts build the same name from the prefix).
    pub(crate) fn session(&self, digest_hex: &str) -> String {
        format!("{}session:{digest_hex}", self.prefix)
    }

    /// The set of a user's session digests.
    pub(crate) fn user_sessions(&self, user: UserId) -> String {
        format!("{}user-sessions:{user}", self.prefix)
    }

    /// The sorted set of session digests by earlier expiry (microseconds).
    pub(crate) fn session_expiry(&self) -> String {
        format!("{}session-expiry", self.prefix)
    }

    /// The sorted set of denied service-token ids by expiry (microseconds).
    pub(crate) fn denied_tokens(&self) -> String {
        format!("{}denied-tokens", self.prefix)
    }

    /// An account's (or unknown name's, or second factor's) lockout counters.
    pub(crate) fn lockout(&self, storage_key: &str) -> String {
        format!("{}lockout:{storage_key}", self.prefix)
    }

    /// A client IP's failure window.
    pub(crate) fn ip_window(&self, ip: &str) -> String {
        format!("{}ip-window:{ip}", self.prefix)
    }

    /// The sorted set of lockout and IP keys by when they were last changed (microseconds).
    pub(crate) fn lockout_touched(&self) -> String {
        format!("{}lockout-touched", self.prefix)
    }
}
