//! Versioned symmetric keys: the newest signs or seals, every listed key still verifies or opens.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::Secret;

/// Length of every key in a [`KeyRing`]: 256 bits.
pub const KEY_LEN: usize = 32;

/// Name of one key version, stored beside whatever it signed or sealed.
///
/// 1 to 64 characters of `A-Z a-z 0-9 . _ -`, so it is safe in file names, SQL and logs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(Arc<str>);

impl KeyId {
    /// Validates and wraps a key id.
    ///
    /// # Errors
    /// [`KeyRingError::InvalidId`] when empty, longer than 64 or outside the allowed characters.
    pub fn new(id: &str) -> Result<Self, KeyRingError> {
        let valid = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if valid {
            Ok(Self(id.into()))
        } else {
            Err(KeyRingError::InvalidId)
        }
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a key ring could not be built. Never contains key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRingError {
    /// The specification listed no key.
    #[error("the key ring is empty: give at least one `id=base64key` entry")]
    Empty,
    /// A key id is malformed.
    #[error("invalid key id: use 1-64 characters of A-Z a-z 0-9 . _ -")]
    InvalidId,
    /// A key is not 32 bytes of base64.
    #[error("key `{0}` is not {KEY_LEN} bytes of base64")]
    InvalidKey(String),
    /// The same id appears twice.
    #[error("key id `{0}` appears twice")]
    DuplicateId(String),
    /// An entry is not of the form `id=base64key`.
    #[error("entry {0} is not of the form `id=base64key`")]
    Malformed(usize),
    /// No key has the requested id.
    #[error("no key with id `{0}` in the key ring")]
    UnknownId(String),
}

/// A set of 256-bit keys by id, one of them active.
///
/// New signatures or seals use the active key; verification picks the key by the id stored
/// with the data, so old keys keep verifying after rotation. Keys come from the environment or a
/// file (see [`KeyRing::parse`]), never from the database they protect.
pub struct KeyRing {
    active: KeyId,
    /// The active key, also in `keys`; held apart so signing never looks it up.
    active_key: Arc<Secret<[u8; KEY_LEN]>>,
    keys: BTreeMap<KeyId, Arc<Secret<[u8; KEY_LEN]>>>,
}

impl KeyRing {
    /// A ring with one key, which is active.
    #[must_use]
    pub fn single(id: KeyId, key: [u8; KEY_LEN]) -> Self {
        let key = Arc::new(Secret::new(key));
        Self {
            keys: BTreeMap::from([(id.clone(), Arc::clone(&key))]),
            active: id,
            active_key: key,
        }
    }

    /// Parses `id=base64key` entries separated by commas, semicolons or newlines; the first
    /// entry is the active key. Blank lines and lines starting with `#` are ignored, so the same
    /// text works as an environment variable and as a key file. Base64 may be standard or
    /// URL-safe, padded or not.
    ///
    /// # Errors
    /// A [`KeyRingError`] naming the bad entry (never its key).
    pub fn parse(spec: &str) -> Result<Self, KeyRingError> {
        let mut active: Option<(KeyId, Arc<Secret<[u8; KEY_LEN]>>)> = None;
        let mut keys = BTreeMap::new();
        let entries = spec
            .split(['\n', ',', ';'])
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'));
        for (index, entry) in entries.enumerate() {
            let (id, key) = entry
                .split_once('=')
                .ok_or(KeyRingError::Malformed(index + 1))?;
            let id = KeyId::new(id.trim())?;
            let key =
                decode_key(key.trim()).ok_or_else(|| KeyRingError::InvalidKey(id.to_string()))?;
            if keys.contains_key(&id) {
                return Err(KeyRingError::DuplicateId(id.to_string()));
            }
            let key = Arc::new(Secret::new(key));
            active.get_or_insert_with(|| (id.clone(), Arc::clone(&key)));
            keys.insert(id, key);
        }
        let (active, active_key) = active.ok_or(KeyRingError::Empty)?;
        Ok(Self {
            active,
            active_key,
            keys,
        })
    }

    /// Adds an older key that still verifies but does not sign.
    ///
    /// # Errors
    /// [`KeyRingError::DuplicateId`] when the id is already present.
    pub fn with_key(mut self, id: KeyId, key: [u8; KEY_LEN]) -> Result<Self, KeyRingError> {
        if self.keys.contains_key(&id) {
            return Err(KeyRingError::DuplicateId(id.to_string()));
        }
        self.keys.insert(id, Arc::new(Secret::new(key)));
        Ok(self)
    }

    /// Makes another key of the ring the active one (rotation).
    ///
    /// # Errors
    /// [`KeyRingError::UnknownId`] when no key has that id.
    pub fn with_active(mut self, id: &KeyId) -> Result<Self, KeyRingError> {
        let key = self
            .keys
            .get(id)
            .ok_or_else(|| KeyRingError::UnknownId(id.to_string()))?;
        self.active_key = Arc::clone(key);
        self.active = id.clone();
        Ok(self)
    }

    /// The id of the key new data is protected with.
    #[must_use]
    pub fn active_id(&self) -> &KeyId {
        &self.active
    }

    /// The active key.
    #[must_use]
    pub fn active_key(&self) -> &[u8; KEY_LEN] {
        self.active_key.expose_secret()
    }

    /// The key with `id`, if the ring holds it.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&[u8; KEY_LEN]> {
        let id = KeyId::new(id).ok()?;
        self.keys.get(&id).map(|key| key.expose_secret())
    }

    /// Every key id in the ring, in sorted order.
    pub fn ids(&self) -> impl Iterator<Item = &KeyId> {
        self.keys.keys()
    }

    /// Encodes a key the way [`KeyRing::parse`] reads it (URL-safe base64 without padding).
    #[must_use]
    pub fn encode_key(key: &[u8; KEY_LEN]) -> String {
        URL_SAFE_NO_PAD.encode(key)
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("active", &self.active)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn decode_key(text: &str) -> Option<[u8; KEY_LEN]> {
    let trimmed = text.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| STANDARD.decode(text))
        .ok()?;
    let bytes = zeroize::Zeroizing::new(bytes);
    <[u8; KEY_LEN]>::try_from(bytes.as_slice()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_text(byte: u8) -> String {
        KeyRing::encode_key(&[byte; KEY_LEN])
    }

    #[test]
    fn parses_entries_and_activates_the_first() {
        let spec = format!(
            "# audit keys\n2026-11={}\n\n2026-05 = {}\n",
            key_text(1),
            key_text(2)
        );
        let ring = KeyRing::parse(&spec).unwrap();
        assert_eq!(ring.active_id().as_str(), "2026-11");
        assert_eq!(ring.active_key(), &[1; KEY_LEN]);
        assert_eq!(ring.get("2026-05"), Some(&[2; KEY_LEN]));
        assert_eq!(ring.get("missing"), None);
        let ids: Vec<_> = ring.ids().map(KeyId::as_str).collect();
        assert_eq!(ids, ["2026-05", "2026-11"]);
    }

    #[test]
    fn accepts_standard_padded_base64_and_commas() {
        let padded = STANDARD.encode([9u8; KEY_LEN]);
        let ring = KeyRing::parse(&format!("a={padded},b={}", key_text(3))).unwrap();
        assert_eq!(ring.active_key(), &[9; KEY_LEN]);
    }

    #[test]
    fn rejects_bad_specs_with_typed_errors() {
        assert_eq!(KeyRing::parse("").unwrap_err(), KeyRingError::Empty);
        assert_eq!(
            KeyRing::parse(" # only a comment").unwrap_err(),
            KeyRingError::Empty
        );
        assert_eq!(
            KeyRing::parse("nokey").unwrap_err(),
            KeyRingError::Malformed(1)
        );
        assert_eq!(
            KeyRing::parse("bad id=AAAA").unwrap_err(),
            KeyRingError::InvalidId
        );
        assert_eq!(
            KeyRing::parse("short=AAAA").unwrap_err(),
            KeyRingError::InvalidKey("short".into())
        );
        let dup = format!("k={},k={}", key_text(1), key_text(2));
        assert_eq!(
            KeyRing::parse(&dup).unwrap_err(),
            KeyRingError::DuplicateId("k".into())
        );
    }

    #[test]
    fn rotation_keeps_old_keys_for_verification() {
        let old = KeyId::new("old").unwrap();
        let new = KeyId::new("new").unwrap();
        let ring = KeyRing::single(old.clone(), [1; KEY_LEN])
            .with_key(new.clone(), [2; KEY_LEN])
            .unwrap()
            .with_active(&new)
            .unwrap();
        assert_eq!(ring.active_id(), &new);
        assert_eq!(ring.get("old"), Some(&[1; KEY_LEN]));
        assert_eq!(ring.active_key(), &[2; KEY_LEN]);
        assert!(ring.with_active(&KeyId::new("gone").unwrap()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_specs_never_panic(spec in "\\PC{0,300}") {
            let _ = KeyRing::parse(&spec);
        }

        #[test]
        fn generated_keys_round_trip(bytes in proptest::array::uniform32(0u8..), id in "[A-Za-z0-9._-]{1,64}") {
            let ring = KeyRing::parse(&format!("{id}={}", KeyRing::encode_key(&bytes))).unwrap();
            proptest::prop_assert_eq!(ring.active_id().as_str(), id.as_str());
            proptest::prop_assert_eq!(ring.active_key(), &bytes);
        }
    }

    #[test]
    fn debug_never_shows_key_material() {
        let ring = KeyRing::parse(&format!("k={}", key_text(0xAB))).unwrap();
        let shown = format!("{ring:?}");
        assert!(shown.contains("\"k\"") || shown.contains("KeyId(\"k\")"));
        assert!(!shown.contains("171"), "{shown}");
        assert!(!shown.contains(&key_text(0xAB)));
    }
}
