//! Role names: the ids of Cedar `Role` entities.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest role name, in bytes.
pub const MAX_ROLE_NAME_BYTES: usize = 64;

/// A role's name, e.g. `approver`: 1 to [`MAX_ROLE_NAME_BYTES`] characters of `a-z 0-9 _ -`,
/// starting with a letter or digit. Cheap to clone.
///
/// The narrow alphabet keeps names unambiguous in audit logs, file names and Cedar source
/// (no look-alike Unicode, no quotes or escapes).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleName(Arc<str>);

/// A role name outside the allowed alphabet or length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid role name `{0}`: use 1-64 characters of a-z 0-9 _ -, starting with a letter or digit"
)]
pub struct InvalidRoleName(pub String);

impl RoleName {
    /// Validates a role name.
    ///
    /// # Errors
    /// [`InvalidRoleName`] when the name is empty, too long or has other characters.
    pub fn new(name: &str) -> Result<Self, InvalidRoleName> {
        if is_identifier(name) {
            Ok(Self(Arc::from(name)))
        } else {
            Err(InvalidRoleName(name.to_owned()))
        }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// True for 1-64 bytes of `a-z 0-9 _ -` starting with a letter or digit: the alphabet of role
/// names, policy ids and SoD rule names.
pub(crate) fn is_identifier(text: &str) -> bool {
    (1..=MAX_ROLE_NAME_BYTES).contains(&text.len())
        && text
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RoleName {
    type Err = InvalidRoleName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::new(name)
    }
}

impl Serialize for RoleName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RoleName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::new(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert_eq!(RoleName::new("approver").unwrap().as_str(), "approver");
        assert_eq!(RoleName::new("team_a-2").unwrap().to_string(), "team_a-2");
        for bad in [
            "",
            "Admin",
            "-x",
            "_x",
            "a b",
            "a\"b",
            "rôle",
            "a.b",
            &"a".repeat(65),
        ] {
            assert_eq!(
                RoleName::new(bad),
                Err(InvalidRoleName(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(RoleName::new(&"a".repeat(64)).is_ok());
    }
}
