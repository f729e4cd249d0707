//! The login flow a host calls: password, then (when enrolled or required) a second factor,
//! then a session; or a required password change first.

pub(crate) mod challenge;
mod outcome;
mod passkey;
mod requirement;
mod reset;

use std::sync::Arc;
use std::time::Duration;

use soc2_audit::{Actor, AuditEvent, AuditLog, Outcome, SdkAction};
use soc2_core::{Clock, RequestContext, StoreError, UserId, truncate_to_micros};
use soc2_session::{Factor, SessionError, SessionManager};
use time::OffsetDateTime;

pub use challenge::{CHALLENGE_PREFIX, Challenge};
pub use outcome::{LoginOutcome, MfaMethod, MfaProof};
pub use requirement::{MfaPolicy, MfaRequirement, RoleLookup};
pub use reset::{RESET_TOKEN_PREFIX, RESET_TOKEN_TTL, ResetOutcome, ResetTicket};

use crate::audit::user_event;
use crate::mfa::{Ceremony, MfaAuth, MfaCheck, MfaError, MfaStore};
use crate::passkey::{PasskeyAuth, PasskeyCheck, PasskeyError};
use crate::password::UserContext;
use crate::service::Proof;
use crate::{AuthError, DenyReason, LoginDenied, PasswordAuth, PasswordCheck};

/// How long an MFA or password-change challenge stays usable: long enough to open an
/// authenticator app, short enough to be useless later (OWASP ASVS 4.0.3 V2.8.1 bounds OTP
/// lifetimes; soc2-rs uses 5 minutes).
pub const CHALLENGE_TTL: Duration = Duration::from_secs(5 * 60);

const MFA_LOGIN: &str = "mfa_login";
const PASSWORD_CHANGE: &str = "password_change";

/// Why a login step could not be decided (a refused login is [`LoginOutcome::Denied`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The password service failed.
    #[error(transparent)]
    Password(#[from] AuthError),
    /// The MFA service failed.
    #[error(transparent)]
    Mfa(#[from] MfaError),
    /// The passkey service failed, or refused a malformed response.
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
    /// A passkey step was asked of an `Authenticator` without
    /// [`Authenticator::with_passkeys`].
    #[error("passkeys are not configured")]
    PasskeysNotConfigured,
    /// The session could not be created.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The ceremony store failed.
    #[error("ceremony store failed")]
    Store(#[from] StoreError),
    /// The audit log refused the event; the login did not complete (fail closed).
    #[error("audit log unavailable")]
    Audit(#[from] soc2_audit::AuditError),
    /// The host's role lookup failed, so whether MFA is required is unknown; the login did
    /// not complete (fail closed).
    #[error("role lookup failed")]
    Roles(#[source] soc2_core::BoxError),
}

/// Runs logins: [`Authenticator::login`], then [`Authenticator::complete_mfa`] or
/// [`Authenticator::complete_password_change`] when asked. A session exists only once every
/// required factor is proven, so there is no half-authenticated session to upgrade.
#[derive(Debug, Clone)]
pub struct Authenticator {
    passwords: PasswordAuth,
    mfa: MfaAuth,
    passkeys: Option<PasskeyAuth>,
    sessions: SessionManager,
    ceremonies: Arc<dyn MfaStore>,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
    mfa_policy: MfaPolicy,
    reset_ttl: Duration,
}

impl Authenticator {
    /// A login flow over the services. `ceremonies` is the `MfaStore` the challenges live in.
    /// By default MFA is asked of users who enrolled a factor.
    #[must_use]
    pub fn new(
        passwords: PasswordAuth,
        mfa: MfaAuth,
        sessions: SessionManager,
        ceremonies: Arc<dyn MfaStore>,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            passwords,
            mfa,
            passkeys: None,
            sessions,
            ceremonies,
            audit,
            clock,
            mfa_policy: MfaPolicy::default(),
            reset_ttl: RESET_TOKEN_TTL,
        }
    }

    /// How long password-reset tokens work (default [`RESET_TOKEN_TTL`]).
    #[must_use]
    pub fn with_reset_ttl(mut self, ttl: Duration) -> Self {
        self.reset_ttl = ttl;
        self
    }

    /// Requires a second factor of everyone (NIST SP 800-63B-4 AAL2): users without one get
    /// [`LoginOutcome::EnrollmentRequired`], a session the host must confine to enrolment.
    #[must_use]
    pub fn with_mfa_required(self, required: bool) -> Self {
        self.with_mfa_policy(MfaPolicy::new(if required {
            MfaRequirement::Everyone
        } else {
            MfaRequirement::Enrolled
        }))
    }

    /// Applies `policy`: who must prove a second factor, and the grace period of those who
    /// must but have none.
    #[must_use]
    pub fn with_mfa_policy(mut self, policy: MfaPolicy) -> Self {
        self.mfa_policy = policy;
        self
    }

    /// Offers passkeys: as a second factor after the password
    /// ([`Authenticator::passkey_options`]) and for passwordless sign-in
    /// ([`Authenticator::begin_passkey_login`]). Use the `MfaStore` given to
    /// [`Authenticator::new`] for the passkey ceremonies too.
    #[must_use]
    pub fn with_passkeys(mut self, passkeys: PasskeyAuth) -> Self {
        self.passkeys = Some(passkeys);
        self
    }

    /// The first step: the password (see [`PasswordAuth::verify`] for lockout, throttling
    /// and the uniform refusal).
    ///
    /// # Errors
    /// Store, hash, session and audit failures.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        context: &RequestContext,
    ) -> Result<LoginOutcome, LoginError> {
        let verified = match self.passwords.verify(username, password, context).await? {
            PasswordCheck::Verified(verified) => verified,
            PasswordCheck::Denied(denied) => return self.denied(None, denied, context),
        };
        if let Some(reason) = verified.change_required {
            let challenge = self.challenge(verified.user_id, PASSWORD_CHANGE).await?;
            return Ok(LoginOutcome::PasswordChangeRequired { challenge, reason });
        }
        self.second_step(verified.user_id, context).await
    }

    /// Finishes a login that answered [`LoginOutcome::MfaRequired`]. The challenge is spent by
    /// this call whatever the outcome, so a wrong code means logging in again. A passkey
    /// answers the challenge returned by [`Authenticator::passkey_options`].
    ///
    /// # Errors
    /// [`LoginError::Passkey`] for a malformed passkey response; store, MFA, session and
    /// audit failures.
    pub async fn complete_mfa(
        &self,
        challenge: &str,
        proof: MfaProof<'_>,
        context: &RequestContext,
    ) -> Result<LoginOutcome, LoginError> {
        let Some(ceremony) = self.take(challenge, MFA_LOGIN).await? else {
            return self.denied(None, self.generic_denial(), context);
        };
        let user = ceremony.user_id;
        let (accepted, factor) = match proof {
            MfaProof::Totp(code) => (
                self.mfa.verify_totp(user, code, context).await? == MfaCheck::Accepted,
                Factor::Totp,
            ),
            MfaProof::RecoveryCode(code) => (
                self.mfa.use_recovery_code(user, code, context).await? == MfaCheck::Accepted,
                Factor::RecoveryCode,
            ),
            MfaProof::Passkey(response) => {
                let check = self
                    .passkeys()?
                    .finish_authentication_with(user, &ceremony.payload, response, context)
                    .await?;
                (check == PasskeyCheck::Accepted(user), Factor::WebAuthn)
            }
        };
        if accepted {
            self.authenticated(user, &[Factor::Password, factor], context)
                .await
        } else {
            self.denied(Some(user), self.generic_denial(), context)
        }
    }

    /// Finishes a login that answered [`LoginOutcome::PasswordChangeRequired`]: the new
    /// password goes through the policy, history and age rules; then the login continues as
    /// [`Authenticator::login`] would (MFA when enrolled). A refused password spends the
    /// challenge too.
    ///
    /// # Errors
    /// [`LoginError::Password`] with [`AuthError::Rejected`] for a refused password; store,
    /// session and audit failures.
    pub async fn complete_password_change(
        &self,
        challenge: &str,
        new_password: &str,
        profile: &UserContext<'_>,
        context: &RequestContext,
    ) -> Result<LoginOutcome, LoginError> {
        let Some(user) = self
            .take(challenge, PASSWORD_CHANGE)
            .await?
            .map(|c| c.user_id)
        else {
            return self.denied(None, self.generic_denial(), context);
        };
        let record = self.passwords.credential(user).await?;
        self.passwords
            .change_verified(
                record,
                new_password,
                profile,
                Proof::CurrentPassword,
                context,
            )
            .await?;
        self.sessions
            .revoke_user(user, Actor::user(user), context)
            .await?;
        self.second_step(user, context).await
    }

    /// After the password: a challenge for the second factor, an enrolment-only session, or
    /// the session.
    async fn second_step(
        &self,
        user: UserId,
        context: &RequestContext,
    ) -> Result<LoginOutcome, LoginError> {
        let (totp, passkey) = tokio::join!(self.mfa.has_totp(user), self.has_passkeys(user));
        let mut methods = Vec::new();
        if totp? {
            methods.push(MfaMethod::Totp);
        }
        if passkey? {
            methods.push(MfaMethod::Passkey);
        }
        if !methods.is_empty() {
            let challenge = self.challenge(user, MFA_LOGIN).await?;
            if self.mfa.recovery_codes_left(user).await? > 0 {
                methods.push(MfaMethod::RecoveryCode);
            }
            return Ok(LoginOutcome::MfaRequired { challenge, methods });
        }
        let required = self
            .mfa_policy
            .applies_to(user)
            .await
            .map_err(LoginError::Roles)?;
        let grace = if required {
            let created_at = self.passwords.credential(user).await?.created_at;
            Some(self.mfa_policy.grace_until(created_at, self.now()))
        } else {
            None
        };
        match self
            .authenticated(user, &[Factor::Password], context)
            .await?
        {
            LoginOutcome::Authenticated { token, session } => Ok(match grace {
                None => LoginOutcome::Authenticated { token, session },
                Some(Some(deadline)) => LoginOutcome::EnrollmentDue {
                    token,
                    session,
                    deadline,
                },
                Some(None) => LoginOutcome::EnrollmentRequired { token, session },
            }),
            other => Ok(other),
        }
    }

    async fn authenticated(
        &self,
        user: UserId,
        factors: &[Factor],
        context: &RequestContext,
    ) -> Result<LoginOutcome, LoginError> {
        let permit = self.audit.reserve()?;
        let (token, session) = self.sessions.create(user, factors, context).await?;
        permit.record(
            self.event(
                SdkAction::LoginSucceeded,
                Outcome::Success,
                Actor::user(user),
                Some(user),
                context,
            )
            .with_metadata(
                "factors",
                factors.iter().map(|f| f.name()).collect::<Vec<_>>(),
            ),
        );
        Ok(LoginOutcome::Authenticated { token, session })
    }

    async fn challenge(&self, user: UserId, kind: &str) -> Result<Challenge, LoginError> {
        let expires_at = self.now() + CHALLENGE_TTL;
        let (challenge, digest) = Challenge::generate(expires_at).map_err(|_| MfaError::Random)?;
        self.ceremonies
            .put_ceremony(&Ceremony::new(digest, kind, user, "{}".into(), expires_at))
            .await?;
        Ok(challenge)
    }

    /// The ceremony of a presented challenge of `kind`, spending it.
    async fn take(&self, token: &str, kind: &str) -> Result<Option<Ceremony>, LoginError> {
        let Some(digest) = challenge::presented(token) else {
            return Ok(None);
        };
        Ok(self
            .ceremonies
            .take_ceremony(&digest, kind, self.now())
            .await?)
    }

    fn denied(
        &self,
        user: Option<UserId>,
        denied: LoginDenied,
        context: &RequestContext,
    ) -> Result<LoginOutcome, LoginError> {
        let actor = user.map_or(Actor::anonymous(None), Actor::user);
        self.audit.record(
            self.event(
                SdkAction::LoginFailed,
                Outcome::Failure,
                actor,
                user,
                context,
            )
            .with_reason(denied.code()),
        )?;
        Ok(LoginOutcome::Denied(denied))
    }

    /// The refusal for a spent, unknown or failed challenge: the same "invalid credentials"
    /// as a wrong password.
    fn generic_denial(&self) -> LoginDenied {
        LoginDenied::new(DenyReason::WrongPassword, false)
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

    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(self.clock.now())
    }
}
