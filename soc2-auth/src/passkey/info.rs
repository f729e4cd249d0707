//! What the passkey service hands out: a ceremony to run in the browser, and a credential as
//! the user sees it.

use time::OffsetDateTime;

use super::PasskeyRecord;
use crate::login::Challenge;

/// A ceremony started on the server: hand both to the browser, then send its answer back
/// with the token.
#[derive(Debug)]
#[non_exhaustive]
pub struct PasskeyPrompt {
    /// Opaque, short-lived, single-use; names the ceremony state kept on the server.
    pub challenge: Challenge,
    /// The options for `navigator.credentials.create()` or `.get()`, as JSON.
    pub options: String,
}

/// A credential as its owner sees it: no key material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasskeyInfo {
    /// The credential id (base64url).
    pub credential_id: String,
    /// The name the user gave it.
    pub name: String,
    /// When it was registered.
    pub created_at: OffsetDateTime,
    /// When it last proved its owner, if ever.
    pub last_used_at: Option<OffsetDateTime>,
    /// It may be synced or backed up (not bound to one device).
    pub backup_eligible: bool,
    /// It is backed up right now.
    pub backed_up: bool,
}

impl From<&PasskeyRecord> for PasskeyInfo {
    fn from(record: &PasskeyRecord) -> Self {
        Self {
            credential_id: record.credential_id.clone(),
            name: record.name.clone(),
            created_at: record.created_at,
            last_used_at: record.last_used_at,
            backup_eligible: record.passkey.backup_eligible,
            backed_up: record.passkey.backed_up,
        }
    }
}
