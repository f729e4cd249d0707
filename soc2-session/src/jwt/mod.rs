//! JWT service tokens: short-lived, signed with EdDSA or ES256, verified strictly.
//!
//! Verification refuses, each with its own error: a token over 8 KiB, a header with `jku`,
//! `x5u`, `x5c` or `jwk` (key material must never come from the token), a `typ` other than
//! `at+jwt` (RFC 9068), an algorithm other than the one the `kid`'s key is pinned to (this
//! covers `alg: none` and HMAC-with-the-public-key confusion), a bad signature, a retired key,
//! and every missing or wrong claim among `iss`, `sub`, `aud`, `exp`, `nbf`, `iat` and `jti`.
//! Time comes from the injected clock.

mod deny;
mod keys;
mod provider;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use soc2_core::{Clock, EventId};

pub use deny::TokenDenyList;
pub use keys::{ServiceAlgorithm, ServiceKey, ServiceKeySet};

/// The `typ` header of every service token (RFC 9068 access tokens).
pub const TOKEN_TYPE: &str = "at+jwt";
/// Longest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Clock skew tolerated on `exp` and `nbf` (RFC 7519 §4.1.4 allows "a small leeway").
pub const LEEWAY: Duration = Duration::from_secs(30);

/// Why a service token was refused (or could not be issued).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not a JWT: wrong shape, bad base64 or JSON, or over [`MAX_TOKEN_BYTES`].
    #[error("malformed token")]
    Malformed,
    /// The header names an algorithm service tokens never use (`none`, `HS256`, `RS256`...).
    #[error("algorithm `{0}` is not accepted")]
    UnsupportedAlgorithm(String),
    /// The header names another algorithm than the one the `kid`'s key is pinned to.
    #[error("the algorithm does not match the key")]
    AlgorithmMismatch,
    /// The header carries a key or a key location (`jku`, `x5u`, `x5c`, `jwk`).
    #[error("header `{0}` is not accepted")]
    ForbiddenHeader(&'static str),
    /// The `typ` header is missing or not `at+jwt`.
    #[error("token type must be `{TOKEN_TYPE}`")]
    WrongType,
    /// No `kid`, or no key with it.
    #[error("unknown signing key")]
    UnknownKey,
    /// The key was retired after a rotation.
    #[error("the signing key is retired")]
    RetiredKey,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// A required claim is absent or has the wrong type.
    #[error("claim `{0}` is missing or malformed")]
    MissingClaim(&'static str),
    /// `iss` is not the expected issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not name this service.
    #[error("wrong audience")]
    WrongAudience,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// A key could not be generated or loaded.
    #[error("signing key: {0}")]
    Key(&'static str),
    /// The token could not be signed.
    #[error("token could not be signed")]
    Signing,
    /// The token was revoked (its `jti` is on the deny list).
    #[error("token revoked")]
    Revoked,
    /// The deny list could not be read; the token is refused (fail closed).
    #[error("token deny list unavailable")]
    DenyListUnavailable,
}

/// The claims of a service token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the calling service or user.
    pub sub: String,
    /// Audience: the one service the token is for (a single string; arrays are refused).
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch.
    pub nbf: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Unique token id, for revocation.
    pub jti: String,
    /// Space-separated scopes, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Issues and verifies the service tokens of one issuer.
#[derive(Debug, Clone)]
pub struct ServiceTokens {
    keys: Arc<ServiceKeySet>,
    issuer: String,
    clock: Arc<dyn Clock>,
}

/// The header fields verification looks at, read before any cryptography.
#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    typ: Option<String>,
    kid: Option<String>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl ServiceTokens {
    /// Tokens issued as `issuer`, signed with the newest key of `keys`.
    #[must_use]
    pub fn new(keys: ServiceKeySet, issuer: &str, clock: Arc<dyn Clock>) -> Self {
        provider::install();
        Self {
            keys: Arc::new(keys),
            issuer: issuer.to_owned(),
            clock,
        }
    }

    /// The public keys, as a JWKS document.
    #[must_use]
    pub fn jwks(&self) -> jsonwebtoken::jwk::JwkSet {
        self.keys.jwks()
    }

    /// A token for `subject` to call `audience`, valid for `ttl` from now.
    ///
    /// # Errors
    /// [`JwtError::Signing`] when signing fails.
    pub fn issue(
        &self,
        subject: &str,
        audience: &str,
        ttl: Duration,
        scope: Option<&str>,
    ) -> Result<String, JwtError> {
        let key = self
            .keys
            .signing()
            .ok_or(JwtError::Key("the key set is empty"))?;
        let now = self.clock.now().unix_timestamp();
        let claims = ServiceClaims {
            iss: self.issuer.clone(),
            sub: subject.to_owned(),
            aud: audience.to_owned(),
            exp: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
            nbf: now,
            iat: now,
            jti: EventId::new_v7().to_string(),
            scope: scope.map(str::to_owned),
        };
        let mut header = Header::new(key.algorithm().jwt());
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.kid = Some(key.kid().to_owned());
        jsonwebtoken::encode(&header, &claims, key.encoding()).map_err(|_| JwtError::Signing)
    }

    /// Verifies `token` for this service (`audience`) and returns its claims.
    ///
    /// # Errors
    /// The first [`JwtError`] found, in the order: size and shape, header, key, signature,
    /// claims.
    pub fn verify(&self, token: &[u8], audience: &str) -> Result<ServiceClaims, JwtError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwtError::Malformed);
        }
        let header = read_header(token)?;
        for forbidden in ["jku", "x5u", "x5c", "jwk"] {
            if header.rest.contains_key(forbidden) {
                return Err(JwtError::ForbiddenHeader(forbidden));
            }
        }
        let algorithm = match header.alg.ok_or(JwtError::Malformed)?.as_str() {
            "EdDSA" => ServiceAlgorithm::EdDsa,
            "ES256" => ServiceAlgorithm::Es256,
            other => return Err(JwtError::UnsupportedAlgorithm(other.to_owned())),
        };
        if header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(JwtError::WrongType);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.find(kid))
            .ok_or(JwtError::UnknownKey)?;
        if key.algorithm() != algorithm {
            return Err(JwtError::AlgorithmMismatch);
        }
        let now = self.clock.now();
        if key.retired_at(now) {
            return Err(JwtError::RetiredKey);
        }
        let claims = verified_claims(token, key)?;
        self.check_claims(&claims, audience, now.unix_timestamp())
    }

    /// Like [`ServiceTokens::verify`], and also refuses a token whose `jti` is on `deny_list`.
    ///
    /// # Errors
    /// As `verify`, plus [`JwtError::Revoked`], and [`JwtError::DenyListUnavailable`] when the
    /// list cannot be read (fail closed).
    pub async fn verify_unrevoked(
        &self,
        token: &[u8],
        audience: &str,
        deny_list: &dyn TokenDenyList,
    ) -> Result<ServiceClaims, JwtError> {
        let claims = self.verify(token, audience)?;
        match deny_list.is_denied(&claims.jti, self.clock.now()).await {
            Ok(false) => Ok(claims),
            Ok(true) => Err(JwtError::Revoked),
            Err(_) => Err(JwtError::DenyListUnavailable),
        }
    }

    /// Revokes a verified token until it expires.
    ///
    /// # Errors
    /// [`JwtError::DenyListUnavailable`] when the list cannot be written.
    pub async fn revoke(
        &self,
        claims: &ServiceClaims,
        deny_list: &dyn TokenDenyList,
    ) -> Result<(), JwtError> {
        let until = time::OffsetDateTime::from_unix_timestamp(
            claims.exp.saturating_add(LEEWAY.as_secs() as i64),
        )
        .map_err(|_| JwtError::MissingClaim("exp"))?;
        deny_list
            .deny(&claims.jti, until)
            .await
            .map_err(|_| JwtError::DenyListUnavailable)
    }

    fn check_claims(
        &self,
        claims: &Map<String, Value>,
        audience: &str,
        now: i64,
    ) -> Result<ServiceClaims, JwtError> {
        let text = |name: &'static str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .ok_or(JwtError::MissingClaim(name))
        };
        let seconds = |name: &'static str| {
            claims
                .get(name)
                .and_then(Value::as_i64)
                .ok_or(JwtError::MissingClaim(name))
        };
        let (iss, sub, jti) = (text("iss")?, text("sub")?, text("jti")?);
        let (exp, nbf, iat) = (seconds("exp")?, seconds("nbf")?, seconds("iat")?);
        let aud = text("aud")?;
        if iss != self.issuer {
            return Err(JwtError::WrongIssuer);
        }
        if aud != audience {
            return Err(JwtError::WrongAudience);
        }
        let leeway = LEEWAY.as_secs() as i64;
        if now >= exp.saturating_add(leeway) {
            return Err(JwtError::Expired);
        }
        if now < nbf.saturating_sub(leeway) {
            return Err(JwtError::NotYetValid);
        }
        Ok(ServiceClaims {
            iss: iss.to_owned(),
            sub: sub.to_owned(),
            aud: aud.to_owned(),
            exp,
            nbf,
            iat,
            jti: jti.to_owned(),
            scope: claims
                .get("scope")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// Parses the header segment without trusting anything in it yet.
fn read_header(token: &[u8]) -> Result<RawHeader, JwtError> {
    let segment = token
        .split(|b| *b == b'.')
        .next()
        .ok_or(JwtError::Malformed)?;
    let json = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| JwtError::Malformed)
}

/// Checks the signature with `key` (its algorithm pinned) and returns the claims as JSON.
fn verified_claims(token: &[u8], key: &ServiceKey) -> Result<Map<String, Value>, JwtError> {
    let mut validation = Validation::new(key.algorithm().jwt());
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Map<String, Value>>(token, key.decoding(), &validation)
        .map(|data| data.claims)
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => JwtError::BadSignature,
            _ => JwtError::Malformed,
        })
}
