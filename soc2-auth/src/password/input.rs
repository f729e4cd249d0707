//! Input validation and NFKC normalisation: what every password goes through before it is
//! checked, hashed or verified.

use std::fmt;

use soc2_core::SecretString;
use unicode_normalization::UnicodeNormalization;

use super::ViolationCode;

/// The default hard cap on a submitted password, in bytes of UTF-8 before normalisation.
///
/// It is checked before anything else, so a multi-megabyte submission costs one comparison.
/// 1 KiB holds 256 code points of any script, twice the 128 that OWASP ASVS 4.0.3 V2.1.2
/// lets a policy accept.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password after input validation and NFKC normalisation (NIST SP 800-63B-4 §3.1.1.2):
/// exactly what gets hashed, and what a later login must reproduce.
///
/// `Debug` is redacted and the memory is zeroized on drop. There is no case folding: `Secret`
/// and `secret` stay different passwords.
#[derive(PartialEq, Eq)]
pub struct NormalizedPassword(SecretString);

impl NormalizedPassword {
    /// The UTF-8 bytes to hash.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }

    /// The length in Unicode code points, the unit of every length rule (NIST SP 800-63B-4
    /// §3.1.1.2).
    #[must_use]
    pub fn chars(&self) -> usize {
        self.as_str().chars().count()
    }

    /// The normalised text, for the checks in this module.
    pub(crate) fn as_str(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for NormalizedPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NormalizedPassword([redacted])")
    }
}

/// A string that cannot be a password at all, whatever the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordInputError {
    /// Nothing was submitted.
    #[error("the password is empty")]
    Empty,
    /// More bytes than the input cap; nothing else was looked at.
    #[error("the password is longer than {max_bytes} bytes")]
    TooLong {
        /// The cap that was exceeded.
        max_bytes: usize,
    },
    /// NUL or another C0/C1 control character (tab and newline included), which no keyboard
    /// produces in a password field and which some stores and protocols mangle.
    #[error("the password contains a control character")]
    InvalidCharacter,
}

impl PasswordInputError {
    /// The violation code a checker reports for this error.
    #[must_use]
    pub fn code(self) -> ViolationCode {
        match self {
            Self::Empty => ViolationCode::Empty,
            Self::TooLong { .. } => ViolationCode::TooLong,
            Self::InvalidCharacter => ViolationCode::InvalidCharacter,
        }
    }
}

/// Validates `raw` and normalises it to NFKC, without any policy: use it at login, with the
/// policy's [`max_input_bytes`](super::PasswordPolicy::max_input_bytes), so the bytes hashed
/// match those stored when the password was set.
///
/// The byte cap is checked first, so oversized input is refused before it is scanned.
///
/// # Errors
/// [`PasswordInputError`] for empty input, input longer than `max_bytes` bytes, or input
/// containing a control character.
pub fn normalize_password(
    raw: &str,
    max_bytes: usize,
) -> Result<NormalizedPassword, PasswordInputError> {
    if raw.len() > max_bytes {
        return Err(PasswordInputError::TooLong { max_bytes });
    }
    if raw.is_empty() {
        return Err(PasswordInputError::Empty);
    }
    if raw.chars().any(char::is_control) {
        return Err(PasswordInputError::InvalidCharacter);
    }
    // Size the buffer exactly so that growing it never leaves a copy of the password behind
    // in freed memory; only the zeroized buffer ever holds it.
    let len = raw.nfkc().map(char::len_utf8).sum();
    let mut normalized = String::with_capacity(len);
    normalized.extend(raw.nfkc());
    Ok(NormalizedPassword(SecretString::new(normalized)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_comes_before_everything() {
        assert_eq!(
            normalize_password("ab\0", 2),
            Err(PasswordInputError::TooLong { max_bytes: 2 })
        );
        assert_eq!(
            normalize_password("", 0),
            Err(PasswordInputError::Empty),
            "empty input is within any cap"
        );
    }

    #[test]
    fn control_characters_are_refused() {
        for raw in [
            "a\0b",
            "tab\there",
            "line\n",
            "del\u{7f}",
            "c1\u{85}",
            "\u{9f}",
        ] {
            assert_eq!(
                normalize_password(raw, MAX_PASSWORD_BYTES),
                Err(PasswordInputError::InvalidCharacter),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn nfkc_is_applied_without_case_folding() {
        let pw = normalize_password("ﬁＡe\u{301}", MAX_PASSWORD_BYTES).unwrap();
        assert_eq!(pw.as_str(), "fiAé");
        assert_eq!(pw.chars(), 4);
        assert_eq!(pw.as_bytes(), "fiAé".as_bytes());
    }

    #[test]
    fn debug_is_redacted() {
        let pw = normalize_password("hunter2hunter2", MAX_PASSWORD_BYTES).unwrap();
        assert_eq!(format!("{pw:?}"), "NormalizedPassword([redacted])");
    }

    /// No character that passes the control check normalises into a control character, so
    /// checking the raw input is enough.
    #[test]
    fn nfkc_never_produces_control_characters() {
        let offenders: Vec<char> = ('\0'..=char::MAX)
            .filter(|c| !c.is_control())
            .filter(|c| std::iter::once(*c).nfkc().any(char::is_control))
            .collect();
        assert_eq!(offenders, Vec::<char>::new());
    }
}
