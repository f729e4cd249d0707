//! `PasskeyConfig`: the relying party, its origins and the ceremony lifetime, validated.

use std::time::Duration;

use webauthn_rs::prelude::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use super::PasskeyError;

/// How long a ceremony (its options in the browser, its state on the server) stays usable:
/// the W3C WebAuthn Level 3 §15.1 recommended default timeout for ceremonies that require
/// user verification, 5 minutes (also OWASP ASVS 4.0.3 V2.8.1's bound on one-time
/// authenticator lifetimes).
pub const DEFAULT_CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);

/// The shortest and longest ceremony lifetimes accepted: W3C WebAuthn Level 3 §15.1
/// recommends 30 seconds to 3 minutes without user verification and 5 to 10 minutes with it;
/// this range spans both.
pub const CEREMONY_TTL_RANGE: (Duration, Duration) =
    (Duration::from_secs(30), Duration::from_secs(10 * 60));

/// The relying party: its id (a registrable domain), display name and the exact origins
/// allowed to run ceremonies, built into a WebAuthn verifier.
#[derive(Debug, Clone)]
pub struct PasskeyConfig {
    rp_id: String,
    rp_name: String,
    origins: Vec<Url>,
    ceremony_ttl: Duration,
    webauthn: Webauthn,
}

impl PasskeyConfig {
    /// A relying party `rp_id` (e.g. `example.com`) named `rp_name`, accepting ceremonies
    /// from `origins` (e.g. `https://app.example.com`), each of which must be `https` (or
    /// `http://localhost`) on `rp_id` or a subdomain of it (W3C WebAuthn Level 3 §5.1.3,
    /// §13.4.9). No other origin, subdomain or port is accepted.
    ///
    /// # Errors
    /// [`PasskeyError::Config`] naming what is wrong.
    pub fn new(rp_id: &str, rp_name: &str, origins: &[&str]) -> Result<Self, PasskeyError> {
        if rp_id.is_empty() || rp_name.trim().is_empty() {
            return Err(config("the relying party id and name must not be empty"));
        }
        if origins.is_empty() {
            return Err(config("at least one origin is required"));
        }
        let origins = origins
            .iter()
            .map(|origin| parse_origin(origin, rp_id))
            .collect::<Result<Vec<_>, _>>()?;
        let webauthn = build(rp_id, rp_name, &origins, DEFAULT_CEREMONY_TTL)?;
        Ok(Self {
            rp_id: rp_id.to_owned(),
            rp_name: rp_name.to_owned(),
            origins,
            ceremony_ttl: DEFAULT_CEREMONY_TTL,
            webauthn,
        })
    }

    /// Sets how long ceremonies stay usable (default [`DEFAULT_CEREMONY_TTL`]).
    ///
    /// # Errors
    /// [`PasskeyError::Config`] outside [`CEREMONY_TTL_RANGE`].
    pub fn with_ceremony_ttl(mut self, ttl: Duration) -> Result<Self, PasskeyError> {
        let (shortest, longest) = CEREMONY_TTL_RANGE;
        if !(shortest..=longest).contains(&ttl) {
            return Err(config(
                "the ceremony lifetime must be between 30 s and 10 min",
            ));
        }
        self.webauthn = build(&self.rp_id, &self.rp_name, &self.origins, ttl)?;
        self.ceremony_ttl = ttl;
        Ok(self)
    }

    /// The relying party id.
    #[must_use]
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// How long ceremonies stay usable.
    #[must_use]
    pub fn ceremony_ttl(&self) -> Duration {
        self.ceremony_ttl
    }

    pub(super) fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}

fn config(message: &str) -> PasskeyError {
    PasskeyError::Config(message.to_owned())
}

/// An origin as WebAuthn compares it: a scheme, host and port only, secure, on `rp_id`.
fn parse_origin(origin: &str, rp_id: &str) -> Result<Url, PasskeyError> {
    let url = Url::parse(origin).map_err(|_| config(&format!("`{origin}` is not a URL")))?;
    let host = url.host_str().unwrap_or_default();
    let secure = url.scheme() == "https" || (url.scheme() == "http" && host == "localhost");
    if !secure {
        return Err(config(&format!(
            "`{origin}` is not https (only http://localhost may be plain)"
        )));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(config(&format!(
            "`{origin}` has more than scheme, host and port"
        )));
    }
    if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
        return Err(config(&format!(
            "`{origin}` is not on the relying party id `{rp_id}`"
        )));
    }
    Ok(url)
}

fn build(
    rp_id: &str,
    rp_name: &str,
    origins: &[Url],
    ttl: Duration,
) -> Result<Webauthn, PasskeyError> {
    let invalid = |_| config("the WebAuthn library refused the relying party");
    let (first, others) = origins
        .split_first()
        .ok_or_else(|| config("at least one origin is required"))?;
    others
        .iter()
        .fold(
            WebauthnBuilder::new(rp_id, first).map_err(invalid)?,
            |builder, origin| builder.append_allowed_origin(origin),
        )
        .rp_name(rp_name)
        .timeout(ttl)
        .build()
        .map_err(invalid)
}
