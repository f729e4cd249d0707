//! With `[mfa] required`, a user without a second factor signs in to an enrolment-only
//! session: it may read `/api/me`, enrol TOTP or a passkey and log out, and nothing else (403
//! `mfa_enrollment_required`). After confirming the factor the user signs in again with it.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use soc2_session::Factor;
use soc2_tower::Principal;

use super::ApiError;
use crate::app::AppState;

/// Refuses everything but enrolment to a password-only session when MFA is required.
pub(crate) async fn confine(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.mfa_required
        && request
            .extensions()
            .get::<Principal>()
            .is_some_and(|principal| !has_second_factor(principal))
        && !allowed(request.uri().path())
    {
        return ApiError::EnrollmentRequired.into_response();
    }
    next.run(request).await
}

fn has_second_factor(principal: &Principal) -> bool {
    principal
        .factors()
        .iter()
        .any(|factor| *factor != Factor::Password)
}

/// What an enrolment-only session may reach.
fn allowed(path: &str) -> bool {
    path == "/healthz"
        || path == "/api/me"
        || path == "/api/me/mfa/totp"
        || path == "/api/me/mfa/totp/confirm"
        || path == "/api/me/passkeys"
        || path == "/api/me/passkeys/confirm"
        || path.starts_with("/api/auth/")
}
