//! The session cookie: its name, its attributes, and reading it back.

use soc2_session::SessionToken;

const HOST_NAME: &str = "__Host-soc2_session";
const DEV_NAME: &str = "soc2_session";

/// The session cookie: `__Host-soc2_session`, `Secure`, `HttpOnly`, `SameSite=Strict`,
/// `Path=/`, and no `Max-Age` (the server's idle and absolute timeouts end the session; the
/// browser forgets the cookie when it closes).
///
/// The `__Host-` prefix makes browsers refuse the cookie unless it is `Secure`, host-only and
/// `Path=/`, so a sibling subdomain cannot plant or shadow it (OWASP ASVS 4.0.3 V3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie {
    secure: bool,
}

impl Default for SessionCookie {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionCookie {
    /// The secure cookie described above.
    #[must_use]
    pub fn new() -> Self {
        Self { secure: true }
    }

    /// Drops `Secure` and the `__Host-` prefix (the cookie is then `soc2_session`), so a
    /// browser keeps the cookie on plain-HTTP `localhost` during development.
    ///
    /// # Warning
    /// Without `Secure` the token travels in clear text over any plain-HTTP connection and
    /// a network attacker can steal the session. Never use this behind a real host name.
    #[must_use]
    pub fn dangerous_insecure_for_plain_http_localhost(mut self) -> Self {
        self.secure = false;
        self
    }

    /// The cookie's name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        if self.secure { HOST_NAME } else { DEV_NAME }
    }

    /// Whether the cookie carries `Secure` (false only in development mode).
    #[must_use]
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The `Set-Cookie` value that hands `token` to the browser.
    #[must_use]
    pub fn set(&self, token: &SessionToken) -> String {
        self.header_value(token.expose_secret(), "")
    }

    /// The `Set-Cookie` value that makes the browser forget the cookie (after logout).
    #[must_use]
    pub fn clear(&self) -> String {
        self.header_value("", "; Max-Age=0")
    }

    fn header_value(&self, value: &str, extra: &str) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{extra}",
            self.name()
        )
    }

    /// The value of this cookie in the request's `Cookie` header values, if sent.
    pub(crate) fn find<'a, I>(&self, cookie_headers: I) -> Option<&'a str>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        cookie_headers
            .into_iter()
            .filter_map(|value| std::str::from_utf8(value).ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name())
            .map(|(_, value)| value.trim())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn secure_cookie_has_every_attribute() {
        let token = SessionToken::generate().unwrap();
        let cookie = SessionCookie::new();
        assert_eq!(
            cookie.set(&token),
            format!(
                "__Host-soc2_session={}; Path=/; HttpOnly; SameSite=Strict; Secure",
                token.expose_secret()
            )
        );
        assert_eq!(
            cookie.clear(),
            "__Host-soc2_session=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0"
        );
    }

    #[test]
    fn development_cookie_drops_secure_and_prefix() {
        let cookie = SessionCookie::new().dangerous_insecure_for_plain_http_localhost();
        assert_eq!(
            cookie.clear(),
            "soc2_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }

    #[test]
    fn finds_the_cookie_among_others() {
        let headers: [&[u8]; 3] = [
            b"a=1; soc2_session=x",
            b"\xff=garbage",
            b"__Host-soc2_session=tok; b=2",
        ];
        assert_eq!(SessionCookie::new().find(headers), Some("tok"));
        let dev = SessionCookie::new().dangerous_insecure_for_plain_http_localhost();
        assert_eq!(dev.find(headers), Some("x"));
        assert_eq!(SessionCookie::new().find([]), None);
    }
}
