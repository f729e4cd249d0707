//! CSRF protection for cookie sessions: a per-session token and an origin check.
//!
//! The token is `HMAC-SHA256(key = session token, "soc2-rs csrf v1")`, base64url. It needs no
//! storage and no server key (so it works across instances and restarts), changes whenever
//! the session token rotates, and cannot be turned back into the session token, so a page
//! may embed it. A cross-site attacker cannot compute it without the cookie.

use std::fmt;
use std::net::Ipv6Addr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
                match origin_of(origin) {
                    Some((normalized, "" | "/")) => Ok(normalized),
                    _ => Err(ConfigError::InvalidOrigin(origin.to_owned())),
                }
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Checks the `Origin` header's value, or `Referer`'s when no `Origin` was sent.
    pub(crate) fn check(&self, origin: Option<&[u8]>, referer: Option<&[u8]>) -> OriginCheck {
        let Some(sent) = origin.or(referer) else {
            return OriginCheck::Missing;
        };
        let origin = std::str::from_utf8(sent).ok().and_then(origin_of);
        match origin {
            Some((origin, _)) if self.0.contains(&origin) => OriginCheck::Allowed,
            _ => OriginCheck::Refused,
        }
    }
}

/// `scheme://authority` in lower case for an `http` or `https` URL with a plain host (no user
/// information), and the rest of the URL (path, query, fragment).
fn origin_of(url: &str) -> Option<(String, &str)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    is_host_and_port(authority).then(|| {
        (
            format!("{scheme}://{}", authority.to_ascii_lowercase()),
            tail,
        )
    })
}

/// `host[:port]` where the host is a DNS name, an IPv4 address or a bracketed IPv6 address.
fn is_host_and_port(authority: &str) -> bool {
    let (host_ok, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let Some((ip, rest)) = bracketed.split_once(']') else {
                return false;
            };
            let port = match rest {
                "" => None,
                _ => match rest.strip_prefix(':') {
                    Some(port) => Some(port),
                    None => return false,
                },
            };
            (ip.parse::<Ipv6Addr>().is_ok(), port)
        }
        None => {
            let (host, port) = match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            };
            let name = !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
            (name, port)
        }
    };
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
    });
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

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
        let allowed = AllowedOrigins::new([
            "HTTPS://App.Example",
            "http://127.0.0.1:8080/",
            "http://[::1]:3000",
        ])
        .unwrap();
        let check = |origin: Option<&str>, referer: Option<&str>| {
            allowed.check(origin.map(str::as_bytes), referer.map(str::as_bytes))
        };
        assert_eq!(
            check(Some("https://app.example"), None),
            OriginCheck::Allowed
        );
        assert_eq!(check(Some("http://[::1]:3000"), None), OriginCheck::Allowed);
        assert_eq!(
            check(None, Some("http://127.0.0.1:8080/a?b")),
            OriginCheck::Allowed
        );
        assert_eq!(
            check(Some("https://evil.example"), Some("https://app.example/")),
            OriginCheck::Refused
        );
        for refused in [
            "null",
            "https://app.example.evil.example",
            "https://app.example:444",
            "https://u@app.example",
            "https://app.example\u{ff}",
        ] {
            assert_eq!(
                check(Some(refused), None),
                OriginCheck::Refused,
                "{refused}"
            );
        }
        assert_eq!(
            allowed.check(Some(b"\xff"), Some(b"https://app.example")),
            OriginCheck::Refused
        );
        assert_eq!(check(None, None), OriginCheck::Missing);
        for bad in [
            "ftp://x",
            "https://x/path",
            "https://x?q",
            "x.example",
            "https://u@x",
            "https://",
            "https://x:",
            "https://x:123456",
            "https://[::1",
            "https://[nope]",
            "https://x]",
            "https://[::1]x",
        ] {
            assert_eq!(
                AllowedOrigins::new([bad]),
                Err(ConfigError::InvalidOrigin(bad.into())),
                "{bad}"
            );
        }
    }
}
