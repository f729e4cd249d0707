//! Error answers: `{"error": code, ...}` with the matching status.

use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use soc2_auth::AuthError;
use soc2_auth::login::LoginError;
use soc2_auth::mfa::MfaError;
use soc2_auth::passkey::PasskeyError;
use soc2_auth::password::Violation;
use soc2_rbac::RoleError;
use soc2_session::SessionError;
use soc2_tower::Rejection;

/// Why a request failed, as the caller sees it.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 400 `invalid_request`: the body or a parameter is malformed.
    InvalidRequest(String),
    /// 401 `invalid_credentials`: wrong, unknown, disabled or locked, indistinguishably.
    InvalidCredentials,
    /// 403 `invalid_current_password`: the current password given for a change is wrong.
    WrongCurrentPassword,
    /// 404 `not_found`.
    NotFound,
    /// 409 `username_taken`.
    UsernameTaken,
    /// 403 `mfa_enrollment_required`: an enrolment-only session tried anything else.
    EnrollmentRequired,
    /// 409 `conflict`: a concurrent change won.
    Conflict,
    /// 409 `mfa_already_enrolled`: remove the factor before enrolling another.
    MfaAlreadyEnrolled,
    /// 409 `mfa_not_pending`: no enrolment to confirm.
    MfaNotPending,
    /// 422 `invalid_code`: a second-factor code was refused (wrong, replayed, malformed or
    /// the counter is locked, indistinguishably).
    InvalidCode,
    /// 422 `invalid_username`.
    InvalidUsername,
    /// 422 `invalid_name` with what is wrong: a passkey's name (empty, too long, control
    /// characters).
    InvalidName(String),
    /// 422 `invalid_passkey`: a passkey registration was refused (unknown, expired or spent
    /// ceremony, a response that does not verify or comes from another origin, a credential
    /// registered already, indistinguishably; the reason is logged).
    InvalidPasskey,
    /// 422 `password_policy` with every violation.
    PasswordPolicy(Vec<Violation>),
    /// 429 `too_many_requests` with `Retry-After`.
    TryLater(Duration),
    /// 503 `unavailable`: a store or the audit log failed; nothing took effect.
    Unavailable,
    /// An authorization refusal from the session layer, answered as it says (403
    /// `forbidden`, 503 when the authorizer failed).
    Authorization(Rejection),
    /// 409 `sod_conflict` naming the segregation-of-duties rule a role grant would break.
    SodConflict(String),
    /// 422 `invalid_policies` with every problem (`file:line:col: message`); the previous
    /// policy set stays in force.
    InvalidPolicies(Vec<String>),
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        Self::Authorization(rejection)
    }
}

impl From<RoleError> for ApiError {
    fn from(error: RoleError) -> Self {
        match error {
            RoleError::SodConflict(conflict) => Self::SodConflict(conflict.rule),
            other => unavailable(&other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::InvalidUsername(_) => Self::InvalidUsername,
            AuthError::UsernameTaken => Self::UsernameTaken,
            AuthError::WrongCurrentPassword => Self::WrongCurrentPassword,
            AuthError::Rejected(rejected) => Self::PasswordPolicy(rejected.violations().to_vec()),
            AuthError::Conflict => Self::Conflict,
            AuthError::UnknownUser => Self::NotFound,
            other => unavailable(&other),
        }
    }
}

impl From<MfaError> for ApiError {
    fn from(error: MfaError) -> Self {
        match error {
            MfaError::AlreadyEnrolled => Self::MfaAlreadyEnrolled,
            MfaError::NotPending => Self::MfaNotPending,
            other => unavailable(&other),
        }
    }
}

impl From<PasskeyError> for ApiError {
    fn from(error: PasskeyError) -> Self {
        match error {
            PasskeyError::InvalidName { .. } => Self::InvalidName(error.to_string()),
            PasskeyError::ResponseTooLarge { .. } | PasskeyError::MalformedResponse => {
                Self::InvalidRequest(error.to_string())
            }
            PasskeyError::InvalidCredentialId | PasskeyError::NoPasskeys => Self::NotFound,
            PasskeyError::Refused(refusal) => {
                tracing::info!(reason = refusal.code(), "passkey registration refused");
                Self::InvalidPasskey
            }
            other => unavailable(&other),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::Password(error) => error.into(),
            LoginError::Mfa(error) => error.into(),
            LoginError::Passkey(error) => error.into(),
            LoginError::PasskeysNotConfigured => Self::NotFound,
            LoginError::Session(error) => error.into(),
            other => unavailable(&other),
        }
    }
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Invalid | SessionError::Expired(_) => Self::InvalidCredentials,
            SessionError::LimitReached { .. } => Self::Conflict,
            other => unavailable(&other),
        }
    }
}

/// Logs the cause (never shown to the caller) and answers 503.
pub(crate) fn unavailable(error: &dyn std::error::Error) -> ApiError {
    tracing::error!(%error, "request failed");
    ApiError::Unavailable
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Self::Authorization(rejection) => return rejection.into_response(),
            Self::SodConflict(rule) => (
                StatusCode::CONFLICT,
                json!({"error": "sod_conflict", "rule": rule}),
            ),
            Self::InvalidPolicies(problems) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "invalid_policies", "problems": problems}),
            ),
            Self::InvalidRequest(detail) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "detail": detail}),
            ),
            Self::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_credentials"}),
            ),
            Self::WrongCurrentPassword => (
                StatusCode::FORBIDDEN,
                json!({"error": "invalid_current_password"}),
            ),
            Self::NotFound => (StatusCode::NOT_FOUND, json!({"error": "not_found"})),
            Self::UsernameTaken => (StatusCode::CONFLICT, json!({"error": "username_taken"})),
            Self::EnrollmentRequired => (
                StatusCode::FORBIDDEN,
                json!({"error": "mfa_enrollment_required"}),
            ),
            Self::Conflict => (StatusCode::CONFLICT, json!({"error": "conflict"})),
            Self::MfaAlreadyEnrolled => (
                StatusCode::CONFLICT,
                json!({"error": "mfa_already_enrolled"}),
            ),
            Self::MfaNotPending => (StatusCode::CONFLICT, json!({"error": "mfa_not_pending"})),
            Self::InvalidCode => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "invalid_code"}),
            ),
            Self::InvalidUsername => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "invalid_username"}),
            ),
            Self::InvalidName(detail) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "invalid_name", "detail": detail}),
            ),
            Self::InvalidPasskey => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "invalid_passkey"}),
            ),
            Self::PasswordPolicy(violations) => {
                let violations: Vec<_> = violations
                    .iter()
                    .map(|v| json!({"code": v.code().as_str(), "message": v.message()}))
                    .collect();
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"error": "password_policy", "violations": violations}),
                )
            }
            Self::TryLater(retry_after) => {
                let seconds = retry_after.as_secs().max(1);
                let body = json!({"error": "too_many_requests", "retry_after": seconds});
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(RETRY_AFTER, seconds.to_string())],
                    Json(body),
                )
                    .into_response();
            }
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "unavailable"}),
            ),
        };
        (status, Json(body)).into_response()
    }
}
