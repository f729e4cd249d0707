//! The authenticated principal the layer puts into request extensions.

use std::sync::Arc;

use soc2_core::{SessionId, UserId};
use soc2_session::{AuthLevel, Factor, Session, SessionToken};
use time::OffsetDateTime;

use crate::CsrfToken;

/// How the request presented its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The session cookie (browsers): unsafe methods need the CSRF token.
    Cookie,
    /// `Authorization: Bearer` (programs): exempt from CSRF checks, since browsers never
    /// attach it on their own.
    Bearer,
}

/// The user behind a request with a valid session. Cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct Principal(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    session: Session,
    token: SessionToken,
    transport: Transport,
    checked_at: OffsetDateTime,
}

impl Principal {
    pub(crate) fn new(
        session: Session,
        token: SessionToken,
        transport: Transport,
        checked_at: OffsetDateTime,
    ) -> Self {
        Self(Arc::new(Inner {
            session,
            token,
            transport,
            checked_at,
        }))
    }

    /// The user.
    #[must_use]
    pub fn user_id(&self) -> UserId {
        self.0.session.user_id()
    }

    /// The session's id (safe to show and log).
    #[must_use]
    pub fn session_id(&self) -> SessionId {
        self.0.session.id()
    }

    /// How and when the user authenticated.
    #[must_use]
    pub fn auth(&self) -> &AuthLevel {
        self.0.session.auth()
    }

    /// The factors the session was established or last stepped up with.
    #[must_use]
    pub fn factors(&self) -> &[Factor] {
        &self.0.session.auth().factors
    }

    /// How the session was presented.
    #[must_use]
    pub fn transport(&self) -> Transport {
        self.0.transport
    }

    /// The validated session.
    #[must_use]
    pub fn session(&self) -> &Session {
        &self.0.session
    }

    /// When the layer validated the session (the clock's time for freshness checks).
    #[must_use]
    pub fn checked_at(&self) -> OffsetDateTime {
        self.0.checked_at
    }

    /// The presented token, for the `SessionManager` calls that take it (`revoke`,
    /// `revoke_others`, `rotate`). Never log it or send it anywhere else.
    #[must_use]
    pub fn token(&self) -> &SessionToken {
        &self.0.token
    }

    /// The session's CSRF token.
    #[must_use]
    pub fn csrf_token(&self) -> CsrfToken {
        CsrfToken::for_session(&self.0.token)
    }
}
