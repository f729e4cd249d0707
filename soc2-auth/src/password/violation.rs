//! Why a password was refused: stable codes for programs, messages for people.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A stable, machine-readable reason for refusing a password.
///
/// Serialises as the snake_case string of [`ViolationCode::as_str`], so a UI can map codes to
/// its own translated text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ViolationCode {
    /// Nothing was submitted.
    Empty,
    /// Fewer code points than the policy's minimum length.
    TooShort,
    /// More code points than the policy's maximum length, or more bytes than its input cap.
    TooLong,
    /// Contains NUL or another control character.
    InvalidCharacter,
    /// The strength estimate is below the policy's minimum score.
    TooWeak,
    /// On the embedded list of common passwords.
    Common,
    /// Found in the breached-password corpus.
    Breached,
    /// Contains the user's username, email address or name.
    ContainsUserContext,
    /// Lacks a character class the policy requires.
    Composition,
    /// Same as one of the passwords the account used recently.
    Reused,
    /// The current password was set too recently to be changed again.
    TooRecent,
}

impl ViolationCode {
    /// The code as a stable snake_case string, e.g. `"too_short"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::InvalidCharacter => "invalid_character",
            Self::TooWeak => "too_weak",
            Self::Common => "common",
            Self::Breached => "breached",
            Self::ContainsUserContext => "contains_user_context",
            Self::Composition => "composition",
            Self::Reused => "reused",
            Self::TooRecent => "too_recent",
        }
    }
}

impl fmt::Display for ViolationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a password was refused. The message is for the person choosing the password and
/// never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    code: ViolationCode,
    message: String,
}

impl Violation {
    /// A violation with an English `message` for the user.
    #[must_use]
    pub fn new(code: ViolationCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The machine-readable code.
    #[must_use]
    pub fn code(&self) -> ViolationCode {
        self.code
    }

    /// The message for the user.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Every reason a candidate password was refused; never empty.
///
/// `Display` lists the codes (`password rejected: too_short, common`), so a log line says why
/// without saying what the password was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasswordRejected {
    violations: Vec<Violation>,
}

impl PasswordRejected {
    /// A rejection for one reason; add more with [`PasswordRejected::push`].
    #[must_use]
    pub fn new(violation: Violation) -> Self {
        Self {
            violations: vec![violation],
        }
    }

    /// A rejection for `violations`, or `None` when there are none.
    pub(crate) fn from_violations(violations: Vec<Violation>) -> Option<Self> {
        (!violations.is_empty()).then_some(Self { violations })
    }

    /// Adds another reason.
    pub fn push(&mut self, violation: Violation) {
        self.violations.push(violation);
    }

    /// The reasons, in the order the checks ran.
    #[must_use]
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// True when one of the reasons has `code`.
    #[must_use]
    pub fn has(&self, code: ViolationCode) -> bool {
        self.violations.iter().any(|v| v.code == code)
    }
}

impl From<Violation> for PasswordRejected {
    fn from(violation: Violation) -> Self {
        Self::new(violation)
    }
}

impl fmt::Display for PasswordRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("password rejected: ")?;
        for (i, violation) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(violation.code.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for PasswordRejected {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_strings() {
        let all = [
            ViolationCode::Empty,
            ViolationCode::TooShort,
            ViolationCode::TooLong,
            ViolationCode::InvalidCharacter,
            ViolationCode::TooWeak,
            ViolationCode::Common,
            ViolationCode::Breached,
            ViolationCode::ContainsUserContext,
            ViolationCode::Composition,
            ViolationCode::Reused,
            ViolationCode::TooRecent,
        ];
        for code in all {
            let toml = toml::Value::try_from(code).unwrap();
            assert_eq!(toml.as_str(), Some(code.as_str()));
            assert_eq!(code.to_string(), code.as_str());
            assert_eq!(toml.try_into::<ViolationCode>().unwrap(), code);
        }
    }

    #[test]
    fn display_lists_the_codes() {
        let mut rejected = PasswordRejected::new(Violation::new(ViolationCode::TooShort, "short"));
        rejected.push(Violation::new(ViolationCode::Common, "common"));
        assert_eq!(rejected.to_string(), "password rejected: too_short, common");
        assert!(rejected.has(ViolationCode::Common));
        assert!(!rejected.has(ViolationCode::TooWeak));
        assert_eq!(PasswordRejected::from_violations(Vec::new()), None);
    }
}
