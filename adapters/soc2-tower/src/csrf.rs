//! CSRF protection for cookie sessions: a per-session token and an origin check.
//!
//! The token is `HMAC-SHA256(key = session token, "soc2-rs csrf v1")`, base64url. It needs no
//! storage and no server key (so it works across instances and restarts), changes whenever
//! the session token rotates, and cannot be turned back into the session token, so a page
//! may embed it. A cross-site attacker cannot compute it without the cookie.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{ORIGIN, REFERER};
use http::{HeaderMap, Uri};
use ring::hmac;
use soc2_session::SessionToken;

use crate::ConfigError;

/// The request header that must carry the [`CsrfToken`] on unsafe cookie-authenticated
/// requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

const LABEL: &[u8] = b"soc2-rs csrf v1";

/// The CSRF token of one session; give it to the client with the login answer.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

impl CsrfToken {
    /// The token of the session whose token is `session`.
    #[must_use]
    pub fn for_session(session: &SessionToken) -> Self {
        let tag = hmac::sign(&key(session), LABEL);
        Self(URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The token text, for the client.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is the token of `session` (constant time).
    pub(crate) fn verify(session: &SessionToken, presented: &[u8]) -> bool {
        URL_SAFE_NO_PAD
            .decode(presented)
            .is_ok_and(|tag| hmac::verify(&key(session), LABEL, &tag).is_ok())
    }
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken([redacted])")
    }
}

fn key(session: &SessionToken) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, session.expose_secret().as_bytes())
}

/// The origins (`scheme://host[:port]`) whose pages may send unsafe cookie-authenticated
/// requests. Empty by default, which refuses every unsafe cookie-authenticated request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

/// What the `Origin` (or, without it, `Referer`) header says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OriginCheck {
    /// From an allowed origin.
    Allowed,
    /// Neither header was sent.
    Missing,
    /// From another origin, or unreadable.
    Refused,
}

impl AllowedOrigins {
    /// Parses origins such as `"https://app.example"` or `"http://127.0.0.1:8080"`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidOrigin`] for anything with another scheme, a path, a query or
    /// no host.
    pub fn new<I, S>(origins: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        origins
            .into_iter()
            .map(|origin| {
                let origin = origin.as_ref();
                let uri: Uri = origin
                    .parse()
                    .map_err(|_| ConfigError::InvalidOrigin(origin.to_owned()))?;
                let bare = matches!(uri.path_and_query().map(|p| p.as_str()), None | Some("/"));
                match origin_of(&uri) {
                    Some(normalized) if bare => Ok(normalized),
                    _ => Err(ConfigError::InvalidOrigin(origin.to_owned())),
                }
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Checks `Origin`, or `Referer` when no `Origin` was sent.
    pub(crate) fn check(&self, headers: &HeaderMap) -> OriginCheck {
        let sent = headers.get(ORIGIN).or_else(|| headers.get(REFERER));
        let Some(sent) = sent else {
            return OriginCheck::Missing;
        };
        let origin = sent
            .to_str()
            .ok()
            .and_then(|text| text.parse::<Uri>().ok())
            .and_then(|uri| origin_of(&uri));
        match origin {
            Some(origin) if self.0.contains(&origin) => OriginCheck::Allowed,
            _ => OriginCheck::Refused,
        }
    }
}

/// `scheme://authority` in lower case, for `http` and `https` URIs with a host.
fn origin_of(uri: &Uri) -> Option<String> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let plain = (scheme == "http" || scheme == "https") && !authority.as_str().contains('@');
    plain.then(|| format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn token_is_bound_to_the_session() {
        let session = SessionToken::generate().unwrap();
        let other = SessionToken::generate().unwrap();
        let csrf = CsrfToken::for_session(&session);
        assert!(CsrfToken::verify(&session, csrf.as_str().as_bytes()));
        assert!(!CsrfToken::verify(&other, csrf.as_str().as_bytes()));
        assert!(!CsrfToken::verify(&session, b"not base64 !"));
        assert!(!CsrfToken::verify(&session, b""));
        assert_eq!(format!("{csrf:?}"), "CsrfToken([redacted])");
    }

    #[test]
    fn origins_are_normalized_and_validated() {
        let allowed =
            AllowedOrigins::new(["HTTPS://App.Example", "http://127.0.0.1:8080/"]).unwrap();
        assert_eq!(
            allowed.check(&headers(&[("origin", "https://app.example")])),
            OriginCheck::Allowed
        );
        assert_eq!(
            allowed.check(&headers(&[("referer", "http://127.0.0.1:8080/a?b")])),
            OriginCheck::Allowed
        );
        assert_eq!(
            allowed.check(&headers(&[("origin", "https://evil.example")])),
            OriginCheck::Refused
        );
        assert_eq!(
            allowed.check(&headers(&[("origin", "null")])),
            OriginCheck::Refused
        );
        assert_eq!(allowed.check(&HeaderMap::new()), OriginCheck::Missing);
        for bad in ["ftp://x", "https://x/path", "x.example", "https://u@x"] {
            assert_eq!(
                AllowedOrigins::new([bad]),
                Err(ConfigError::InvalidOrigin(bad.into()))
            );
        }
    }
}
