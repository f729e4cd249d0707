//! Service tokens: issue, rotate, export, and every refusal the verifier owes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;
use soc2_core::ManualClock;
use soc2_session::jwt::{JwtError, ServiceAlgorithm, ServiceKey, ServiceKeySet, ServiceTokens};
use time::macros::datetime;

const MINUTE: Duration = Duration::from_secs(60);

struct Fixture {
    clock: Arc<ManualClock>,
    tokens: ServiceTokens,
    /// The Ed25519 key "ed-1" as DER, to forge tokens with a valid signature.
    der: Vec<u8>,
}

fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
    let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .unwrap()
        .as_ref()
        .to_vec();
    let keys =
        ServiceKeySet::new(ServiceKey::from_pkcs8("ed-1", ServiceAlgorithm::EdDsa, &der).unwrap())
            .rotate_to(ServiceKey::generate("es-1", ServiceAlgorithm::Es256).unwrap())
            .unwrap();
    let tokens = ServiceTokens::new(keys, "https://auth.example", clock.clone());
    Fixture { clock, tokens, der }
}

impl Fixture {
    fn clock_now(&self) -> time::OffsetDateTime {
        soc2_core::Clock::now(self.clock.as_ref())
    }

    /// Signs `claims` under `header` with the real "ed-1" key.
    fn forge(&self, header: &Header, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(header, claims, &EncodingKey::from_ed_der(&self.der)).unwrap()
    }

    fn verify(&self, token: &str) -> Result<soc2_session::jwt::ServiceClaims, JwtError> {
        self.tokens.verify(token.as_bytes(), "billing")
    }
}

fn ed_header() -> Header {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    header.kid = Some("ed-1".into());
    header
}

fn good_claims() -> serde_json::Value {
    let now = datetime!(2026-11-23 09:00 UTC).unix_timestamp();
    json!({"iss": "https://auth.example", "sub": "svc-orders", "aud": "billing",
           "exp": now + 300, "nbf": now, "iat": now, "jti": "j-1"})
}

fn without(claim: &str) -> serde_json::Value {
    let mut claims = good_claims();
    claims.as_object_mut().unwrap().remove(claim);
    claims
}

/// `header.claims.signature` with an arbitrary header and signature bytes.
fn raw_token(header: &serde_json::Value, claims: &serde_json::Value, signature: &[u8]) -> String {
    let encode =
        |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap());
    format!(
        "{}.{}.{}",
        encode(header),
        encode(claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[test]
fn issued_tokens_verify_with_the_newest_key() {
    let f = fixture();
    let token = f
        .tokens
        .issue("svc-orders", "billing", 5 * MINUTE, Some("invoices:read"))
        .unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(
        (header.alg, header.kid.as_deref(), header.typ.as_deref()),
        (Algorithm::ES256, Some("es-1"), Some("at+jwt"))
    );
    let claims = f.verify(&token).unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.aud.as_str()),
        ("svc-orders", "billing")
    );
    assert_eq!(claims.exp - claims.iat, 300);
    assert_eq!(claims.scope.as_deref(), Some("invoices:read"));
    assert_eq!(
        f.tokens.verify(token.as_bytes(), "payroll"),
        Err(JwtError::WrongAudience)
    );
}

#[test]
fn older_keys_verify_until_retired() {
    let f = fixture();
    let old = f.forge(&ed_header(), &good_claims());
    f.verify(&old).unwrap();
    let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let retiring = ServiceKey::from_pkcs8("ed-1", ServiceAlgorithm::EdDsa, &f.der)
        .unwrap()
        .with_retire_after(datetime!(2026-11-23 09:01 UTC));
    let keys = ServiceKeySet::new(retiring)
        .rotate_to(ServiceKey::from_pkcs8("ed-2", ServiceAlgorithm::EdDsa, der.as_ref()).unwrap())
        .unwrap();
    let tokens = ServiceTokens::new(keys, "https://auth.example", f.clock.clone());
    tokens.verify(old.as_bytes(), "billing").unwrap();
    f.clock.advance(2 * MINUTE);
    assert_eq!(
        tokens.verify(old.as_bytes(), "billing"),
        Err(JwtError::RetiredKey)
    );
    let fresh = tokens.issue("svc-orders", "billing", MINUTE, None).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&fresh).unwrap().kid.as_deref(),
        Some("ed-2")
    );
    tokens.verify(fresh.as_bytes(), "billing").unwrap();
}

#[test]
fn jwks_lists_public_keys_only() {
    let f = fixture();
    let jwks = serde_json::to_value(f.tokens.jwks()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let public = Ed25519KeyPair::from_pkcs8(&f.der)
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert_eq!(keys[0]["x"], URL_SAFE_NO_PAD.encode(public));
    assert_eq!(
        (
            keys[0]["kid"].as_str(),
            keys[0]["alg"].as_str(),
            keys[0]["use"].as_str()
        ),
        (Some("ed-1"), Some("EdDSA"), Some("sig"))
    );
    assert_eq!(
        (
            keys[1]["kty"].as_str(),
            keys[1]["crv"].as_str(),
            keys[1]["alg"].as_str()
        ),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
    assert!(keys.iter().all(|key| key.get("d").is_none()));
}

#[test]
fn alg_none_is_refused() {
    let f = fixture();
    let token = raw_token(
        &json!({"alg": "none", "typ": "at+jwt", "kid": "ed-1"}),
        &good_claims(),
        b"",
    );
    assert_eq!(
        f.verify(&token),
        Err(JwtError::UnsupportedAlgorithm("none".into()))
    );
}

#[test]
fn hmac_with_the_public_key_is_refused() {
    let f = fixture();
    // The classic confusion: HS256 keyed with the verifier's public key, which anyone has.
    let public = Ed25519KeyPair::from_pkcs8(&f.der)
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": "ed-1"});
    let unsigned = raw_token(&header, &good_claims(), b"");
    let message = unsigned.rsplit_once('.').unwrap().0;
    let mac = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public),
        message.as_bytes(),
    );
    let token = format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
    assert_eq!(
        f.verify(&token),
        Err(JwtError::UnsupportedAlgorithm("HS256".into()))
    );
    // The right family under the wrong key is refused too.
    let mut es_header = ed_header();
    es_header.kid = Some("es-1".into());
    assert_eq!(
        f.verify(&f.forge(&es_header, &good_claims())),
        Err(JwtError::AlgorithmMismatch)
    );
}

#[test]
fn key_material_in_the_header_is_refused() {
    let f = fixture();
    for (name, value) in [
        ("jku", json!("https://attacker.example/jwks.json")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("x5c", json!(["MIIB..."])),
        ("jwk", json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"})),
    ] {
        let mut header = serde_json::to_value(ed_header()).unwrap();
        header[name] = value;
        let token = raw_token(&header, &good_claims(), &[0; 64]);
        assert_eq!(f.verify(&token), Err(JwtError::ForbiddenHeader(name)));
    }
}

#[test]
fn every_required_claim_is_checked_by_name() {
    let f = fixture();
    for claim in ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"] {
        let token = f.forge(&ed_header(), &without(claim));
        assert_eq!(
            f.verify(&token),
            Err(JwtError::MissingClaim(claim)),
            "{claim}"
        );
    }
    let mut wrong_issuer = good_claims();
    wrong_issuer["iss"] = json!("https://evil.example");
    assert_eq!(
        f.verify(&f.forge(&ed_header(), &wrong_issuer)),
        Err(JwtError::WrongIssuer)
    );
    let mut no_typ = ed_header();
    no_typ.typ = None;
    assert_eq!(
        f.verify(&f.forge(&no_typ, &good_claims())),
        Err(JwtError::WrongType)
    );
    let mut jwt_typ = ed_header();
    jwt_typ.typ = Some("JWT".into());
    assert_eq!(
        f.verify(&f.forge(&jwt_typ, &good_claims())),
        Err(JwtError::WrongType)
    );
    let mut unknown = ed_header();
    unknown.kid = Some("nope".into());
    assert_eq!(
        f.verify(&f.forge(&unknown, &good_claims())),
        Err(JwtError::UnknownKey)
    );
}

#[test]
fn expiry_and_not_before_use_the_injected_clock_with_leeway() {
    let f = fixture();
    let token = f.forge(&ed_header(), &good_claims()); // exp = 09:05, nbf = 09:00
    f.clock.set(datetime!(2026-11-23 08:59:31 UTC));
    f.verify(&token).unwrap();
    f.clock.set(datetime!(2026-11-23 08:59:29 UTC));
    assert_eq!(f.verify(&token), Err(JwtError::NotYetValid));
    f.clock.set(datetime!(2026-11-23 09:05:29 UTC));
    f.verify(&token).unwrap();
    f.clock.set(datetime!(2026-11-23 09:05:30 UTC));
    assert_eq!(f.verify(&token), Err(JwtError::Expired));
}

#[test]
fn tampering_breaks_the_signature() {
    let f = fixture();
    let token = f
        .tokens
        .issue("svc-orders", "billing", MINUTE, None)
        .unwrap();
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("svc-admin");
    let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    parts[1] = &forged;
    assert_eq!(f.verify(&parts.join(".")), Err(JwtError::BadSignature));
    assert_eq!(f.verify(&"a".repeat(9000)), Err(JwtError::Malformed));
    assert_eq!(f.verify("not.a.jwt"), Err(JwtError::Malformed));
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let f = fixture();
        proptest::prop_assert!(f.tokens.verify(&bytes, "billing").is_err());
    }
}

/// A deny list whose backend is down.
#[derive(Debug)]
struct Unreachable;

#[async_trait::async_trait]
impl soc2_session::jwt::TokenDenyList for Unreachable {
    async fn deny(&self, _: &str, _: time::OffsetDateTime) -> Result<(), soc2_core::StoreError> {
        Err(soc2_core::StoreError::Unavailable("down".into()))
    }

    async fn is_denied(
        &self,
        _: &str,
        _: time::OffsetDateTime,
    ) -> Result<bool, soc2_core::StoreError> {
        Err(soc2_core::StoreError::Unavailable("down".into()))
    }

    async fn purge_expired(&self, _: time::OffsetDateTime) -> Result<u64, soc2_core::StoreError> {
        Err(soc2_core::StoreError::Unavailable("down".into()))
    }
}

#[tokio::test]
async fn revoked_tokens_are_refused_until_they_expire() {
    use soc2_session::jwt::TokenDenyList;

    let f = fixture();
    let deny_list = soc2_session::MemorySessionStore::new();
    let revoked = f
        .tokens
        .issue("svc-orders", "billing", 5 * MINUTE, None)
        .unwrap();
    let other = f
        .tokens
        .issue("svc-orders", "billing", 5 * MINUTE, None)
        .unwrap();
    let claims = f.verify(&revoked).unwrap();
    f.tokens.revoke(&claims, &deny_list).await.unwrap();

    assert_eq!(
        f.tokens
            .verify_unrevoked(revoked.as_bytes(), "billing", &deny_list)
            .await,
        Err(JwtError::Revoked)
    );
    f.tokens
        .verify_unrevoked(other.as_bytes(), "billing", &deny_list)
        .await
        .unwrap();
    // Fail closed when the list cannot be read.
    assert_eq!(
        f.tokens
            .verify_unrevoked(other.as_bytes(), "billing", &Unreachable)
            .await,
        Err(JwtError::DenyListUnavailable)
    );
    assert_eq!(
        f.tokens.revoke(&claims, &Unreachable).await,
        Err(JwtError::DenyListUnavailable)
    );
    // Once the token could not be used anyway, its denial can go.
    f.clock.advance(5 * MINUTE + Duration::from_secs(30));
    assert_eq!(deny_list.purge_expired(f.clock_now()).await.unwrap(), 1);
}
