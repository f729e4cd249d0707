//! Login names, normalised so that `Alice`, `ALICE` and `ａｌｉｃｅ` are one account and one
//! lockout counter.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// The longest login name accepted, in bytes of input (checked before any normalisation).
pub const MAX_USERNAME_BYTES: usize = 256;

/// A login name after NFKC normalisation and Unicode default case folding
/// (`NFKC(casefold(NFKC(input)))`), trimmed of surrounding white space.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

/// Why a string cannot be a login name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsernameError {
    /// Empty or only white space.
    #[error("the username is empty")]
    Empty,
    /// Longer than [`MAX_USERNAME_BYTES`].
    #[error("the username is longer than {max_bytes} bytes")]
    TooLong {
        /// The limit.
        max_bytes: usize,
    },
    /// Contains NUL or another control character.
    #[error("the username contains a control character")]
    InvalidCharacter,
}

impl Username {
    /// Validates and normalises a login name.
    ///
    /// # Errors
    /// [`UsernameError`] for empty, oversized or control-character input; the length is checked
    /// first, so an oversized name costs nothing.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        if raw.len() > MAX_USERNAME_BYTES {
            return Err(UsernameError::TooLong {
                max_bytes: MAX_USERNAME_BYTES,
            });
        }
        if raw.chars().any(char::is_control) {
            return Err(UsernameError::InvalidCharacter);
        }
        let folded: String = caseless::default_case_fold_str(&raw.nfkc().collect::<String>());
        let normalised: String = folded.nfkc().collect();
        let trimmed = normalised.trim();
        if trimmed.is_empty() {
            return Err(UsernameError::Empty);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The normalised name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_width_and_compatibility_forms_share_one_name() {
        let alice = Username::parse("alice").unwrap();
        for variant in ["Alice", "ALICE", "ａｌｉｃｅ", "  alice "] {
            assert_eq!(Username::parse(variant).unwrap(), alice, "{variant}");
        }
        assert_eq!(Username::parse("Straße").unwrap().as_str(), "strasse");
        assert_eq!(Username::parse("ﬁona").unwrap().as_str(), "fiona");
    }

    #[test]
    fn bad_names_are_typed_errors() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(Username::parse(" \u{3000} "), Err(UsernameError::Empty));
        assert_eq!(
            Username::parse("a\0b"),
            Err(UsernameError::InvalidCharacter)
        );
        assert_eq!(
            Username::parse("a\nb"),
            Err(UsernameError::InvalidCharacter)
        );
        assert_eq!(
            Username::parse(&"a".repeat(MAX_USERNAME_BYTES + 1)),
            Err(UsernameError::TooLong {
                max_bytes: MAX_USERNAME_BYTES
            })
        );
    }

    proptest::proptest! {
        /// Any string: a typed answer, never a panic; a parsed name parses to itself and
        /// never grows past a bounded size.
        #[test]
        fn any_string_parses_or_is_refused(raw in ".{0,300}") {
            if let Ok(name) = Username::parse(&raw) {
                proptest::prop_assert_eq!(Username::parse(name.as_str()), Ok(name.clone()));
                proptest::prop_assert!(!name.as_str().is_empty());
                proptest::prop_assert!(name.as_str().len() <= MAX_USERNAME_BYTES * 18);
            }
        }
    }
}
