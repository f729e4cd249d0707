//! `SessionManager`: the session lifecycle, against an injected clock, audited.

use std::sync::Arc;
use std::time::Duration;

use soc2_audit::{Actor, AuditError, AuditEvent, AuditLog, Outcome, SdkAction, Target};
use soc2_core::{
    ChangeFeed, Clock, RequestContext, SessionId, StoreError, UserId, truncate_to_micros,
};
use time::OffsetDateTime;

use crate::cache::{Lookup, SessionCache};
use crate::{
    AuthLevel, Factor, OnSessionLimit, SessionPolicy, SessionRecord, SessionStore, SessionToken,
    TokenDigest, TokenError,
};

/// Which timeout ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expiry {
    /// Unused for longer than the idle timeout.
    Idle,
    /// Older than the absolute lifetime.
    Absolute,
}

/// Why a session operation was refused. Callers answer every variant but `Store` and `Audit`
/// with "please log in (again)".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The token is malformed or no session has it (logged out, rotated, revoked).
    #[error("invalid session")]
    Invalid,
    /// The session timed out.
    #[error("session expired ({0:?} timeout)")]
    Expired(Expiry),
    /// The user holds the maximum number of sessions and the policy refuses more.
    #[error("too many sessions: at most {limit} at once")]
    LimitReached {
        /// The policy's limit.
        limit: usize,
    },
    /// The action needs a more recent authentication (step-up).
    #[error("re-authentication required")]
    StepUpRequired,
    /// The token could not be generated.
    #[error(transparent)]
    Token(TokenError),
    /// The session store failed.
    #[error("session store failed")]
    Store(#[from] StoreError),
    /// The audit log refused the event; the action did not take effect (fail closed).
    #[error("audit log unavailable")]
    Audit(#[from] AuditError),
}

/// A valid session, as `validate` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    record: SessionRecord,
}

impl Session {
    /// The session id.
    #[must_use]
    pub fn id(&self) -> SessionId {
        self.record.id
    }

    /// The user.
    #[must_use]
    pub fn user_id(&self) -> UserId {
        self.record.user_id
    }

    /// How the user authenticated.
    #[must_use]
    pub fn auth(&self) -> &AuthLevel {
        &self.record.auth
    }

    /// The stored record.
    #[must_use]
    pub fn record(&self) -> &SessionRecord {
        &self.record
    }

    /// Refuses unless the user authenticated within `max_age` of `now`: step-up before a
    /// sensitive action (OWASP ASVS 4.0.3 V3.7.1).
    ///
    /// # Errors
    /// [`SessionError::StepUpRequired`] when the authentication is older.
    pub fn require_fresh(
        &self,
        max_age: Duration,
        now: OffsetDateTime,
    ) -> Result<(), SessionError> {
        if now - self.record.auth.authenticated_at <= max_age {
            Ok(())
        } else {
            Err(SessionError::StepUpRequired)
        }
    }
}

/// One line of a "your devices" page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSession {
    /// The session.
    pub record: SessionRecord,
    /// True for the session making the request.
    pub current: bool,
}

/// Creates, validates, rotates and revokes sessions under a [`SessionPolicy`].
#[derive(Debug, Clone)]
pub struct SessionManager {
    store: Arc<dyn SessionStore>,
    policy: SessionPolicy,
    clock: Arc<dyn Clock>,
    audit: AuditLog,
    cache: Option<Arc<SessionCache>>,
}

impl SessionManager {
    /// A manager over `store`; `policy` should have passed [`SessionPolicy::validate`].
    #[must_use]
    pub fn new(
        store: Arc<dyn SessionStore>,
        policy: SessionPolicy,
        clock: Arc<dyn Clock>,
        audit: AuditLog,
    ) -> Self {
        Self {
            store,
            policy,
            clock,
            audit,
            cache: None,
        }
    }

    /// Serves validated sessions from memory for up to `max_staleness` (a few seconds) after
    /// reading them from the store. Off by default.
    ///
    /// # Warning
    /// A session revoked or rotated through *another* app instance stays usable here for up to
    /// `max_staleness`. Revocations through this manager take effect at once. Use
    /// [`SessionManager::with_cache_fed_by`] when other instances or tools write the store.
    #[must_use]
    pub fn with_cache(mut self, max_staleness: Duration) -> Self {
        self.cache = Some(Arc::new(SessionCache::new(max_staleness)));
        self
    }

    /// Serves validated sessions from memory, dropping each one as soon as `feed` reports it
    /// ended or rotated, whoever did it (another app instance, `soc2ctl`, the sweeper, manual
    /// SQL): a store adapter's change follower (soc2-sqlx's `postgres::follow_changes` and
    /// `sqlite::follow_changes`, soc2-redis's `follow_changes`) publishes every change the
    /// store commits.
    ///
    /// Before every lookup the cache applies the changes published so far; while `feed` is not
    /// live (the follower lost its database, or stopped) it serves nothing and every validation
    /// reads the store. A store read that a change overtook is not cached. `max_staleness`
    /// remains a backstop: no entry is served longer after its store read, whatever the feed
    /// says.
    #[must_use]
    pub fn with_cache_fed_by(mut self, feed: &ChangeFeed, max_staleness: Duration) -> Self {
        self.cache = Some(Arc::new(SessionCache::fed_by(feed, max_staleness)));
        self
    }

    /// Starts a session for `user_id`, authenticated now with `factors`. Applies the
    /// concurrent-session limit.
    ///
    /// # Errors
    /// [`SessionError::LimitReached`] under a refusing limit; store and audit failures (then no
    /// session exists).
    pub async fn create(
        &self,
        user_id: UserId,
        factors: &[Factor],
        context: &RequestContext,
    ) -> Result<(SessionToken, Session), SessionError> {
        let now = self.now();
        self.make_room(user_id, context).await?;
        let token = SessionToken::generate().map_err(SessionError::Token)?;
        let mfa = factors.iter().any(|f| *f != Factor::Password);
        let record = SessionRecord {
            id: SessionId::new_v7(),
            digest: token.digest(),
            user_id,
            created_at: now,
            last_seen_at: now,
            idle_expires_at: now + self.policy.idle_timeout,
            absolute_expires_at: now + self.policy.absolute_lifetime,
            auth: AuthLevel {
                authenticated_at: now,
                factors: factors.to_vec(),
                mfa_verified_at: mfa.then_some(now),
            },
            client_ip: context.client_ip(),
            user_agent: context.user_agent().map(str::to_owned),
        };
        self.store.insert(&record).await?;
        let event = self
            .event(
                SdkAction::SessionCreated,
                Outcome::Success,
                Actor::user(user_id),
                &record,
                context,
            )
            .with_metadata(
                "factors",
                factors.iter().map(|f| f.name()).collect::<Vec<_>>(),
            );
        if let Err(error) = self.audit.record(event) {
            self.store.remove(&record.digest).await?;
            return Err(error.into());
        }
        Ok((token, Session { record }))
    }

    /// Checks a presented token against the store and the clock; records use (coalesced to
    /// one write per touch interval).
    ///
    /// # Errors
    /// [`SessionError::Invalid`] or [`SessionError::Expired`] (the expired session is deleted and
    /// audited), or a store failure.
    pub async fn validate(
        &self,
        presented: &[u8],
        context: &RequestContext,
    ) -> Result<Session, SessionError> {
        let token = SessionToken::parse(presented).map_err(|_| SessionError::Invalid)?;
        let digest = token.digest();
        let now = self.now();
        let mut ticket = None;
        if let Some(cache) = &self.cache {
            let (cached, lookup_ticket): Lookup = cache.get(&digest, now);
            if let Some(record) = cached.filter(|record| self.usable_without_store(record, now)) {
                return Ok(Session { record });
            }
            ticket = Some(lookup_ticket);
        }
        let mut record = self
            .store
            .get(&digest)
            .await?
            .ok_or(SessionError::Invalid)?;
        let expiry = if now >= record.absolute_expires_at {
            Some(Expiry::Absolute)
        } else if now >= record.idle_expires_at {
            Some(Expiry::Idle)
        } else {
            None
        };
        if let Some(expiry) = expiry {
            self.forget(&digest);
            if self.store.remove(&digest).await?.is_some() {
                let event = self
                    .event(
                        SdkAction::SessionExpired,
                        Outcome::Success,
                        Actor::System,
                        &record,
                        context,
                    )
                    .with_reason(match expiry {
                        Expiry::Idle => "idle timeout",
                        Expiry::Absolute => "absolute lifetime",
                    });
                // The session is refused either way; a full audit buffer is reported in logs.
                if let Err(error) = self.audit.record(event) {
                    tracing::error!(target: "soc2::session", %error, "session expiry not audited");
                }
            }
            return Err(SessionError::Expired(expiry));
        }
        if now - record.last_seen_at >= self.policy.touch_interval {
            let idle_expires_at = (now + self.policy.idle_timeout).min(record.absolute_expires_at);
            if !self.store.touch(&digest, now, idle_expires_at).await? {
                return Err(SessionError::Invalid);
            }
            record.last_seen_at = now;
            record.idle_expires_at = idle_expires_at;
        }
        if let (Some(cache), Some(ticket)) = (&self.cache, ticket) {
            cache.put(&record, now, ticket);
        }
        Ok(Session { record })
    }

    /// Gives the session a new token and kills the old one at once (after login, MFA, step-up
    /// or a privilege change). With `step_up`, records a fresh authentication with those factors.
    ///
    /// # Errors
    /// [`SessionError::Invalid`] when the old token is no longer valid (including when a
    /// concurrent rotation won), store and audit failures.
    pub async fn rotate(
        &self,
        presented: &[u8],
        step_up: Option<&[Factor]>,
        context: &RequestContext,
    ) -> Result<(SessionToken, Session), SessionError> {
        let current = self.validate(presented, context).await?;
        let now = self.now();
        let token = SessionToken::generate().map_err(SessionError::Token)?;
        let mut record = current.record.clone();
        record.digest = token.digest();
        if let Some(factors) = step_up {
            record.auth.authenticated_at = now;
            record.auth.factors = factors.to_vec();
            if factors.iter().any(|f| *f != Factor::Password) {
                record.auth.mfa_verified_at = Some(now);
            }
        }
        self.forget(&current.record.digest);
        let rotated = self.store.rotate(&current.record.digest, &record).await?;
        // Again after the write: a validation that read the store meanwhile is not cached.
        self.forget(&current.record.digest);
        if !rotated {
            return Err(SessionError::Invalid);
        }
        let event = self
            .event(
                SdkAction::SessionRotated,
                Outcome::Success,
                Actor::user(record.user_id),
                &record,
                context,
            )
            .with_metadata("previous", current.record.digest.session_ref())
            .with_metadata("step_up", step_up.is_some());
        self.audit.record(event)?;
        Ok((token, Session { record }))
    }

    /// Ends the session of `presented` (logout, or an administrator acting as `by`).
    ///
    /// # Errors
    /// Store and audit failures; the session is gone either way once the store answered.
    pub async fn revoke(
        &self,
        presented: &[u8],
        by: Actor,
        context: &RequestContext,
    ) -> Result<bool, SessionError> {
        let Ok(token) = SessionToken::parse(presented) else {
            return Ok(false);
        };
        self.forget(&token.digest());
        let removed = self.store.remove(&token.digest()).await?;
        self.forget(&token.digest());
        match removed {
            Some(record) => {
                self.audit_revoked(&[record], by, "logout or revocation", context)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Ends the session `id` of `user` by its id (a "sign out that device" button, where the
    /// caller never sees other sessions' tokens). Returns false when `user` has no such
    /// session, so one user cannot end another's.
    ///
    /// # Errors
    /// Store and audit failures.
    pub async fn revoke_id(
        &self,
        user: UserId,
        id: SessionId,
        by: Actor,
        context: &RequestContext,
    ) -> Result<bool, SessionError> {
        let sessions = self.store.list_user(user).await?;
        let Some(record) = sessions.into_iter().find(|record| record.id == id) else {
            return Ok(false);
        };
        self.forget(&record.digest);
        let removed = self.store.remove(&record.digest).await?;
        self.forget(&record.digest);
        match removed {
            Some(record) => {
                self.audit_revoked(&[record], by, "session ended by id", context)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Ends every session of `user` (account disabled, credential compromise).
    ///
    /// # Errors
    /// Store and audit failures.
    pub async fn revoke_user(
        &self,
        user: UserId,
        by: Actor,
        context: &RequestContext,
    ) -> Result<usize, SessionError> {
        if let Some(cache) = &self.cache {
            cache.remove_user(user);
        }
        let removed = self.store.remove_user(user, None).await?;
        if let Some(cache) = &self.cache {
            cache.remove_user(user);
        }
        self.audit_revoked(&removed, by, "all sessions of the user revoked", context)?;
        Ok(removed.len())
    }

    /// Ends every other session of the current user, keeping `current` (after a password or
    /// factor change).
    ///
    /// # Errors
    /// [`SessionError::Invalid`] when `current` is not valid; store and audit failures.
    pub async fn revoke_others(
        &self,
        current: &[u8],
        context: &RequestContext,
    ) -> Result<usize, SessionError> {
        let session = self.validate(current, context).await?;
        let removed = self
            .store
            .remove_user(session.user_id(), Some(&session.record.digest))
            .await?;
        for record in &removed {
            self.forget(&record.digest);
        }
        let by = Actor::user(session.user_id());
        self.audit_revoked(
            &removed,
            by,
            "other sessions revoked after a credential change",
            context,
        )?;
        Ok(removed.len())
    }

    /// The user's sessions for a "your devices" page, marking the one whose digest is `current`.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list(
        &self,
        user: UserId,
        current: Option<&TokenDigest>,
    ) -> Result<Vec<DeviceSession>, SessionError> {
        let now = self.now();
        Ok(self
            .store
            .list_user(user)
            .await?
            .into_iter()
            .filter(|record| now < record.idle_expires_at && now < record.absolute_expires_at)
            .map(|record| DeviceSession {
                current: Some(&record.digest) == current,
                record,
            })
            .collect())
    }

    /// Deletes up to `batch` expired sessions and audits each; call it periodically.
    /// Returns how many were deleted.
    ///
    /// # Errors
    /// Store and audit failures.
    pub async fn sweep(&self, batch: u32) -> Result<usize, SessionError> {
        let now = self.now();
        let removed = self.store.remove_expired(now, batch).await?;
        for record in &removed {
            let reason = if now >= record.absolute_expires_at {
                "absolute lifetime"
            } else {
                "idle timeout"
            };
            let event = self
                .event(
                    SdkAction::SessionExpired,
                    Outcome::Success,
                    Actor::System,
                    record,
                    &RequestContext::new(),
                )
                .with_reason(reason);
            self.audit.record(event)?;
        }
        Ok(removed.len())
    }

    /// Applies the concurrent-session limit before a new session is created.
    async fn make_room(
        &self,
        user_id: UserId,
        context: &RequestContext,
    ) -> Result<(), SessionError> {
        let Some((limit, on_limit)) = self.policy.max_concurrent else {
            return Ok(());
        };
        let now = self.now();
        let live: Vec<SessionRecord> = self
            .store
            .list_user(user_id)
            .await?
            .into_iter()
            .filter(|record| now < record.idle_expires_at && now < record.absolute_expires_at)
            .collect();
        if live.len() < limit {
            return Ok(());
        }
        let actor = Actor::user(user_id);
        let target = Target::new("user", &user_id.to_string());
        match on_limit {
            OnSessionLimit::Refuse => {
                let event =
                    AuditEvent::new(SdkAction::SessionLimitReached, Outcome::Denied, actor, now)
                        .with_target(target)
                        .with_context(context.clone())
                        .with_metadata("limit", limit);
                self.audit.record(event)?;
                Err(SessionError::LimitReached { limit })
            }
            _ => {
                let mut by_use = live;
                by_use.sort_by_key(|record| record.last_seen_at);
                for record in by_use.iter().take(by_use.len() + 1 - limit) {
                    self.forget(&record.digest);
                    let removed = self.store.remove(&record.digest).await?;
                    self.forget(&record.digest);
                    if removed.is_some() {
                        let event = self
                            .event(
                                SdkAction::SessionLimitReached,
                                Outcome::Success,
                                actor.clone(),
                                record,
                                context,
                            )
                            .with_reason(
                                "least recently used session ended to stay within the limit",
                            )
                            .with_metadata("limit", limit);
                        self.audit.record(event)?;
                    }
                }
                Ok(())
            }
        }
    }

    fn audit_revoked(
        &self,
        records: &[SessionRecord],
        by: Actor,
        reason: &str,
        context: &RequestContext,
    ) -> Result<(), SessionError> {
        for record in records {
            let event = self
                .event(
                    SdkAction::SessionRevoked,
                    Outcome::Success,
                    by.clone(),
                    record,
                    context,
                )
                .with_reason(reason);
            self.audit.record(event)?;
        }
        Ok(())
    }

    /// True when a cached record may be served as is: not expired, and no touch due.
    fn usable_without_store(&self, record: &SessionRecord, now: OffsetDateTime) -> bool {
        now < record.absolute_expires_at
            && now < record.idle_expires_at
            && now - record.last_seen_at < self.policy.touch_interval
    }

    fn forget(&self, digest: &TokenDigest) {
        if let Some(cache) = &self.cache {
            cache.remove(digest);
        }
    }

    /// The clock's time at the precision stores keep (whole microseconds), so a session read
    /// back equals the one written.
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(self.clock.now())
    }

    fn event(
        &self,
        action: SdkAction,
        outcome: Outcome,
        actor: Actor,
        record: &SessionRecord,
        context: &RequestContext,
    ) -> AuditEvent {
        AuditEvent::new(action, outcome, actor, self.now())
            .with_target(Target::new("session", &record.id.to_string()))
            .with_session(record.digest.session_ref())
            .with_context(context.clone())
            .with_metadata("user_id", record.user_id)
    }
}
