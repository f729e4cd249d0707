//! Recovery codes: shown once, stored only as digests, each usable once.

use soc2_core::{SecretString, UserId};

use super::MfaError;

/// Codes in a set (NIST SP 800-63B-4 §3.1.2 look-up secrets; ten is the common convention).
pub const RECOVERY_CODES: usize = 10;
/// Characters per code: 13 from a 32-symbol alphabet = 65 bits, above the 64 bits NIST SP
/// 800-63B-4 §3.1.2.1 requires of look-up secrets.
const CODE_CHARS: usize = 13;
/// Crockford's base32 (no I, L, O, U), read back case-insensitively.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A stored recovery code: SHA-256 of the owner and the normalised code.
pub type RecoveryDigest = [u8; 32];

/// A fresh set: the codes to show (`XXXX-XXXX-XXXXX`) and their digests to store.
pub(super) fn generate(user: UserId) -> Result<(Vec<SecretString>, Vec<RecoveryDigest>), MfaError> {
    let rng = ring::rand::SystemRandom::new();
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut digests = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut random = zeroize::Zeroizing::new([0u8; CODE_CHARS]);
        ring::rand::SecureRandom::fill(&rng, random.as_mut()).map_err(|_| MfaError::Random)?;
        let raw: String = random
            .iter()
            .map(|byte| char::from(ALPHABET[usize::from(byte & 31)]))
            .collect();
        digests.push(digest(user, &raw));
        codes.push(SecretString::from(format!(
            "{}-{}-{}",
            &raw[..4],
            &raw[4..8],
            &raw[8..]
        )));
    }
    Ok((codes, digests))
}

/// The digest of what a user typed, or `None` when it cannot be a recovery code. Dashes and
/// spaces are ignored, case too; Crockford's look-alikes (`O`→0, `I`/`L`→1) are mapped.
pub(super) fn parse(user: UserId, typed: &str) -> Option<RecoveryDigest> {
    if typed.len() > 64 {
        return None;
    }
    let mut raw = String::with_capacity(CODE_CHARS);
    for c in typed.chars().filter(|c| !matches!(c, '-' | ' ')) {
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        raw.push(c);
    }
    (raw.len() == CODE_CHARS).then(|| digest(user, &raw))
}

fn digest(user: UserId, raw: &str) -> RecoveryDigest {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(user.to_string().as_bytes());
    context.update(b"\0");
    context.update(raw.as_bytes());
    let mut digest = [0u8; 32];
    digest.copy_from_slice(context.finish().as_ref());
    digest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_parse_back_to_their_digest() {
        let user = UserId::new_v7();
        let (codes, digests) = generate(user).unwrap();
        assert_eq!(
            (codes.len(), digests.len()),
            (RECOVERY_CODES, RECOVERY_CODES)
        );
        let unique: std::collections::HashSet<_> = digests.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for (code, digest) in codes.iter().zip(&digests) {
            let code = code.expose_secret();
            assert_eq!(code.len(), CODE_CHARS + 2);
            assert_eq!(parse(user, code), Some(*digest));
            assert_eq!(
                parse(user, &code.to_lowercase().replace('-', " ")),
                Some(*digest)
            );
            assert_ne!(
                parse(UserId::new_v7(), code),
                Some(*digest),
                "bound to the user"
            );
        }
    }

    #[test]
    fn garbage_is_not_a_code() {
        let user = UserId::new_v7();
        for typed in [
            "",
            "1234",
            "ABCD-EFGH-JKMNPQ",
            "ABCD-EFGH-JKMN!",
            "ÄBCD-EFGH-JKMNP",
        ] {
            assert_eq!(parse(user, typed), None, "{typed}");
        }
        assert_eq!(parse(user, &"A".repeat(10_000)), None);
        assert_eq!(
            parse(user, "oooo-iiii-lllll"),
            Some(digest(user, "0000111111111"))
        );
    }
}
