//! The login flow on the memory stores with a `ManualClock`: passwords (the PCI DSS v4.0
//! policy), TOTP, passkeys, sessions and a real audit log, for the login and passkey-login
//! tests.

use std::sync::Arc;

use soc2_audit::{AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_auth::login::Authenticator;
use soc2_auth::mfa::{MemoryMfaStore, MfaAuth, TotpSettings};
use soc2_auth::passkey::{MemoryPasskeyStore, PasskeyAuth, PasskeyConfig};
use soc2_auth::password::{PasswordChecker, PasswordPolicy};
use soc2_auth::{
    HashParams, MemoryCredentialStore, MemoryLockoutStore, PasswordAuth, PasswordHasher, Sealer,
};
use soc2_core::{KeyId, KeyRing, ManualClock, Preset, RequestContext};
use soc2_session::{MemorySessionStore, SessionManager, SessionPolicy};
use time::macros::datetime;

use super::{ORIGIN, RP_ID};

/// Every test user's password.
pub(crate) const PASSWORD: &str = "Gl4cier-Turbine-Sonnet";

pub(crate) struct Fixture {
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) audit_store: MemoryAuditStore,
    pub(crate) audit: AuditLog,
    pub(crate) passwords: PasswordAuth,
    pub(crate) mfa: MfaAuth,
    pub(crate) passkeys: PasskeyAuth,
    pub(crate) login: Authenticator,
}

pub(crate) fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00:10 UTC)));
    let audit_store = MemoryAuditStore::new(&KeyRing::single(KeyId::new("a").unwrap(), [4; 32]));
    let audit = AuditLog::start(Arc::new(audit_store.clone()), AuditLogConfig::default());
    let lockouts = Arc::new(MemoryLockoutStore::new());
    let mfa_store = Arc::new(MemoryMfaStore::new());
    let passwords = PasswordAuth::new(
        Arc::new(MemoryCredentialStore::new()),
        lockouts.clone(),
        PasswordHasher::new(HashParams::new(256, 1, 1).unwrap()).unwrap(),
        audit.clone(),
        clock.clone(),
    )
    .with_checker(PasswordChecker::new(PasswordPolicy::from_preset(
        Preset::Pci4,
    )));
    let mfa = MfaAuth::new(
        mfa_store.clone(),
        lockouts.clone(),
        Sealer::new(KeyRing::single(KeyId::new("s").unwrap(), [8; 32])),
        TotpSettings::new("Acme"),
        audit.clone(),
        clock.clone(),
    );
    let passkeys = PasskeyAuth::new(
        PasskeyConfig::new(RP_ID, "Acme", &[ORIGIN]).unwrap(),
        Arc::new(MemoryPasskeyStore::new()),
        mfa_store.clone(),
        lockouts,
        audit.clone(),
        clock.clone(),
    );
    let sessions = SessionManager::new(
        Arc::new(MemorySessionStore::new()),
        SessionPolicy::from_preset(Preset::Soc2Strict),
        clock.clone(),
        audit.clone(),
    );
    let login = Authenticator::new(
        passwords.clone(),
        mfa.clone(),
        sessions,
        mfa_store,
        audit.clone(),
        clock.clone(),
    )
    .with_passkeys(passkeys.clone());
    Fixture {
        clock,
        audit_store,
        audit,
        passwords,
        mfa,
        passkeys,
        login,
    }
}

pub(crate) fn ctx() -> RequestContext {
    RequestContext::new()
}

impl Fixture {
    /// How many audit events have `action` (and `reason`, when given).
    pub(crate) async fn count(&self, action: &str, reason: Option<&str>) -> usize {
        soc2_testkit::audit::actions_and_reasons(&self.audit, &self.audit_store)
            .await
            .iter()
            .filter(|(a, r)| a == action && (reason.is_none() || r.as_deref() == reason))
            .count()
    }
}
