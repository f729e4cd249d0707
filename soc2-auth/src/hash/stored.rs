//! A stored password hash: an argon2 PHC string.

use std::fmt;

use argon2::PasswordHash;

use super::HashError;

/// An argon2 hash in PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), as it is
/// stored. Not a secret, but an offline-cracking target: `Debug` shows the parameters only.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredHash(String);

impl StoredHash {
    /// Wraps a PHC string read from storage, checking that it parses as an argon2 hash.
    ///
    /// # Errors
    /// [`HashError::Malformed`] for anything else.
    pub fn parse(phc: &str) -> Result<Self, HashError> {
        let stored = Self(phc.to_owned());
        let hash = stored.phc()?;
        if !hash.algorithm.as_str().starts_with("argon2") {
            return Err(HashError::Malformed);
        }
        Ok(stored)
    }

    /// The PHC string, for storage.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(super) fn from_phc(hash: &PasswordHash) -> Self {
        Self(hash.to_string())
    }

    pub(super) fn phc(&self) -> Result<PasswordHash, HashError> {
        PasswordHash::new(&self.0).map_err(|_| HashError::Malformed)
    }
}

impl fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.phc() {
            Ok(hash) => write!(
                f,
                "StoredHash(${}$v={}${})",
                hash.algorithm.as_str(),
                hash.version.unwrap_or_default(),
                hash.params.as_str()
            ),
            Err(_) => f.write_str("StoredHash(<malformed>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Dyn5p2AmnbPw5bZW9NKxzKcj4yKxaRV1NUSsXhsuCqU";

    #[test]
    fn parses_argon2_phc_and_hides_salt_and_hash_in_debug() {
        let stored = StoredHash::parse(SAMPLE).unwrap();
        assert_eq!(stored.as_str(), SAMPLE);
        assert_eq!(
            format!("{stored:?}"),
            "StoredHash($argon2id$v=19$m=19456,t=2,p=1)"
        );
    }

    #[test]
    fn refuses_other_formats() {
        for bad in [
            "",
            "plaintext",
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "$scrypt$ln=15,r=8,p=1$c29tZXNhbHQ$aGFzaA",
        ] {
            assert!(
                matches!(StoredHash::parse(bad), Err(HashError::Malformed)),
                "{bad}"
            );
        }
    }
}
