//! Opaque, single-use login challenges: 256 random bits handed to the client, stored only as
//! their SHA-256 in the `MfaStore`'s ceremony table.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use soc2_core::SecretString;
use time::OffsetDateTime;

use crate::mfa::MfaError;

/// The prefix of every challenge token, so secret scanners recognise a leaked one.
pub const CHALLENGE_PREFIX: &str = "soc2c_";

/// A challenge token and what it allows; `Debug` hides the token.
pub struct Challenge {
    token: SecretString,
    expires_at: OffsetDateTime,
}

impl Challenge {
    /// A fresh token expiring at `expires_at`, and its digest to store.
    pub(super) fn generate(expires_at: OffsetDateTime) -> Result<(Self, [u8; 32]), MfaError> {
        let mut random = zeroize::Zeroizing::new([0u8; 32]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), random.as_mut())
            .map_err(|_| MfaError::Random)?;
        let token = format!(
            "{CHALLENGE_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(random.as_ref())
        );
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

/// The stored digest of a presented token (any text: an unknown token simply matches nothing).
pub(super) fn digest(token: &str) -> [u8; 32] {
    let mut digest = [0u8; 32];
    digest.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref());
    digest
}
