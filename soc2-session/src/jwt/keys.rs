//! Signing keys for service tokens: a set with `kid`s, the newest signs, any unretired verifies.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use time::OffsetDateTime;

use super::JwtError;

/// The algorithms service tokens may use: both small, fast, and without RSA's pitfalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceAlgorithm {
    /// Ed25519 (RFC 8037).
    EdDsa,
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
    Es256,
}

impl ServiceAlgorithm {
    pub(crate) fn jwt(self) -> Algorithm {
        match self {
            Self::EdDsa => Algorithm::EdDSA,
            Self::Es256 => Algorithm::ES256,
        }
    }
}

/// One signing key. The private half never leaves it (`Debug` shows only the id).
pub struct ServiceKey {
    kid: String,
    algorithm: ServiceAlgorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
    retire_after: Option<OffsetDateTime>,
}

impl fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("retire_after", &self.retire_after)
            .finish_non_exhaustive()
    }
}

impl ServiceKey {
    /// A new key from the OS CSPRNG.
    ///
    /// # Errors
    /// [`JwtError::Key`] when the random generator or key generation fails.
    pub fn generate(kid: &str, algorithm: ServiceAlgorithm) -> Result<Self, JwtError> {
        let rng = SystemRandom::new();
        let pkcs8 = match algorithm {
            ServiceAlgorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng),
            ServiceAlgorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            }
        }
        .map_err(|_| JwtError::Key("key generation failed"))?;
        Self::from_pkcs8(kid, algorithm, pkcs8.as_ref())
    }

    /// A key from its PKCS#8 DER encoding (as stored in a secrets manager).
    ///
    /// # Errors
    /// [`JwtError::Key`] when the DER is not a key of `algorithm` or `kid` is empty.
    pub fn from_pkcs8(
        kid: &str,
        algorithm: ServiceAlgorithm,
        der: &[u8],
    ) -> Result<Self, JwtError> {
        if kid.is_empty() || kid.len() > 64 {
            return Err(JwtError::Key("a key id is 1 to 64 characters"));
        }
        let common = CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_id: Some(kid.to_owned()),
            ..CommonParameters::default()
        };
        let (encoding, decoding, jwk) = match algorithm {
            ServiceAlgorithm::EdDsa => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .map_err(|_| JwtError::Key("not an Ed25519 PKCS#8 key"))?;
                let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
                let decoding = DecodingKey::from_ed_components(&x)
                    .map_err(|_| JwtError::Key("bad Ed25519 public key"))?;
                let jwk = Jwk {
                    common: CommonParameters {
                        key_algorithm: Some(KeyAlgorithm::EdDSA),
                        ..common
                    },
                    algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                        key_type: OctetKeyPairType::OctetKeyPair,
                        curve: EllipticCurve::Ed25519,
                        x,
                    }),
                };
                (EncodingKey::from_ed_der(der), decoding, jwk)
            }
            ServiceAlgorithm::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    der,
                    &SystemRandom::new(),
                )
                .map_err(|_| JwtError::Key("not a P-256 PKCS#8 key"))?;
                let point = pair.public_key().as_ref();
                let (x, y) = (
                    URL_SAFE_NO_PAD.encode(&point[1..33]),
                    URL_SAFE_NO_PAD.encode(&point[33..65]),
                );
                let decoding = DecodingKey::from_ec_components(&x, &y)
                    .map_err(|_| JwtError::Key("bad P-256 public key"))?;
                let jwk = Jwk {
                    common: CommonParameters {
                        key_algorithm: Some(KeyAlgorithm::ES256),
                        ..common
                    },
                    algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                        key_type: EllipticCurveKeyType::EC,
                        curve: EllipticCurve::P256,
                        x,
                        y,
                    }),
                };
                (EncodingKey::from_ec_der(der), decoding, jwk)
            }
        };
        Ok(Self {
            kid: kid.to_owned(),
            algorithm,
            encoding,
            decoding,
            jwk,
            retire_after: None,
        })
    }

    /// Stops accepting tokens signed with this key after `at` (the end of a rotation).
    #[must_use]
    pub fn with_retire_after(mut self, at: OffsetDateTime) -> Self {
        self.retire_after = Some(at);
        self
    }

    /// The key id (`kid`).
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key is pinned to.
    #[must_use]
    pub fn algorithm(&self) -> ServiceAlgorithm {
        self.algorithm
    }

    pub(crate) fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }

    pub(crate) fn retired_at(&self, now: OffsetDateTime) -> bool {
        self.retire_after.is_some_and(|at| now > at)
    }
}

/// The signing keys of one issuer: the newest signs, every unretired key verifies.
#[derive(Debug)]
pub struct ServiceKeySet {
    /// Oldest first; the last one signs.
    keys: Vec<ServiceKey>,
}

impl ServiceKeySet {
    /// A set whose only (and signing) key is `key`.
    #[must_use]
    pub fn new(key: ServiceKey) -> Self {
        Self { keys: vec![key] }
    }

    /// Adds `key` as the newest, signing key; earlier keys keep verifying until retired.
    ///
    /// # Errors
    /// [`JwtError::Key`] when the `kid` is already in the set.
    pub fn rotate_to(mut self, key: ServiceKey) -> Result<Self, JwtError> {
        if self.find(&key.kid).is_some() {
            return Err(JwtError::Key("the key id is already in the set"));
        }
        self.keys.push(key);
        Ok(self)
    }

    /// The public keys as a JWKS document, for services that verify these tokens.
    #[must_use]
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().map(|key| key.jwk.clone()).collect(),
        }
    }

    pub(crate) fn signing(&self) -> Option<&ServiceKey> {
        self.keys.last()
    }

    pub(crate) fn find(&self, kid: &str) -> Option<&ServiceKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }
}
