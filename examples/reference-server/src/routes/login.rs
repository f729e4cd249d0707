//! Signing in through the `Authenticator`: the password, then a second factor or a required
//! password change, each step answering with the next one or the session.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use soc2_auth::login::{LoginOutcome, MfaMethod, MfaProof};
use soc2_auth::password::UserContext;
use soc2_auth::{ChangeReason, PublicDenial};
use soc2_session::SessionToken;
use soc2_tower::{ClientContext, CsrfToken};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::passkey_login::{self, PASSKEY_OPTIONS_ENDPOINT};
use super::{ApiError, JsonBody};
use crate::app::AppState;

/// Where a `password_change_required` login continues.
const CHANGE_ENDPOINT: &str = "/api/auth/password";
/// Where an `mfa_required` login continues.
pub(super) const MFA_ENDPOINT: &str = "/api/auth/mfa";

#[derive(Debug, Deserialize)]
pub(crate) struct Login {
    username: String,
    password: String,
}

/// Checks the password. Answers 200 `authenticated` with the session cookie and its CSRF
/// token; 200 `mfa_required` with a challenge for `POST /api/auth/mfa` and the `methods`
/// offered (with `passkey`, `passkey_options` names where to get its options); 200
/// `password_change_required` with a challenge for `POST /api/auth/password`; 200
/// `enrollment_required` with a session confined to enrolling a factor (when `[mfa] required`);
/// 401 `invalid_credentials` for a wrong password, an unknown or a locked account alike; 429
/// when the client's IP is throttled.
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    JsonBody(body): JsonBody<Login>,
) -> Result<Response, ApiError> {
    let outcome = state
        .login
        .login(&body.username, &body.password, &context)
        .await?;
    answer(&state, outcome)
}

#[derive(Debug, Deserialize)]
pub(crate) struct MfaAnswer {
    challenge: String,
    method: String,
    code: Option<String>,
    credential: Option<Box<RawValue>>,
}

/// Finishes an `mfa_required` login with `method` `totp` or `recovery_code` and its `code`,
/// or `passkey` and the `credential` answering the options of
/// `POST /api/auth/mfa/passkey/options` (whose challenge it presents). The challenge is spent
/// whatever the outcome: a wrong code or passkey means logging in again. Answers as login,
/// or 401 `invalid_credentials`.
pub(crate) async fn mfa(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    JsonBody(body): JsonBody<MfaAnswer>,
) -> Result<Response, ApiError> {
    let proof = match (body.method.as_str(), &body.code, &body.credential) {
        ("totp", Some(code), _) => MfaProof::Totp(code),
        ("recovery_code", Some(code), _) => MfaProof::RecoveryCode(code),
        ("passkey", _, Some(credential)) => MfaProof::Passkey(credential.get()),
        _ => {
            return Err(ApiError::InvalidRequest(
                "method is totp or recovery_code with a code, or passkey with a credential".into(),
            ));
        }
    };
    let outcome = state
        .login
        .complete_mfa(&body.challenge, proof, &context)
        .await
        .map_err(passkey_login::refused)?;
    answer(&state, outcome)
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequiredChange {
    challenge: String,
    new_password: String,
}

/// Finishes a `password_change_required` login: the new password goes through the policy and
/// history (422 `password_policy` otherwise), every earlier session of the user ends, and the
/// login continues (session, or `mfa_required` when a factor is enrolled). The challenge is
/// spent either way; 401 `invalid_credentials` for an unknown or spent one.
pub(crate) async fn change_required_password(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    JsonBody(body): JsonBody<RequiredChange>,
) -> Result<Response, ApiError> {
    let outcome = state
        .login
        .complete_password_change(
            &body.challenge,
            &body.new_password,
            &UserContext::default(),
            &context,
        )
        .await?;
    answer(&state, outcome)
}

/// The HTTP answer to a login step.
pub(super) fn answer(state: &AppState, outcome: LoginOutcome) -> Result<Response, ApiError> {
    match outcome {
        LoginOutcome::Authenticated { token, .. } => {
            Ok(session(state, &token, "authenticated", None))
        }
        LoginOutcome::EnrollmentDue {
            token, deadline, ..
        } => Ok(session(state, &token, "authenticated", Some(deadline))),
        LoginOutcome::EnrollmentRequired { token, .. } => {
            Ok(session(state, &token, "enrollment_required", None))
        }
        LoginOutcome::MfaRequired { challenge, methods } => {
            let mut body = json!({
                "status": "mfa_required",
                "challenge": challenge.token().expose_secret(),
                "methods": methods.iter().map(|m| m.name()).collect::<Vec<_>>(),
                "next": MFA_ENDPOINT,
            });
            if methods.contains(&MfaMethod::Passkey) {
                body["passkey_options"] = Value::from(PASSKEY_OPTIONS_ENDPOINT);
            }
            Ok(Json(body).into_response())
        }
        LoginOutcome::PasswordChangeRequired { challenge, reason } => Ok(Json(json!({
            "status": "password_change_required",
            "challenge": challenge.token().expose_secret(),
            "reason": change_reason(&reason),
            "change_endpoint": CHANGE_ENDPOINT,
        }))
        .into_response()),
        LoginOutcome::Denied(denied) => Err(match denied.public() {
            PublicDenial::TryLater { retry_after } => ApiError::TryLater(retry_after),
            _ => ApiError::InvalidCredentials,
        }),
        _ => Err(ApiError::InvalidCredentials),
    }
}

/// The session cookie and its CSRF token.
/// A session answer; `enroll_by` tells a user inside an MFA grace period when it ends.
fn session(
    state: &AppState,
    token: &SessionToken,
    status: &str,
    enroll_by: Option<OffsetDateTime>,
) -> Response {
    let csrf = CsrfToken::for_session(token);
    let mut body = json!({"status": status, "csrf_token": csrf.as_str()});
    if let Some(deadline) = enroll_by.and_then(|d| d.format(&Rfc3339).ok()) {
        body["mfa_enrollment_due"] = Value::String(deadline);
    }
    ([(SET_COOKIE, state.cookie.set(token))], Json(body)).into_response()
}

fn change_reason(reason: &ChangeReason) -> &'static str {
    match reason {
        ChangeReason::AdministratorRequired => "administrator_required",
        ChangeReason::Expired => "expired",
        ChangeReason::PolicyChanged(_) => "policy_changed",
        _ => "required",
    }
}
