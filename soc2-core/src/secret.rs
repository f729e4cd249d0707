//! Secret values: redacted `Debug`, zeroized on drop, compared in constant time.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// A secret value (password, token, key, recovery code).
///
/// - `Debug` prints `Secret([redacted])`; there is no `Display`, `Serialize` or `Clone`, so a
///   secret cannot reach a log line, an audit event or a JSON body by accident.
/// - The memory is zeroized when the value is dropped.
/// - `==` compares in constant time for byte-like contents (the length is not hidden).
///
/// Reading the value takes an explicit, greppable call to [`Secret::expose_secret`].
pub struct Secret<T: Zeroize>(Zeroizing<T>);

/// A secret UTF-8 string, such as a password as typed.
pub type SecretString = Secret<String>;
/// A secret byte string, such as a key or a token's raw bytes.
pub type SecretBytes = Secret<Vec<u8>>;

impl<T: Zeroize> Secret<T> {
    /// Takes ownership of `value`; it is zeroized when the secret is dropped.
    #[must_use]
    pub fn new(value: T) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret value. Every call site is a place where the secret leaves its wrapper.
    #[must_use]
    pub fn expose_secret(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T: Zeroize + AsRef<[u8]>> PartialEq for Secret<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0
            .as_ref()
            .as_ref()
            .ct_eq(other.0.as_ref().as_ref())
            .into()
    }
}

impl<T: Zeroize + AsRef<[u8]>> Eq for Secret<T> {}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = SecretString::from("hunter2");
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert_eq!(shown, "Secret([redacted]) Some(Secret([redacted]))");
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(SecretString::from("abc"), SecretString::from("abc"));
        assert_ne!(SecretString::from("abc"), SecretString::from("abd"));
        assert_ne!(SecretString::from("abc"), SecretString::from("abcd"));
        assert_eq!(Secret::new([7u8; 32]), Secret::new([7u8; 32]));
    }

    #[test]
    fn exposes_only_on_request() {
        let secret = SecretBytes::new(vec![1, 2, 3]);
        assert_eq!(secret.expose_secret(), &[1, 2, 3]);
    }
}
