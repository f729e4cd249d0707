//! Service-token verification (EdDSA and ES256) beside calling jsonwebtoken directly with the
//! same key and the usual checks. Prints paired medians (SDK and raw calls alternating).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use jsonwebtoken::{DecodingKey, Validation};
use soc2_core::SystemClock;
use soc2_session::jwt::{
    ServiceAlgorithm, ServiceClaims, ServiceKey, ServiceKeySet, ServiceTokens,
};

const ISSUER: &str = "https://auth.example";

/// A one-key issuer, one of its tokens, and jsonwebtoken's own key and validation for it.
fn setup(algorithm: ServiceAlgorithm) -> (ServiceTokens, String, DecodingKey, Validation) {
    let key = ServiceKey::generate("k1", algorithm).unwrap();
    let tokens = ServiceTokens::new(ServiceKeySet::new(key), ISSUER, Arc::new(SystemClock));
    let token = tokens
        .issue("svc-orders", "billing", Duration::from_secs(3600), None)
        .unwrap();
    let jwks = tokens.jwks();
    let decoding = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
    let mut validation = Validation::new(jsonwebtoken::decode_header(&token).unwrap().alg);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&["billing"]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    (tokens, token, decoding, validation)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn jwt_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("jwt_verify");
    let mut paired = Vec::new();
    for (name, algorithm) in [
        ("eddsa", ServiceAlgorithm::EdDsa),
        ("es256", ServiceAlgorithm::Es256),
    ] {
        let (tokens, token, decoding, validation) = setup(algorithm);
        let sdk = || tokens.verify(token.as_bytes(), "billing").unwrap();
        let raw = || jsonwebtoken::decode::<ServiceClaims>(&token, &decoding, &validation).unwrap();
        group.bench_function(format!("{name}/sdk_verify"), |b| b.iter(sdk));
        group.bench_function(format!("{name}/raw_jsonwebtoken_decode"), |b| b.iter(raw));
        let (mut sdk_times, mut raw_times) = (Vec::new(), Vec::new());
        for _ in 0..3000 {
            let start = Instant::now();
            std::hint::black_box(sdk());
            sdk_times.push(start.elapsed());
            let start = Instant::now();
            std::hint::black_box(raw());
            raw_times.push(start.elapsed());
        }
        paired.push((name, median(sdk_times), median(raw_times)));
    }
    group.finish();
    for (name, sdk, raw) in paired {
        println!(
            "{name}: verify = {:.3}x jsonwebtoken::decode (paired medians of 3000 calls: SDK {sdk:?}, raw {raw:?})",
            sdk.as_secs_f64() / raw.as_secs_f64()
        );
    }
}

criterion_group!(benches, jwt_verify);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
