//! Named baselines that fill every policy (password, lockout, MFA, session) at once.

use serde::{Deserialize, Serialize};

/// A compliance baseline. Each policy type offers `from_preset`, and every field stays
/// overridable; each value a preset sets names its source in the policy's docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Preset {
    /// NIST SP 800-63B at authenticator assurance level 2.
    Nist80063bAal2,
    /// OWASP ASVS level 2.
    AsvsL2,
    /// PCI DSS v4.0 requirement 8.
    Pci4,
    /// The strictest of the above, plus soc2-rs's own choices for SOC 2 Type II auditees.
    Soc2Strict,
}
