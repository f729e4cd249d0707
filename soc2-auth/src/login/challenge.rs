//! Opaque, single-use challenges (logins and passkey ceremonies): 256 random bits handed to the
//! client, stored only as their SHA-256 in the `MfaStore`'s ceremony table.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use soc2_core::SecretString;
use time::OffsetDateTime;

/// The prefix of every challenge token, so secret scanners recognise a leaked one.
pub const CHALLENGE_PREFIX: &str = "soc2c_";

/// A challenge token and what it allows; `Debug` hides the token.
pub struct Challenge {
    token: SecretString,
    expires_at: OffsetDateTime,
}

impl Challenge {
    /// A fresh challenge token expiring at `expires_at`, and its digest to store.
    pub(crate) fn generate(
        expires_at: OffsetDateTime,
    ) -> Result<(Self, [u8; 32]), ring::error::Unspecified> {
        Self::with_prefix(CHALLENGE_PREFIX, expires_at)
    }

    /// A fresh token of 256 random bits after `prefix`, and its digest to store.
    pub(crate) fn with_prefix(
        prefix: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(Self, [u8; 32]), ring::error::Unspecified> {
        let mut random = zeroize::Zeroizing::new([0u8; 32]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), random.as_mut())?;
        let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random.as_ref()));
        let digest = digest(&token);
        Ok((
            Self {
                token: SecretString::from(token),
                expires_at,
            },
            digest,
        ))
    }

    /// The token to hand to the client (once).
    #[must_use]
    pub fn token(&self) -> &SecretString {
        &self.token
    }

    /// When it stops working.
    #[must_use]
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }
}

impl fmt::Debug for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Challenge")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The longest token accepted for a look-up (real ones are 49 characters).
const MAX_TOKEN_LEN: usize = 128;

/// The stored digest of a presented token, or `None` when it cannot be one of ours (wrong
/// prefix, oversized): such a token is not even looked up.
pub(crate) fn presented(token: &str) -> Option<[u8; 32]> {
    presented_with_prefix(CHALLENGE_PREFIX, token)
}

/// As [`presented`], for tokens made by [`Challenge::with_prefix`] with `prefix`.
pub(crate) fn presented_with_prefix(prefix: &str, token: &str) -> Option<[u8; 32]> {
    (token.starts_with(prefix) && token.len() <= MAX_TOKEN_LEN).then(|| digest(token))
}

/// The stored digest of a token.
fn digest(token: &str) -> [u8; 32] {
    let mut digest = [0u8; 32];
    digest.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref());
    digest
}
