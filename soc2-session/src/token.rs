//! Session tokens: 256 random bits behind a recognisable prefix, stored only as a SHA-256 digest.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use soc2_audit::SessionRef;
use soc2_core::SecretString;
use zeroize::Zeroizing;

/// The prefix of every session token, so secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "soc2s_";
/// Random bytes in a token: 256 bits (OWASP ASVS 4.0.3 V3.2.2 asks for at least 64).
const TOKEN_BYTES: usize = 32;
/// Length of the base64url encoding of `TOKEN_BYTES` without padding.
const ENCODED_LEN: usize = 43;
/// Length of a whole token.
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + ENCODED_LEN;

/// Why a token was refused. Deliberately one kind: callers answer "invalid session" whatever
/// was wrong, and the token's content never reaches the error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a soc2-rs session token (wrong prefix, length or characters).
    #[error("invalid session token")]
    Invalid,
    /// The operating system's random generator failed.
    #[error("the operating system's random generator failed")]
    Random,
}

/// A session token as handed to the client (cookie or bearer). Its text never appears in
/// `Debug`, logs or audit events.
#[derive(Debug)]
pub struct SessionToken(SecretString);

impl SessionToken {
    /// A new token from the OS CSPRNG.
    ///
    /// # Errors
    /// [`TokenError::Random`] when the random generator fails.
    pub fn generate() -> Result<Self, TokenError> {
        let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| TokenError::Random)?;
        let mut text = String::with_capacity(TOKEN_LEN);
        text.push_str(TOKEN_PREFIX);
        URL_SAFE_NO_PAD.encode_string(bytes.as_ref(), &mut text);
        Ok(Self(SecretString::new(text)))
    }

    /// Parses what a client sent, which may be any bytes.
    ///
    /// # Errors
    /// [`TokenError::Invalid`] for a wrong prefix, length or character.
    pub fn parse(presented: &[u8]) -> Result<Self, TokenError> {
        let encoded = presented
            .strip_prefix(TOKEN_PREFIX.as_bytes())
            .filter(|rest| rest.len() == ENCODED_LEN)
            .ok_or(TokenError::Invalid)?;
        if !encoded
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            return Err(TokenError::Invalid);
        }
        // All-ASCII and checked above, so this cannot fail; it stays a typed error anyway.
        let text = std::str::from_utf8(presented).map_err(|_| TokenError::Invalid)?;
        Ok(Self(SecretString::from(text)))
    }

    /// The SHA-256 digest under which the session is stored.
    #[must_use]
    pub fn digest(&self) -> TokenDigest {
        let hash = digest::digest(&digest::SHA256, self.0.expose_secret().as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(hash.as_ref());
        TokenDigest(bytes)
    }

    /// The token text, to set as a cookie or return to the client. Nowhere else.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The SHA-256 digest of a session token: what stores keep and look sessions up by. A stolen
/// database yields digests, not usable tokens.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// Wraps a stored digest.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The short reference audit events carry.
    #[must_use]
    pub fn session_ref(&self) -> SessionRef {
        SessionRef::of_digest(&self.0)
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest({})", self.session_ref().as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_digest_stably() {
        let token = SessionToken::generate().unwrap();
        assert_eq!(token.expose_secret().len(), TOKEN_LEN);
        assert!(token.expose_secret().starts_with("soc2s_"));
        let parsed = SessionToken::parse(token.expose_secret().as_bytes()).unwrap();
        assert_eq!(parsed.digest(), token.digest());
        assert_ne!(SessionToken::generate().unwrap().digest(), token.digest());
        assert_eq!(format!("{token:?}"), "SessionToken(Secret([redacted]))");
    }

    #[test]
    fn digest_is_sha256_of_the_text() {
        let token =
            SessionToken::parse(b"soc2s_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        let expected = digest::digest(
            &digest::SHA256,
            b"soc2s_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        );
        assert_eq!(token.digest().as_bytes().as_slice(), expected.as_ref());
        assert_eq!(
            token.digest().session_ref(),
            SessionRef::of_digest(expected.as_ref())
        );
    }

    #[test]
    fn malformed_tokens_are_invalid() {
        let good = SessionToken::generate().unwrap();
        let good = good.expose_secret().as_bytes();
        let mut wrong_char = good.to_vec();
        wrong_char[10] = b'+';
        let mut non_utf8 = good.to_vec();
        non_utf8[10] = 0xFF;
        let cases: [&[u8]; 7] = [
            b"",
            &good[..good.len() - 1],
            &[good, b"A"].concat(),
            &[b"soc2x_", &good[6..]].concat(),
            &wrong_char,
            &non_utf8,
            &vec![b'A'; 10 * 1024 * 1024],
        ];
        for case in cases {
            assert_eq!(SessionToken::parse(case).unwrap_err(), TokenError::Invalid);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..128)) {
            let _ = SessionToken::parse(&bytes);
        }

        #[test]
        fn prefixed_arbitrary_bytes_parse_only_when_well_formed(tail in proptest::collection::vec(proptest::num::u8::ANY, 43)) {
            let presented = [TOKEN_PREFIX.as_bytes(), &tail].concat();
            let well_formed = tail.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_');
            proptest::prop_assert_eq!(SessionToken::parse(&presented).is_ok(), well_formed);
        }
    }
}
