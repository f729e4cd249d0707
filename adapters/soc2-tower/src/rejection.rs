//! Why a request was refused: a typed kind for the host, a generic JSON body for the caller.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use soc2_session::Expiry;

/// Why the layer or an extractor refused a request. The caller only sees
/// [`Rejection::code`]; log the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No [`SessionLayer`](crate::SessionLayer) runs in front of the extractor: a wiring bug
    /// in the host (answered 500).
    #[error("the handler needs soc2_tower::SessionLayer in front of it")]
    MissingLayer,
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
}

/// A refused request (tower-http's `ProtectionError` style).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct Rejection {
    kind: RejectionKind,
}

impl Rejection {
    /// A rejection of `kind`.
    #[must_use]
    pub fn new(kind: RejectionKind) -> Self {
        Self { kind }
    }

    /// Why, for the host's logs and decisions.
    #[must_use]
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The HTTP status the caller gets.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self.kind {
            RejectionKind::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
            RejectionKind::SessionUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            RejectionKind::StepUpRequired
            | RejectionKind::CsrfOrigin
            | RejectionKind::CsrfToken => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The generic error code in the body (`{"error": code}`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self.kind {
            RejectionKind::MissingLayer => "internal",
            RejectionKind::SessionUnavailable => "unavailable",
            RejectionKind::StepUpRequired => "reauthentication_required",
            RejectionKind::CsrfOrigin | RejectionKind::CsrfToken => "csrf",
            _ => "unauthenticated",
        }
    }

    /// The response, with any body type that can be made from text.
    pub(crate) fn to_response<B: From<String>>(self) -> http::Response<B> {
        if self.kind == RejectionKind::MissingLayer {
            tracing::error!(target: "soc2::tower", "{}", self.kind);
        } else {
            tracing::debug!(target: "soc2::tower", kind = %self.kind, "request rejected");
        }
        let mut response =
            http::Response::new(B::from(format!(r#"{{"error":"{}"}}"#, self.code())));
        *response.status_mut() = self.status();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.to_response::<Body>()
    }
}
