//! Why a request was refused: a typed kind for the host, a generic JSON body for the caller.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, StatusCode};

use crate::RejectionKind;

/// A refused request (tower-http's `ProtectionError` style): the caller gets
/// [`Rejection::status`] and `{"error": code}`, the host inspects [`Rejection::kind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    pub fn kind(&self) -> &RejectionKind {
        &self.kind
    }

    /// The HTTP status the caller gets.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The generic error code in the body (`{"error": code}`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The response (with `Retry-After` when throttled), with any body type that can be
    /// made from text.
    pub(crate) fn to_response<B: From<String>>(&self) -> http::Response<B> {
        self.kind.log();
        let mut response = http::Response::new(B::from(self.kind.body()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(seconds) = self.kind.retry_after() {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<RejectionKind> for Rejection {
    fn from(kind: RejectionKind) -> Self {
        Self::new(kind)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.to_response::<Body>()
    }
}
