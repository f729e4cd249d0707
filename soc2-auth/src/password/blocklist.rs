//! The embedded list of common passwords (NIST SP 800-63B-4 §3.1.1.2 blocklist, OWASP ASVS
//! 4.0.3 V2.1.7).

use std::collections::HashSet;
use std::sync::LazyLock;

use zeroize::Zeroizing;

/// The 19,640 most common passwords, lower case, as shipped by Django (see `data/README.md`).
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

static BLOCKLIST: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .collect()
});

/// True when the NFKC-normalised `password` is on the list, ignoring case.
pub(crate) fn is_common(password: &str) -> bool {
    let lower = Zeroizing::new(password.to_lowercase());
    BLOCKLIST.contains(lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_list_is_loaded() {
        assert_eq!(BLOCKLIST.len(), 19_640);
    }

    #[test]
    fn matches_ignore_case_but_not_content() {
        assert!(is_common("password"));
        assert!(is_common("PassWord1234"));
        assert!(is_common("P@ssw0rd"));
        assert!(!is_common("password12345678901"));
        assert!(!is_common("correct horse battery staple"));
    }
}
