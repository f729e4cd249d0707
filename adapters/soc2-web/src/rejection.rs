//! Why a request was refused: a typed kind for the host, a generic JSON body for the caller.

use std::time::Duration;

use soc2_session::Expiry;

/// Why the middleware or an extractor refused a request. The caller only sees
/// [`RejectionKind::status`] and the generic [`RejectionKind::body`]; log the kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No session middleware runs in front of the extractor: a wiring bug in the host
    /// (answered 500).
    #[error(
        "the handler needs the soc2 session middleware in front of it (soc2_tower::SessionLayer, soc2_actix::SessionMiddleware)"
    )]
    MissingLayer,
    /// The session middleware was built without an `Authorizer`: a wiring bug in the host
    /// (answered 500).
    #[error(
        "authorization needs an Authorizer: configure it with `with_authorizer` on the session middleware"
    )]
    MissingAuthorizer,
    /// Neither a session cookie nor a bearer token was sent.
    #[error("no session credentials")]
    NoCredentials,
    /// The token is malformed or names no session (logged out, rotated, revoked).
    #[error("invalid session")]
    InvalidSession,
    /// The session timed out.
    #[error("session expired ({0:?} timeout)")]
    Expired(Expiry),
    /// The session store or audit log failed, so the session could not be checked.
    #[error("session could not be checked")]
    SessionUnavailable,
    /// The action needs a more recent authentication.
    #[error("re-authentication required")]
    StepUpRequired,
    /// An unsafe request came from an origin that is not allowed, or named none.
    #[error("cross-site request refused: origin not allowed")]
    CsrfOrigin,
    /// An unsafe cookie-authenticated request lacked the right `X-CSRF-Token`.
    #[error("cross-site request refused: missing or wrong CSRF token")]
    CsrfToken,
    /// The authorizer denied the action (the denial is in the audit log as `authz.denied`).
    #[error("authorization denied (determining policies: {policies:?})")]
    Forbidden {
        /// The determining `forbid` policies; empty when no `permit` matched (deny by
        /// default) or a policy failed to evaluate.
        policies: Vec<String>,
    },
    /// The authorizer found no such resource (answered like a denial, so that callers
    /// cannot probe which resources exist).
    #[error("authorization denied: resource not found")]
    UnknownResource,
    /// The authorization request does not fit the policies' schema (unknown action,
    /// resource type or context shape, or a resource entity the host built wrongly): a bug in
    /// the host (answered 500).
    #[error("authorization request invalid: {0}")]
    InvalidAuthorizationRequest(String),
    /// The role store, the host's entity provider or the audit log failed, so no decision
    /// could be made (fail closed).
    #[error("authorization could not be decided")]
    AuthorizationUnavailable,
    /// The client's address failed too many logins recently.
    #[error("login throttled for {retry_after:?}")]
    Throttled {
        /// Roughly when the address may try again.
        retry_after: Duration,
    },
    /// The lockout store or the audit log failed, so the throttle could not decide (fail
    /// closed).
    #[error("login throttle could not be checked")]
    ThrottleUnavailable,
    /// The throttle cannot tell the client's address because the server does not pass the
    /// peer address to the middleware: a wiring bug in the host (answered 500).
    #[error(
        "the client address is unknown: serve with the peer address (axum: `into_make_service_with_connect_info::<SocketAddr>`)"
    )]
    UnknownClientAddress,
}

impl RejectionKind {
    /// The HTTP status the caller gets.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingLayer
            | Self::MissingAuthorizer
            | Self::InvalidAuthorizationRequest(_)
            | Self::UnknownClientAddress => 500,
            Self::SessionUnavailable
            | Self::AuthorizationUnavailable
            | Self::ThrottleUnavailable => 503,
            Self::StepUpRequired
            | Self::CsrfOrigin
            | Self::CsrfToken
            | Self::Forbidden { .. }
            | Self::UnknownResource => 403,
            Self::Throttled { .. } => 429,
            Self::NoCredentials | Self::InvalidSession | Self::Expired(_) => 401,
        }
    }

    /// The generic error code in the body (`{"error": code}`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingLayer
            | Self::MissingAuthorizer
            | Self::InvalidAuthorizationRequest(_)
            | Self::UnknownClientAddress => "internal",
            Self::SessionUnavailable
            | Self::AuthorizationUnavailable
            | Self::ThrottleUnavailable => "unavailable",
            Self::StepUpRequired => "reauthentication_required",
            Self::CsrfOrigin | Self::CsrfToken => "csrf",
            Self::Forbidden { .. } | Self::UnknownResource => "forbidden",
            Self::Throttled { .. } => "too_many_requests",
            Self::NoCredentials | Self::InvalidSession | Self::Expired(_) => "unauthenticated",
        }
    }

    /// The JSON body the caller gets: `{"error": code}`, nothing more.
    #[must_use]
    pub fn body(&self) -> String {
        format!(r#"{{"error":"{}"}}"#, self.code())
    }

    /// The `Retry-After` header's value in whole seconds (rounded up), for a throttled
    /// request.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Throttled { retry_after } => Some(
                retry_after
                    .as_secs()
                    .saturating_add(u64::from(retry_after.subsec_nanos() > 0)),
            ),
            _ => None,
        }
    }

    /// Logs the rejection as the adapters answer it: host wiring bugs (500) as errors, the
    /// rest at debug level (their causes are logged, with detail, where they happen).
    pub fn log(&self) {
        if self.status() == 500 {
            tracing::error!(target: "soc2::web", "{self}");
        } else {
            tracing::debug!(target: "soc2::web", kind = %self, "request rejected");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_a_status_and_a_generic_body() {
        let cases = [
            (RejectionKind::MissingLayer, 500, "internal"),
            (RejectionKind::MissingAuthorizer, 500, "internal"),
            (RejectionKind::NoCredentials, 401, "unauthenticated"),
            (RejectionKind::InvalidSession, 401, "unauthenticated"),
            (RejectionKind::Expired(Expiry::Idle), 401, "unauthenticated"),
            (RejectionKind::SessionUnavailable, 503, "unavailable"),
            (
                RejectionKind::StepUpRequired,
                403,
                "reauthentication_required",
            ),
            (RejectionKind::CsrfOrigin, 403, "csrf"),
            (RejectionKind::CsrfToken, 403, "csrf"),
            (
                RejectionKind::Forbidden {
                    policies: vec!["secret-policy-name".into()],
                },
                403,
                "forbidden",
            ),
            (RejectionKind::UnknownResource, 403, "forbidden"),
            (
                RejectionKind::InvalidAuthorizationRequest("unknown action `x`".into()),
                500,
                "internal",
            ),
            (RejectionKind::AuthorizationUnavailable, 503, "unavailable"),
            (
                RejectionKind::Throttled {
                    retry_after: Duration::from_secs(3),
                },
                429,
                "too_many_requests",
            ),
            (RejectionKind::ThrottleUnavailable, 503, "unavailable"),
            (RejectionKind::UnknownClientAddress, 500, "internal"),
        ];
        for (kind, status, code) in cases {
            assert_eq!((kind.status(), kind.code()), (status, code), "{kind:?}");
            assert_eq!(kind.body(), format!(r#"{{"error":"{code}"}}"#));
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let after = |millis| {
            RejectionKind::Throttled {
                retry_after: Duration::from_millis(millis),
            }
            .retry_after()
        };
        assert_eq!(after(3000), Some(3));
        assert_eq!(after(3001), Some(4));
        assert_eq!(after(1), Some(1));
        assert_eq!(RejectionKind::CsrfToken.retry_after(), None);
    }
}
