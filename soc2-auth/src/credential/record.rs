//! One account's password credential.

use soc2_core::UserId;
use time::OffsetDateTime;

use crate::{StoredHash, Username};

/// One account's password credential, as a [`CredentialStore`](super::CredentialStore)
/// holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialRecord {
    /// The account.
    pub user_id: UserId,
    /// The normalised login name (unique).
    pub username: Username,
    /// The current password hash; `None` for a password-less account.
    pub password: Option<StoredHash>,
    /// When the current password was set.
    pub password_changed_at: Option<OffsetDateTime>,
    /// Earlier hashes, most recent first, without the current one.
    pub history: Vec<StoredHash>,
    /// Flags an administrator sets.
    pub flags: CredentialFlags,
    /// When the account's credential was created.
    pub created_at: OffsetDateTime,
}

impl CredentialRecord {
    /// A new record without password history.
    #[must_use]
    pub fn new(
        user_id: UserId,
        username: Username,
        password: Option<StoredHash>,
        created_at: OffsetDateTime,
    ) -> Self {
        Self {
            user_id,
            username,
            password_changed_at: password.as_ref().map(|_| created_at),
            password,
            history: Vec::new(),
            flags: CredentialFlags::default(),
            created_at,
        }
    }
}

/// Administrative flags on a credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialFlags {
    /// The user must choose a new password at the next login.
    pub must_change: bool,
    /// The account may not log in.
    pub disabled: bool,
}

impl CredentialFlags {
    /// Flags with `must_change` set as given.
    #[must_use]
    pub fn with_must_change(mut self, must_change: bool) -> Self {
        self.must_change = must_change;
        self
    }

    /// Flags with `disabled` set as given.
    #[must_use]
    pub fn with_disabled(mut self, disabled: bool) -> Self {
        self.disabled = disabled;
        self
    }
}
