//! Why a request was refused: a typed kind for the host, a generic JSON body for the caller.

use actix_web::http::StatusCode;
use actix_web::http::header::{ContentType, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};

use crate::RejectionKind;

/// A refused request: the caller gets [`Rejection::status`] and `{"error": code}`, the host
/// inspects [`Rejection::kind`]. Return it from a handler (it is an actix `ResponseError`).
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
}

impl From<RejectionKind> for Rejection {
    fn from(kind: RejectionKind) -> Self {
        Self::new(kind)
    }
}

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    /// The JSON body, with `Retry-After` when throttled.
    fn error_response(&self) -> HttpResponse {
        self.kind.log();
        let mut response = HttpResponse::build(self.status());
        response.insert_header(ContentType::json());
        if let Some(seconds) = self.kind.retry_after() {
            response.insert_header((RETRY_AFTER, seconds));
        }
        response.body(self.kind.body())
    }
}
