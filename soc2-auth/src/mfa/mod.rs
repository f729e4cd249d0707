//! Second factors (SOC 2 CC6.1, ASVS 4.0.3 V2.7-V2.8, RFC 6238): TOTP with replay prevention
//! and its own lockout counter, recovery codes, and their store.

pub(crate) mod counter;
mod memory;
mod qr;
mod recovery;
mod seed_cache;
mod service;
mod store;
mod totp;

pub use memory::MemoryMfaStore;
pub use recovery::{RECOVERY_CODES, RecoveryDigest};
pub use service::{MfaAuth, MfaCheck, MfaRefusal};
pub use store::{Ceremony, MfaStore, PASSWORD_RESET, TotpRecord};
pub use totp::{CodeFormatError, TOTP_SECRET_BYTES, TotpAlgorithm, TotpEnrollment, TotpSettings};

use soc2_audit::AuditError;
use soc2_core::StoreError;

use crate::SealError;

/// The prefix of every value sealed under `key` (see [`Sealer::seal`](crate::Sealer::seal)).
pub fn sealed_prefix(key: &soc2_core::KeyId) -> String {
    format!("v1.{key}.")
}

/// Why an MFA operation did not happen (a wrong code is not an error: see [`MfaCheck`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MfaError {
    /// The user already has a confirmed TOTP factor; remove it before enrolling another.
    #[error("a TOTP factor is already enrolled")]
    AlreadyEnrolled,
    /// There is no pending enrolment to confirm.
    #[error("no TOTP enrolment is pending")]
    NotPending,
    /// Settings that cannot work.
    #[error("MFA configuration: {0}")]
    Config(String),
    /// The system random generator failed.
    #[error("system random generator failed")]
    Random,
    /// The key still seals this many factors: re-seal them before retiring it.
    #[error("key `{key}` still seals {count} factor(s); run reseal first")]
    KeyInUse {
        /// The key.
        key: String,
        /// Factors sealed under it.
        count: u64,
    },
    /// A sealed seed could not be opened (wrong key ring, moved row, tampering).
    #[error(transparent)]
    Seal(#[from] SealError),
    /// A store failed.
    #[error("MFA or lockout store failed")]
    Store(#[from] StoreError),
    /// The audit log refused the event; the action did not take effect (fail closed).
    #[error("audit log unavailable")]
    Audit(#[from] AuditError),
}
