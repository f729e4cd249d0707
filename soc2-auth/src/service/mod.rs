//! `PasswordAuth`: registration, login password checks, changes and administration, tying
//! the policy, the hasher, the stores, the clock and the audit log together.

mod admin;
mod attempt;
mod change;
mod error;
mod login;
mod outcome;

use std::sync::Arc;

use soc2_audit::{Actor, AuditEvent, AuditLog, Outcome, SdkAction};
use soc2_core::{Clock, Preset, RequestContext, UserId, truncate_to_micros};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::audit::user_event;
use crate::password::{PasswordChecker, PasswordPolicy, UserContext};
use crate::{CredentialStore, LockoutPolicy, LockoutStore, PasswordHasher, Username};

pub(crate) use change::Proof;
pub use error::AuthError;
pub use outcome::{
    ChangeReason, DenyReason, LoginDenied, PasswordCheck, PublicDenial, VerifiedPassword,
};

/// The password half of authentication: registration, the login password check with lockout
/// and throttling, password changes with history and age rules, and the administrator's
/// unlock, reset and disable. Every decision is audited; cheap to clone.
#[derive(Debug, Clone)]
pub struct PasswordAuth {
    checker: PasswordChecker,
    hasher: PasswordHasher,
    lockout: LockoutPolicy,
    credentials: Arc<dyn CredentialStore>,
    lockouts: Arc<dyn LockoutStore>,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
    app_name: Option<Arc<str>>,
    /// Wakes attempts waiting for a busy account's slot when one finishes here.
    attempt_finished: Arc<Notify>,
}

impl PasswordAuth {
    /// A service with the `Soc2Strict` password and lockout policies; override them with
    /// [`PasswordAuth::with_checker`] and [`PasswordAuth::with_lockout_policy`].
    #[must_use]
    pub fn new(
        credentials: Arc<dyn CredentialStore>,
        lockouts: Arc<dyn LockoutStore>,
        hasher: PasswordHasher,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            checker: PasswordChecker::new(PasswordPolicy::from_preset(Preset::Soc2Strict)),
            hasher,
            lockout: LockoutPolicy::from_preset(Preset::Soc2Strict),
            credentials,
            lockouts,
            audit,
            clock,
            app_name: None,
            attempt_finished: Arc::new(Notify::new()),
        }
    }

    /// Uses `checker` (its policy, and its breached-password check if any) for new passwords.
    #[must_use]
    pub fn with_checker(mut self, checker: PasswordChecker) -> Self {
        self.checker = checker;
        self
    }

    /// Uses `policy` for lockout and IP throttling.
    #[must_use]
    pub fn with_lockout_policy(mut self, policy: LockoutPolicy) -> Self {
        self.lockout = policy;
        self
    }

    /// The application's name, which passwords may not be built from.
    #[must_use]
    pub fn with_app_name(mut self, name: &str) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// The password policy in force.
    pub fn password_policy(&self) -> &PasswordPolicy {
        self.checker.policy()
    }

    /// The lockout policy in force.
    pub fn lockout_policy(&self) -> &LockoutPolicy {
        &self.lockout
    }

    /// The hasher (for hosts that hash other secrets the same way).
    #[must_use]
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The clock's time at the precision stores keep.
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(self.clock.now())
    }

    fn event(
        &self,
        action: SdkAction,
        outcome: Outcome,
        actor: Actor,
        user: Option<UserId>,
        context: &RequestContext,
    ) -> AuditEvent {
        user_event(action, outcome, actor, user, self.now(), context)
    }
}

/// `profile` plus what passwords may never be built from besides it: the login name and the
/// application's name.
fn with_identity<'a>(
    profile: UserContext<'a>,
    username: &'a Username,
    app_name: Option<&'a str>,
) -> UserContext<'a> {
    let profile = profile.with_username(username.as_str());
    match app_name {
        Some(app) => profile.with_app_name(app),
        None => profile,
    }
}
