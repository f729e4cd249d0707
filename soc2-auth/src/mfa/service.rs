//! `MfaAuth`: enrolling, checking and removing second factors, audited, with a lockout
//! counter of their own.

use std::sync::Arc;

use soc2_audit::{Actor, AuditEvent, AuditLog, Outcome, SdkAction};
use soc2_core::{Clock, RequestContext, SecretString, UserId, truncate_to_micros};
use time::OffsetDateTime;

use super::counter::{CountedCheck, SecondFactorCounter};
use super::seed_cache::SealedSeeds;
use super::{MfaError, MfaStore, TotpEnrollment, TotpRecord, TotpSettings, qr, recovery, totp};
use crate::audit::user_event;
use crate::{AccountLockState, LockoutKey, LockoutPolicy, LockoutStore, Sealer};

/// What sealed TOTP seeds are bound to (with the user id).
const TOTP_PURPOSE: &str = "totp-seed";

/// The answer to a second-factor check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MfaCheck {
    /// The factor is proven.
    Accepted,
    /// Refused; the reason is for the host's logs, the caller hears only "invalid code".
    Refused(MfaRefusal),
}

/// Why a second factor was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MfaRefusal {
    /// Wrong code.
    Wrong,
    /// The code's time step was already used (RFC 6238 §5.2), or the recovery code is spent.
    Replayed,
    /// Too many wrong codes: the second-factor counter is locked.
    Locked,
    /// Not a well-formed code (wrong length, non-ASCII digits); not counted.
    Malformed,
    /// The user has no such factor.
    NotEnrolled,
}

impl CountedCheck for MfaCheck {
    fn locked() -> Self {
        Self::Refused(MfaRefusal::Locked)
    }

    fn is_accepted(&self) -> bool {
        *self == Self::Accepted
    }

    fn is_failure(&self) -> bool {
        matches!(self, Self::Refused(_))
    }
}

impl MfaRefusal {
    /// The stable code written to the audit log.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Wrong => "wrong_code",
            Self::Replayed => "replayed",
            Self::Locked => "locked",
            Self::Malformed => "malformed",
            Self::NotEnrolled => "not_enrolled",
        }
    }
}

/// Second factors for a host: TOTP enrolment with confirmation, TOTP and recovery-code
/// checks, regeneration and removal. Wrong codes count on a counter separate from password
/// failures (NIST SP 800-63B-4 §3.2.2: OTPs under 64 bits need rate limiting). Factor
/// changes must follow a fresh authentication; that check is the caller's (e.g.
/// `Session::require_fresh`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct MfaAuth {
    store: Arc<dyn MfaStore>,
    counter: SecondFactorCounter,
    sealer: Sealer,
    settings: TotpSettings,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
    seeds: Arc<SealedSeeds>,
}

/// A code checked against one sealed seed, before the counter hears of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// Not a well-formed code.
    Malformed,
    /// No step in the window matches.
    Wrong,
    /// A step matched and the store accepted it.
    Accepted,
    /// A step matched but the store refused it: not newer than the last accepted step, or
    /// the seed is no longer the stored one.
    NotAccepted,
}

impl MfaAuth {
    /// A service with the `Soc2Strict` lockout policy applied to second-factor failures.
    #[must_use]
    pub fn new(
        store: Arc<dyn MfaStore>,
        lockouts: Arc<dyn LockoutStore>,
        sealer: Sealer,
        settings: TotpSettings,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            counter: SecondFactorCounter::new(lockouts, audit.clone(), clock.clone()),
            sealer,
            settings,
            audit,
            clock,
            seeds: Arc::default(),
        }
    }

    /// Uses `policy` for the second-factor counter.
    #[must_use]
    pub fn with_lockout_policy(mut self, policy: LockoutPolicy) -> Self {
        self.counter.set_policy(policy);
        self
    }

    /// Starts TOTP enrolment: a fresh 160-bit seed (sealed at rest), the URI and QR codes to
    /// show once. The factor counts only after [`MfaAuth::confirm_totp`].
    ///
    /// # Errors
    /// [`MfaError::AlreadyEnrolled`], store, seal and random failures.
    pub async fn begin_totp(
        &self,
        user: UserId,
        account: &str,
    ) -> Result<TotpEnrollment, MfaError> {
        let secret = totp::generate_secret()?;
        let sealed = self.sealer.seal(&user.to_string(), TOTP_PURPOSE, &secret)?;
        let record = TotpRecord::pending(user, sealed, self.now());
        self.store
            .put_pending_totp(&record)
            .await
            .map_err(|e| match e {
                soc2_core::StoreError::Conflict(_) => MfaError::AlreadyEnrolled,
                other => MfaError::Store(other),
            })?;
        let uri = self.settings.otpauth_uri(&secret, account)?;
        let code = qr::encode(uri.expose_secret())?;
        Ok(TotpEnrollment {
            secret_base32: totp::base32(&secret),
            qr_svg: SecretString::from(qr::svg(&code)),
            qr_png: qr::png(&code)?,
            otpauth_uri: uri,
        })
    }

    /// Confirms a pending enrolment with one current code (which is then spent), activates the
    /// factor and issues a fresh set of recovery codes, shown once.
    ///
    /// # Errors
    /// [`MfaError::NotPending`]; a wrong or malformed code is `Ok(Err(refusal))`.
    pub async fn confirm_totp(
        &self,
        user: UserId,
        code: &str,
        context: &RequestContext,
    ) -> Result<Result<Vec<SecretString>, MfaRefusal>, MfaError> {
        let record = match self.store.totp(user).await? {
            Some(record) if !record.confirmed => record,
            _ => return Err(MfaError::NotPending),
        };
        let (attempt, state) = self
            .attempt(user, &record.sealed_secret, code, true)
            .await?;
        match self.tally(user, state, attempt, context).await? {
            MfaCheck::Accepted => self.seeds.put(user, &record.sealed_secret),
            MfaCheck::Refused(refusal) => return Ok(Err(refusal)),
        }
        let codes = self.replace_recovery_codes(user).await?;
        self.audit.record(
            self.event(SdkAction::MfaEnrolled, Outcome::Success, user, context)
                .with_metadata("factor", "totp"),
        )?;
        Ok(Ok(codes))
    }

    /// Checks a TOTP code at login: format, then the code over the skew window, then the
    /// replay rule (a compare-and-set of the last accepted step in the store: of concurrent
    /// submissions of one code, exactly one passes), with the second-factor counter read
    /// alongside (a locked counter refuses whatever the code). The confirmed factor's sealed
    /// seed is cached, so a right code costs one statement when the store sees the counter
    /// ([`MfaStore::accept_totp_step_if_clear`]), else one write and one read made together.
    ///
    /// # Errors
    /// Store, seal and audit failures.
    pub async fn verify_totp(
        &self,
        user: UserId,
        code: &str,
        context: &RequestContext,
    ) -> Result<MfaCheck, MfaError> {
        let check = self.check_login_code(user, code, context).await?;
        self.audit_check(user, "totp", check, context)?;
        Ok(check)
    }

    async fn check_login_code(
        &self,
        user: UserId,
        code: &str,
        context: &RequestContext,
    ) -> Result<MfaCheck, MfaError> {
        let cached = self.seeds.get(user);
        let sealed = match &cached {
            Some(sealed) => Some(sealed.clone()),
            None => self.confirmed_seed(user).await?,
        };
        let Some(sealed) = sealed else {
            return Ok(MfaCheck::Refused(MfaRefusal::NotEnrolled));
        };
        let (mut attempt, mut state) = self.attempt(user, &sealed, code, false).await?;
        if cached.is_some() && matches!(attempt, Attempt::Wrong | Attempt::NotAccepted) {
            // The cached seed may be stale (changed by another instance): decide on the row.
            match self.confirmed_seed(user).await? {
                None => return Ok(MfaCheck::Refused(MfaRefusal::NotEnrolled)),
                Some(fresh) if fresh != sealed => {
                    (attempt, state) = self.attempt(user, &fresh, code, false).await?;
                }
                Some(_) => {}
            }
        }
        self.tally(user, state, attempt, context).await
    }

    /// Uses one recovery code (consumed atomically; counts toward the lockout when wrong).
    ///
    /// # Errors
    /// Store and audit failures.
    pub async fn use_recovery_code(
        &self,
        user: UserId,
        code: &str,
        context: &RequestContext,
    ) -> Result<MfaCheck, MfaError> {
        let check = match recovery::parse(user, code) {
            None => MfaCheck::Refused(MfaRefusal::Malformed),
            Some(digest) => {
                let state = self.counter(user).await?;
                self.counter
                    .run(user, state, context, async {
                        Ok::<_, MfaError>(
                            if self.store.consume_recovery_code(user, &digest).await? {
                                MfaCheck::Accepted
                            } else {
                                MfaCheck::Refused(MfaRefusal::Wrong)
                            },
                        )
                    })
                    .await?
            }
        };
        self.audit_check(user, "recovery_code", check, context)?;
        Ok(check)
    }

    /// Issues a new set of recovery codes; the old set stops working. Audited.
    ///
    /// # Errors
    /// Store, random and audit failures.
    pub async fn regenerate_recovery_codes(
        &self,
        user: UserId,
        context: &RequestContext,
    ) -> Result<Vec<SecretString>, MfaError> {
        let codes = self.replace_recovery_codes(user).await?;
        self.audit.record(
            self.event(SdkAction::MfaEnrolled, Outcome::Success, user, context)
                .with_metadata("factor", "recovery_codes"),
        )?;
        Ok(codes)
    }

    /// Removes the TOTP factor, audited with `by` as actor. Returns whether one existed.
    ///
    /// # Errors
    /// Store and audit failures.
    pub async fn remove_totp(
        &self,
        user: UserId,
        by: Actor,
        context: &RequestContext,
    ) -> Result<bool, MfaError> {
        let permit = self.audit.reserve()?;
        let removed = self.store.remove_totp(user).await?;
        self.seeds.forget(user);
        if removed {
            permit.record(
                user_event(
                    SdkAction::MfaRemoved,
                    Outcome::Success,
                    by,
                    Some(user),
                    self.now(),
                    context,
                )
                .with_metadata("factor", "totp"),
            );
        }
        Ok(removed)
    }

    /// Re-seals up to `batch` TOTP seeds still under an older key with the active one; call
    /// until it returns 0 after rotating the sealing key. Returns how many were re-sealed.
    ///
    /// # Errors
    /// Store and seal failures (a seed under a key no longer in the ring stops the batch).
    pub async fn reseal(&self, batch: usize) -> Result<usize, MfaError> {
        let stale = self
            .store
            .totp_sealed_with_other_keys(self.sealer.active_key(), batch)
            .await?;
        let mut resealed = 0;
        for record in stale {
            let owner = record.user_id.to_string();
            let secret = self
                .sealer
                .open(&owner, TOTP_PURPOSE, &record.sealed_secret)?;
            let fresh = self.sealer.seal(&owner, TOTP_PURPOSE, &secret)?;
            if self
                .store
                .reseal_totp(record.user_id, &record.sealed_secret, &fresh)
                .await?
            {
                self.seeds.forget(record.user_id);
                resealed += 1;
            }
        }
        Ok(resealed)
    }

    /// Refuses to let `key` go while any seed is sealed under it.
    ///
    /// # Errors
    /// [`MfaError::KeyInUse`] with the count, or a store failure.
    pub async fn check_retirable(&self, key: &soc2_core::KeyId) -> Result<(), MfaError> {
        match self.store.count_sealed_with(key).await? {
            0 => Ok(()),
            count => Err(MfaError::KeyInUse {
                key: key.to_string(),
                count,
            }),
        }
    }

    /// Whether the user has a confirmed TOTP factor.
    ///
    /// # Errors
    /// Store failures.
    pub async fn has_totp(&self, user: UserId) -> Result<bool, MfaError> {
        Ok(self.store.totp(user).await?.is_some_and(|r| r.confirmed))
    }

    /// Unused recovery codes left.
    ///
    /// # Errors
    /// Store failures.
    pub async fn recovery_codes_left(&self, user: UserId) -> Result<usize, MfaError> {
        Ok(self.store.recovery_codes_left(user).await?)
    }

    /// The user's second-factor counter.
    async fn counter(&self, user: UserId) -> Result<Option<AccountLockState>, MfaError> {
        Ok(self.counter.state(user).await?)
    }

    /// The sealed seed of `user`'s confirmed factor, read from the store (and cached).
    async fn confirmed_seed(&self, user: UserId) -> Result<Option<String>, MfaError> {
        match self.store.totp(user).await? {
            Some(record) if record.confirmed => {
                self.seeds.put(user, &record.sealed_secret);
                Ok(Some(record.sealed_secret))
            }
            _ => {
                self.seeds.forget(user);
                Ok(None)
            }
        }
    }

    /// Checks `code` against the seed `sealed` and, when a step matches, asks the store to
    /// accept it. A login first tries the store's one-statement accept-if-the-counter-is-clear;
    /// otherwise the second-factor counter is read alongside the accept (a matching step then
    /// costs one write and one read made together).
    async fn attempt(
        &self,
        user: UserId,
        sealed: &str,
        code: &str,
        confirm: bool,
    ) -> Result<(Attempt, Option<AccountLockState>), MfaError> {
        let secret = self.sealer.open(&user.to_string(), TOTP_PURPOSE, sealed)?;
        let unix = u64::try_from(self.now().unix_timestamp()).unwrap_or(0);
        match self.settings.matching_step(&secret, code, unix) {
            Err(_) => Ok((Attempt::Malformed, None)),
            Ok(None) => Ok((Attempt::Wrong, self.counter(user).await?)),
            Ok(Some(step)) => {
                if !confirm && self.accept_if_clear(user, sealed, step).await? {
                    return Ok((Attempt::Accepted, None));
                }
                let (accepted, state) = tokio::join!(
                    self.store.accept_totp_step(user, sealed, step, confirm),
                    self.counter(user)
                );
                let attempt = if accepted? {
                    Attempt::Accepted
                } else {
                    Attempt::NotAccepted
                };
                Ok((attempt, state?))
            }
        }
    }

    /// Accepts a login's `step` in one statement with the check that the second-factor
    /// counter is clear, where the store can see the counter; `false` sends the caller to the
    /// two-part path (nothing changed).
    async fn accept_if_clear(
        &self,
        user: UserId,
        sealed: &str,
        step: u64,
    ) -> Result<bool, MfaError> {
        let counter = LockoutKey::SecondFactor(user).storage_key();
        let accepted = self
            .store
            .accept_totp_step_if_clear(user, sealed, step, &counter, self.now())
            .await?;
        Ok(accepted == Some(true))
    }

    /// Turns an attempt into the answer and tells the counter: a malformed code is refused
    /// uncounted; a locked counter refuses whatever the code (a step the store accepted
    /// meanwhile is merely spent).
    async fn tally(
        &self,
        user: UserId,
        state: Option<AccountLockState>,
        attempt: Attempt,
        context: &RequestContext,
    ) -> Result<MfaCheck, MfaError> {
        let checked = match attempt {
            Attempt::Malformed => return Ok(MfaCheck::Refused(MfaRefusal::Malformed)),
            Attempt::Wrong => MfaCheck::Refused(MfaRefusal::Wrong),
            Attempt::NotAccepted => MfaCheck::Refused(MfaRefusal::Replayed),
            Attempt::Accepted => MfaCheck::Accepted,
        };
        self.counter
            .run(user, state, context, async { Ok(checked) })
            .await
    }

    async fn replace_recovery_codes(&self, user: UserId) -> Result<Vec<SecretString>, MfaError> {
        let (codes, digests) = recovery::generate(user)?;
        self.store
            .replace_recovery_codes(user, &digests, self.now())
            .await?;
        Ok(codes)
    }

    fn audit_check(
        &self,
        user: UserId,
        factor: &str,
        check: MfaCheck,
        context: &RequestContext,
    ) -> Result<(), MfaError> {
        let event = match check {
            MfaCheck::Accepted => {
                self.event(SdkAction::MfaVerified, Outcome::Success, user, context)
            }
            MfaCheck::Refused(refusal) => self
                .event(SdkAction::MfaFailed, Outcome::Failure, user, context)
                .with_reason(refusal.code()),
        };
        self.audit.record(event.with_metadata("factor", factor))?;
        Ok(())
    }

    fn event(
        &self,
        action: SdkAction,
        outcome: Outcome,
        user: UserId,
        context: &RequestContext,
    ) -> AuditEvent {
        user_event(
            action,
            outcome,
            Actor::user(user),
            Some(user),
            self.now(),
            context,
        )
    }

    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(self.clock.now())
    }
}
