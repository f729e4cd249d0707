//! `LoginThrottle`: refuses login attempts from a client address that failed too often
//! recently, before the handler checks any password.

use std::sync::Arc;

use soc2_audit::{Actor, AuditEvent, AuditLog, Outcome, SdkAction};
use soc2_auth::{IpOp, IpOutcome, LockoutPolicy, LockoutStore};
use soc2_core::{Clock, RequestContext, truncate_to_micros};

use crate::RejectionKind;

/// Per-IP login throttling in front of the login handler (OWASP ASVS 4.0.3 V2.2.1: IP-based
/// anti-automation), reading the sliding window that `PasswordAuth` counts failures into.
///
/// Give it the same [`LockoutStore`] and [`LockoutPolicy`] as the host's `PasswordAuth`:
/// failed passwords are counted there, and this refuses an address whose window is
/// exhausted without running the handler. The decision is the store's own
/// `apply_ip(ip, IpOp::Check, ..)`, the check `PasswordAuth::verify` makes, so both agree.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    lockouts: Arc<dyn LockoutStore>,
    policy: LockoutPolicy,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
}

impl LoginThrottle {
    /// A throttle over `lockouts` with `policy`'s `ip_threshold` and `ip_window`; refusals
    /// are audited to `audit` as `auth.login.throttled`.
    #[must_use]
    pub fn new(
        lockouts: Arc<dyn LockoutStore>,
        policy: LockoutPolicy,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            lockouts,
            policy,
            audit,
            clock,
        }
    }

    /// Whether the request described by `context` (the session middleware's, `None` when
    /// it did not run) may attempt a login now.
    ///
    /// # Errors
    /// [`RejectionKind::Throttled`] (audited) when the address's window is exhausted,
    /// [`RejectionKind::ThrottleUnavailable`] when the store or the audit log failed,
    /// [`RejectionKind::MissingLayer`] without a context and
    /// [`RejectionKind::UnknownClientAddress`] when the context has no client address.
    pub async fn check(&self, context: Option<&RequestContext>) -> Result<(), RejectionKind> {
        let context = context.ok_or(RejectionKind::MissingLayer)?;
        let ip = context
            .client_ip()
            .ok_or(RejectionKind::UnknownClientAddress)?;
        let now = truncate_to_micros(self.clock.now());
        let outcome = self
            .lockouts
            .apply_ip(ip, IpOp::Check, now, &self.policy)
            .await
            .map_err(|error| {
                tracing::error!(target: "soc2::web", %error, "login throttle could not be checked");
                RejectionKind::ThrottleUnavailable
            })?;
        let IpOutcome::Throttled { retry_after } = outcome else {
            return Ok(());
        };
        let event = AuditEvent::new(
            SdkAction::LoginThrottled,
            Outcome::Denied,
            Actor::anonymous(None),
            now,
        )
        .with_context(context.clone())
        .with_metadata("retry_after_secs", retry_after.as_secs());
        self.audit.record(event).map_err(|error| {
            tracing::error!(target: "soc2::web", %error, "login throttling not audited");
            RejectionKind::ThrottleUnavailable
        })?;
        Err(RejectionKind::Throttled { retry_after })
    }
}
