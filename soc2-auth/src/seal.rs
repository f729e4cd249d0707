//! Secrets at rest that must be read back (TOTP seeds): AES-256-GCM under a versioned
//! [`KeyRing`], bound to their owner and purpose.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use soc2_core::{KeyId, KeyRing};
use zeroize::Zeroizing;

/// The stored format's version prefix.
const FORMAT: &str = "v1";

/// Seals and opens secrets with AES-256-GCM. New seals use the ring's active key; the key id
/// is stored with the ciphertext and, with the owner and the purpose, bound as associated
/// data, so a ciphertext copied to another user's row, or used for another purpose, fails to
/// open. Keys come from the environment or a file, never from the database.
#[derive(Clone)]
pub struct Sealer {
    keys: Arc<KeyRing>,
}

/// Why a sealed secret could not be opened or made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The stored text is not a sealed secret of this format.
    #[error("sealed secret is malformed")]
    Malformed,
    /// It was sealed under a key that is not in the ring (retired too early).
    #[error("sealed under key `{0}`, which is not configured")]
    UnknownKey(String),
    /// Authentication failed: wrong owner or purpose, tampered data or wrong key.
    #[error("sealed secret does not open for this owner and purpose")]
    Rejected,
    /// The system random generator failed.
    #[error("system random generator failed")]
    Random,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("active_key", self.keys.active_id())
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer over `keys` (32-byte keys; the active one seals).
    #[must_use]
    pub fn new(keys: KeyRing) -> Self {
        Self {
            keys: Arc::new(keys),
        }
    }

    /// The key new seals use.
    #[must_use]
    pub fn active_key(&self) -> &KeyId {
        self.keys.active_id()
    }

    /// Seals `plaintext` for `owner` and `purpose`: `v1.<key id>.<nonce ‖ ciphertext ‖ tag>`.
    ///
    /// # Errors
    /// [`SealError::Random`].
    pub fn seal(&self, owner: &str, purpose: &str, plaintext: &[u8]) -> Result<String, SealError> {
        let key_id = self.keys.active_id();
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut sealed = plaintext.to_vec();
        key(self.keys.active_key())
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(key_id.as_str(), owner, purpose)),
                &mut sealed,
            )
            .map_err(|_| SealError::Rejected)?;
        let mut body = nonce.to_vec();
        body.extend_from_slice(&sealed);
        Ok(format!(
            "{FORMAT}.{key_id}.{}",
            URL_SAFE_NO_PAD.encode(body)
        ))
    }

    /// Opens what [`Sealer::seal`] produced for the same owner and purpose.
    ///
    /// # Errors
    /// [`SealError::Malformed`], [`SealError::UnknownKey`] or [`SealError::Rejected`].
    pub fn open(
        &self,
        owner: &str,
        purpose: &str,
        sealed: &str,
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (key_id, body) = parse(sealed)?;
        let secret = self
            .keys
            .get(key_id)
            .ok_or_else(|| SealError::UnknownKey(key_id.to_owned()))?;
        if body.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = body.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Malformed)?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plaintext_len = key(secret)
            .open_in_place(nonce, Aad::from(aad(key_id, owner, purpose)), &mut buffer)
            .map_err(|_| SealError::Rejected)?
            .len();
        buffer.truncate(plaintext_len);
        Ok(buffer)
    }

    /// The key id a sealed value names (for re-sealing and for refusing to retire a key that
    /// still has rows).
    ///
    /// # Errors
    /// [`SealError::Malformed`].
    pub fn key_of(sealed: &str) -> Result<KeyId, SealError> {
        let (key_id, _) = parse(sealed)?;
        KeyId::new(key_id).map_err(|_| SealError::Malformed)
    }

    /// Whether `sealed` uses an older key than the active one (re-seal it).
    ///
    /// # Errors
    /// [`SealError::Malformed`].
    pub fn needs_reseal(&self, sealed: &str) -> Result<bool, SealError> {
        Ok(&Self::key_of(sealed)? != self.keys.active_id())
    }
}

fn parse(sealed: &str) -> Result<(&str, Vec<u8>), SealError> {
    let mut parts = sealed.splitn(3, '.');
    let (Some(FORMAT), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(SealError::Malformed);
    };
    let body = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| SealError::Malformed)?;
    Ok((key_id, body))
}

fn key(secret: &[u8; soc2_core::KEY_LEN]) -> LessSafeKey {
    // AES-256 takes exactly the ring's 32-byte keys, so this cannot fail.
    match UnboundKey::new(&AES_256_GCM, secret) {
        Ok(key) => LessSafeKey::new(key),
        Err(_) => unreachable_key_length(),
    }
}

#[allow(clippy::panic)]
fn unreachable_key_length() -> ! {
    panic!("AES-256-GCM rejected a {}-byte key", soc2_core::KEY_LEN)
}

/// Associated data: every field length-prefixed, so no two triples encode alike.
fn aad(key_id: &str, owner: &str, purpose: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(key_id.len() + owner.len() + purpose.len() + 12);
    for field in [key_id, owner, purpose] {
        aad.extend_from_slice(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
        aad.extend_from_slice(field.as_bytes());
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(active: &str) -> KeyRing {
        KeyRing::single(KeyId::new("k1").unwrap(), [1; 32])
            .with_key(KeyId::new("k2").unwrap(), [2; 32])
            .unwrap()
            .with_active(&KeyId::new(active).unwrap())
            .unwrap()
    }

    #[test]
    fn seals_and_opens_for_the_same_owner_and_purpose_only() {
        let sealer = Sealer::new(ring("k1"));
        let sealed = sealer.seal("user-a", "totp", b"seed bytes").unwrap();
        assert!(sealed.starts_with("v1.k1."), "{sealed}");
        assert_eq!(
            sealer.open("user-a", "totp", &sealed).unwrap().as_slice(),
            b"seed bytes"
        );
        assert_eq!(
            sealer.open("user-b", "totp", &sealed),
            Err(SealError::Rejected)
        );
        assert_eq!(
            sealer.open("user-a", "webauthn", &sealed),
            Err(SealError::Rejected)
        );
        // Two seals of one secret differ (fresh nonces).
        assert_ne!(
            sealed,
            sealer.seal("user-a", "totp", b"seed bytes").unwrap()
        );
    }

    #[test]
    fn rotation_keeps_old_seals_readable_and_flags_them() {
        let old = Sealer::new(ring("k1")).seal("u", "totp", b"s").unwrap();
        let rotated = Sealer::new(ring("k2"));
        assert_eq!(rotated.open("u", "totp", &old).unwrap().as_slice(), b"s");
        assert!(rotated.needs_reseal(&old).unwrap());
        let fresh = rotated.seal("u", "totp", b"s").unwrap();
        assert!(!rotated.needs_reseal(&fresh).unwrap());
        assert_eq!(Sealer::key_of(&fresh).unwrap().as_str(), "k2");
        let retired = Sealer::new(KeyRing::single(KeyId::new("k2").unwrap(), [2; 32]));
        assert_eq!(
            retired.open("u", "totp", &old),
            Err(SealError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn tampering_and_garbage_are_typed_errors() {
        let sealer = Sealer::new(ring("k1"));
        let sealed = sealer.seal("u", "totp", b"secret").unwrap();
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(sealer.open("u", "totp", &flipped), Err(SealError::Rejected));
        for garbage in ["", "v1", "v1.k1", "v2.k1.AAAA", "v1.k1.!!!", "v1.k1.AAAA"] {
            assert!(
                matches!(sealer.open("u", "totp", garbage), Err(SealError::Malformed)),
                "{garbage}"
            );
        }
        assert!(
            !format!("{sealer:?}").contains("[1"),
            "no key bytes in Debug"
        );
    }
}
