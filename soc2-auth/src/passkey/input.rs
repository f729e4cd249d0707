//! Untrusted input (names, WebAuthn responses, credential ids), checked before anything is
//! read or changed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;

use super::{NameProblem, PasskeyError};

/// The longest name (a credential's, or the user names shown by the authenticator), in
/// characters: OWASP ASVS 4.0.3 V5.1.4 (length-bounded input); W3C WebAuthn Level 3 §6.4.1
/// lets authenticators cut names beyond 64 bytes.
pub const MAX_NAME_CHARS: usize = 64;

/// The largest WebAuthn response accepted, checked before it is parsed (OWASP ASVS 4.0.3
/// V5.1.4). A response without attestation is under 2 KiB; 64 KiB leaves room for
/// attestation certificate chains.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// The longest credential id in base64url: W3C WebAuthn Level 3 §4 bounds credential ids to
/// 1023 bytes.
pub const MAX_CREDENTIAL_ID_CHARS: usize = 1364;

/// `value` trimmed, if it is a usable name: not empty, at most [`MAX_NAME_CHARS`]
/// characters, no control characters.
pub(super) fn name(field: &'static str, value: &str) -> Result<String, PasskeyError> {
    let value = value.trim();
    let problem = if value.is_empty() {
        NameProblem::Empty
    } else if value.chars().count() > MAX_NAME_CHARS {
        NameProblem::TooLong
    } else if value.chars().any(char::is_control) {
        NameProblem::ControlCharacter
    } else {
        return Ok(value.to_owned());
    };
    Err(PasskeyError::InvalidName { field, problem })
}

/// A WebAuthn response from the client, parsed only when it is small enough.
pub(super) fn response<T: DeserializeOwned>(json: &str) -> Result<T, PasskeyError> {
    if json.len() > MAX_RESPONSE_BYTES {
        return Err(PasskeyError::ResponseTooLarge {
            max: MAX_RESPONSE_BYTES,
        });
    }
    serde_json::from_str(json).map_err(|_| PasskeyError::MalformedResponse)
}

/// `id` if it can be a credential id: 1 to [`MAX_CREDENTIAL_ID_CHARS`] base64url characters.
pub(super) fn credential_id(id: &str) -> Result<&str, PasskeyError> {
    let alphabet = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if id.is_empty() || id.len() > MAX_CREDENTIAL_ID_CHARS || !id.chars().all(alphabet) {
        return Err(PasskeyError::InvalidCredentialId);
    }
    Ok(id)
}

/// A credential id as stored and shown: base64url without padding.
pub(super) fn encode_id(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// The bytes of a stored credential id (`None` for one that is not base64url).
pub(super) fn decode_id(id: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(id).ok()
}
