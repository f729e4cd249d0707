//! TOTP (RFC 6238): settings, secrets, enrolment material and code checks, on totp-rs.

use std::fmt;

use soc2_core::SecretString;
use totp_rs::{Algorithm, Secret, Totp};
use zeroize::Zeroizing;

use super::MfaError;

/// Secret length in bytes: 160 bits, the length RFC 4226 §4 (R6) recommends and NIST SP
/// 800-63B-4 §3.1.4.1's 112-bit minimum exceeds.
pub const TOTP_SECRET_BYTES: usize = 20;

/// The HMAC a TOTP uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TotpAlgorithm {
    /// HMAC-SHA-1: what every authenticator app supports (RFC 6238 §1.2 default).
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

/// How codes are made and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct TotpSettings {
    algorithm: TotpAlgorithm,
    digits: u8,
    skew: u8,
    issuer: String,
}

/// A malformed code: refused before any comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeFormatError {
    /// Not exactly the configured number of characters.
    #[error("the code must have {digits} digits")]
    Length {
        /// Digits expected.
        digits: u8,
    },
    /// Something other than the ASCII digits 0-9 (Unicode digits included).
    #[error("the code must contain only the digits 0-9")]
    NotDigits,
}

impl TotpSettings {
    /// SHA-1, 6 digits, 30-second steps (RFC 6238 §4 and §5.2), one step of skew either side
    /// (RFC 6238 §5.2 recommends at most one step of network delay), for `issuer` (the name
    /// authenticator apps show).
    pub fn new(issuer: &str) -> Self {
        Self {
            algorithm: TotpAlgorithm::Sha1,
            digits: 6,
            skew: 1,
            issuer: issuer.to_owned(),
        }
    }

    /// Sets the algorithm (SHA-256/512 are not supported by every app).
    pub fn with_algorithm(mut self, algorithm: TotpAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sets the digits (6 to 8, RFC 4226 §5.3).
    ///
    /// # Errors
    /// [`MfaError::Config`] outside 6..=8.
    pub fn with_digits(mut self, digits: u8) -> Result<Self, MfaError> {
        if !(6..=8).contains(&digits) {
            return Err(MfaError::Config(format!(
                "TOTP digits must be 6 to 8, not {digits}"
            )));
        }
        self.digits = digits;
        Ok(self)
    }

    /// Sets how many 30-second steps either side of the server's time are accepted (0 to 2).
    ///
    /// # Errors
    /// [`MfaError::Config`] above 2 (a wider window weakens the code).
    pub fn with_skew(mut self, skew: u8) -> Result<Self, MfaError> {
        if skew > 2 {
            return Err(MfaError::Config(format!(
                "TOTP skew must be 0 to 2 steps, not {skew}"
            )));
        }
        self.skew = skew;
        Ok(self)
    }

    /// The step length in seconds (RFC 6238 §5.2's 30 s).
    #[must_use]
    pub const fn step_seconds(&self) -> u64 {
        30
    }

    /// The time step `code` is valid for at `unix_seconds` (server time only), within the
    /// skew, compared in constant time; `None` for a wrong code.
    ///
    /// # Errors
    /// [`CodeFormatError`] for anything but exactly `digits` ASCII digits, before any
    /// comparison.
    pub fn matching_step(
        &self,
        secret: &[u8],
        code: &str,
        unix_seconds: u64,
    ) -> Result<Option<u64>, CodeFormatError> {
        let code = self.parse_code(code)?;
        Ok(self.totp(secret, "").check(code, unix_seconds))
    }

    /// The code for `unix_seconds` (tests, and showing a code to compare during support).
    #[must_use]
    pub fn code_at(&self, secret: &[u8], unix_seconds: u64) -> String {
        self.totp(secret, "").generate(unix_seconds).to_string()
    }

    /// The `otpauth://totp/...` URI (it contains the secret: show it once, never log it).
    ///
    /// # Errors
    /// [`MfaError::Config`] when the issuer or account name cannot go in a URI (e.g. `:`).
    pub fn otpauth_uri(&self, secret: &[u8], account: &str) -> Result<SecretString, MfaError> {
        let totp = self.totp(secret, account);
        totp.to_url()
            .map(SecretString::from)
            .map_err(|e| MfaError::Config(format!("cannot build the otpauth URI: {e}")))
    }

    fn parse_code<'a>(&self, code: &'a str) -> Result<&'a str, CodeFormatError> {
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeFormatError::NotDigits);
        }
        if code.len() != usize::from(self.digits) {
            return Err(CodeFormatError::Length {
                digits: self.digits,
            });
        }
        Ok(code)
    }

    fn totp(&self, secret: &[u8], account: &str) -> Totp {
        let algorithm = match self.algorithm {
            TotpAlgorithm::Sha1 => Algorithm::SHA1,
            TotpAlgorithm::Sha256 => Algorithm::SHA256,
            TotpAlgorithm::Sha512 => Algorithm::SHA512,
        };
        totp_rs::Builder::new()
            .with_algorithm(algorithm)
            .with_digits(self.digits)
            .with_skew(u16::from(self.skew))
            .with_step_duration(self.step_seconds())
            .with_secret(Secret::from(secret.to_vec()))
            .with_issuer(Some(self.issuer.as_str()))
            .with_account_name(account)
            .build_noncompliant()
    }
}

/// A fresh TOTP secret from the OS random generator.
pub(super) fn generate_secret() -> Result<Zeroizing<Vec<u8>>, MfaError> {
    let mut secret = Zeroizing::new(vec![0u8; TOTP_SECRET_BYTES]);
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
        .map_err(|_| MfaError::Random)?;
    Ok(secret)
}

/// The secret in RFC 4648 base32, for typing into an authenticator app by hand.
pub(super) fn base32(secret: &[u8]) -> SecretString {
    SecretString::from(Secret::from(secret.to_vec()).to_base32())
}

/// What a user needs to add the factor to an authenticator app. Shown once; `Debug` hides the
/// secret.
#[non_exhaustive]
pub struct TotpEnrollment {
    /// The secret in base32, for typing in by hand.
    pub secret_base32: SecretString,
    /// The `otpauth://` URI.
    pub otpauth_uri: SecretString,
    /// The URI as a QR code, SVG.
    pub qr_svg: SecretString,
    /// The URI as a QR code, PNG.
    pub qr_png: Vec<u8>,
}

impl fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpEnrollment([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the seeds and the 8-digit codes for each algorithm.
    #[test]
    fn rfc6238_appendix_b_vectors() {
        let sha1 = b"12345678901234567890".as_slice();
        let sha256 = b"12345678901234567890123456789012".as_slice();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".as_slice();
        let vectors: [(u64, [&str; 3]); 6] = [
            (59, ["94287082", "46119246", "90693936"]),
            (1_111_111_109, ["07081804", "68084774", "25091201"]),
            (1_111_111_111, ["14050471", "67062674", "99943326"]),
            (1_234_567_890, ["89005924", "91819424", "93441116"]),
            (2_000_000_000, ["69279037", "90698825", "38618901"]),
            (20_000_000_000, ["65353130", "77737706", "47863826"]),
        ];
        let settings = |algorithm| {
            TotpSettings::new("RFC")
                .with_algorithm(algorithm)
                .with_digits(8)
                .unwrap()
                .with_skew(0)
                .unwrap()
        };
        for (time, codes) in vectors {
            for ((algorithm, seed), code) in [
                (TotpAlgorithm::Sha1, sha1),
                (TotpAlgorithm::Sha256, sha256),
                (TotpAlgorithm::Sha512, sha512),
            ]
            .into_iter()
            .zip(codes)
            {
                let settings = settings(algorithm);
                assert_eq!(
                    settings.code_at(seed, time),
                    code,
                    "{algorithm:?} at {time}"
                );
                assert_eq!(
                    settings.matching_step(seed, code, time),
                    Ok(Some(time / 30)),
                    "{algorithm:?} at {time}"
                );
            }
        }
    }

    #[test]
    fn skew_allows_one_step_either_side_only() {
        let settings = TotpSettings::new("Acme");
        let seed = [7u8; TOTP_SECRET_BYTES];
        let now = 1_800_000_000;
        let code = settings.code_at(&seed, now);
        assert_eq!(
            settings.matching_step(&seed, &code, now + 30),
            Ok(Some(now / 30))
        );
        assert_eq!(
            settings.matching_step(&seed, &code, now - 30),
            Ok(Some(now / 30))
        );
        assert_eq!(settings.matching_step(&seed, &code, now + 60), Ok(None));
    }

    #[test]
    fn malformed_codes_are_refused_before_comparison() {
        let settings = TotpSettings::new("Acme");
        let seed = [7u8; TOTP_SECRET_BYTES];
        for (code, error) in [
            ("12345", CodeFormatError::Length { digits: 6 }),
            ("1234567", CodeFormatError::Length { digits: 6 }),
            ("", CodeFormatError::Length { digits: 6 }),
            ("12a456", CodeFormatError::NotDigits),
            ("123 456", CodeFormatError::NotDigits),
            ("١٢٣٤٥٦", CodeFormatError::NotDigits),
            ("１２３４５６", CodeFormatError::NotDigits),
        ] {
            assert_eq!(settings.matching_step(&seed, code, 0), Err(error), "{code}");
        }
        assert!(TotpSettings::new("Acme").with_digits(9).is_err());
        assert!(TotpSettings::new("Acme").with_skew(3).is_err());
    }

    #[test]
    fn otpauth_uri_names_issuer_and_account() {
        let settings = TotpSettings::new("Acme Deploy");
        let uri = settings
            .otpauth_uri(b"12345678901234567890", "alice@example.com")
            .unwrap();
        let uri = uri.expose_secret();
        assert!(
            uri.starts_with("otpauth://totp/Acme%20Deploy:alice%40example.com?"),
            "{uri}"
        );
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=Acme%20Deploy"), "{uri}");
    }
}
