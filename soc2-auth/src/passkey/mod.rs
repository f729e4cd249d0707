//! WebAuthn passkeys (SOC 2 CC6.1; NIST SP 800-63B-4 §3.1.7 multi-factor cryptographic
//! authenticators; OWASP ASVS 4.0.3 V2.7-V2.8): registration and assertion ceremonies whose
//! state stays on the server, single use and short-lived; several named credentials per user;
//! a passkey as second factor or for passwordless sign-in (discoverable credentials).

mod assert;
mod check;
mod config;
mod info;
mod input;
mod memory;
mod register;
mod service;
mod store;

pub use check::{PasskeyCheck, PasskeyRefusal};
pub use config::{CEREMONY_TTL_RANGE, DEFAULT_CEREMONY_TTL, PasskeyConfig};
pub use info::{PasskeyInfo, PasskeyPrompt};
pub use input::{MAX_CREDENTIAL_ID_CHARS, MAX_NAME_CHARS, MAX_RESPONSE_BYTES};
pub use memory::MemoryPasskeyStore;
pub use service::PasskeyAuth;
pub use store::{PasskeyRecord, PasskeyStore, StoredPasskey};

use soc2_audit::AuditError;
use soc2_core::StoreError;

/// Why a passkey operation did not happen (a refused assertion is not an error: see
/// [`PasskeyCheck`]). Errors about the request change nothing in the stores.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasskeyError {
    /// Settings that cannot work.
    #[error("passkey configuration: {0}")]
    Config(String),
    /// A name is not usable.
    #[error("the {field} is not usable: {problem}")]
    InvalidName {
        /// Which name: `name`, `username` or `display_name`.
        field: &'static str,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// The WebAuthn response is larger than [`MAX_RESPONSE_BYTES`]; it was not parsed.
    #[error("the WebAuthn response exceeds {max} bytes")]
    ResponseTooLarge {
        /// The limit.
        max: usize,
    },
    /// The WebAuthn response is not the JSON of a WebAuthn credential.
    #[error("the WebAuthn response is malformed")]
    MalformedResponse,
    /// Not a credential id (base64url, at most [`MAX_CREDENTIAL_ID_CHARS`] characters).
    #[error("not a credential id")]
    InvalidCredentialId,
    /// The user has no passkey to authenticate with.
    #[error("the user has no passkey")]
    NoPasskeys,
    /// A registration was refused.
    #[error("passkey registration refused: {}", .0.code())]
    Refused(PasskeyRefusal),
    /// The WebAuthn library could not start a ceremony.
    #[error("the WebAuthn ceremony could not start: {0}")]
    Ceremony(String),
    /// Ceremony state or a credential could not be serialized.
    #[error("WebAuthn state could not be serialized")]
    State,
    /// The system random generator failed.
    #[error("system random generator failed")]
    Random,
    /// A store failed.
    #[error("passkey, ceremony or lockout store failed")]
    Store(#[from] StoreError),
    /// The audit log refused the event; the action did not take effect (fail closed).
    #[error("audit log unavailable")]
    Audit(#[from] AuditError),
}

/// What is wrong with a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameProblem {
    /// Empty or only whitespace.
    #[error("empty")]
    Empty,
    /// Longer than [`MAX_NAME_CHARS`] characters.
    #[error("longer than {MAX_NAME_CHARS} characters")]
    TooLong,
    /// Contains a control character (a line break, an escape sequence).
    #[error("contains a control character")]
    ControlCharacter,
}
