//! The breached-password check (NIST SP 800-63B-4 §3.1.1.2, OWASP ASVS 4.0.3 V2.1.7).

use std::fmt::Debug;
use std::path::PathBuf;

use soc2_core::BoxError;

use super::NormalizedPassword;

/// A corpus of passwords exposed in breaches, such as Have I Been Pwned.
///
/// [`HibpFile`](super::HibpFile) looks passwords up in a local copy; implement the trait for
/// anything else (an HTTP k-anonymity range query, a database table).
#[async_trait::async_trait]
pub trait BreachedPasswordCheck: Debug + Send + Sync + 'static {
    /// How often `password` appears in the corpus, or `None` when it does not (or appears less
    /// often than the implementation's threshold).
    ///
    /// # Errors
    /// [`BreachedCheckError`] when the corpus cannot be consulted; the checker then refuses
    /// the password (fails closed).
    async fn breach_count(
        &self,
        password: &NormalizedPassword,
    ) -> Result<Option<u64>, BreachedCheckError>;
}

/// The breached-password corpus could not be consulted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BreachedCheckError {
    /// The file could not be opened or read.
    #[error("cannot read the breached-password file {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty, truncated, or not in the `HEXSHA1:COUNT` format.
    #[error("the breached-password file {} is corrupt at byte {offset}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the unreadable line starts.
        offset: u64,
        /// What is wrong there.
        reason: &'static str,
    },
    /// The blocking lookup task panicked or was cancelled.
    #[error("the breached-password lookup did not complete")]
    Task,
    /// Another implementation's failure.
    #[error("the breached-password check failed")]
    Backend(#[source] BoxError),
}
