//! Registration, login, the required password change, logout and health.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use soc2_audit::Actor;
use soc2_auth::password::UserContext;
use soc2_auth::{ChangeReason, PasswordCheck, PublicDenial, Username, VerifiedPassword};
use soc2_core::{RequestContext, UserId};
use soc2_session::Factor;
use soc2_tower::{ClientContext, CsrfToken, CurrentUser};

use super::{ApiError, JsonBody};
use crate::app::AppState;
use crate::bootstrap::ADMIN_USERNAME;

/// 200 while the audit log reaches its store, else 503 (every decision must be recordable).
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    if state.audit.stats().sink_failing {
        ApiError::Unavailable.into_response()
    } else {
        Json(json!({"status": "ok"})).into_response()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Register {
    username: String,
    password: String,
    email: Option<String>,
}

/// Creates an account; its password is checked against the policy with the user's details.
pub(crate) async fn register(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    JsonBody(body): JsonBody<Register>,
) -> Result<Response, ApiError> {
    if !state.allow_registration {
        return Err(ApiError::NotFound);
    }
    if Username::parse(&body.username).is_ok_and(|name| name.as_str() == ADMIN_USERNAME) {
        return Err(ApiError::UsernameTaken);
    }
    let mut profile = UserContext::default();
    if let Some(email) = &body.email {
        profile = profile.with_email(email);
    }
    let user = UserId::new_v7();
    let record = state
        .auth
        .register(
            user,
            &body.username,
            Some(&body.password),
            &profile,
            &context,
        )
        .await?;
    let body = json!({"id": user, "username": record.username.as_str()});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct Login {
    username: String,
    password: String,
}

/// Checks the password; on success starts a cookie session and returns its CSRF token, or
/// asks for a password change first (no session is issued until the password is changed
/// through `POST /api/auth/password`).
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    JsonBody(body): JsonBody<Login>,
) -> Result<Response, ApiError> {
    let user = verify(&state, &body.username, &body.password, &context).await?;
    if let Some(reason) = &user.change_required {
        let body = json!({
            "status": "password_change_required",
            "reason": change_reason(reason),
            "change_endpoint": "/api/auth/password",
        });
        return Ok(Json(body).into_response());
    }
    let (token, _) = state
        .sessions
        .create(user.user_id, &[Factor::Password], &context)
        .await?;
    let csrf = CsrfToken::for_session(&token);
    let body = json!({"status": "authenticated", "csrf_token": csrf.as_str()});
    Ok(([(SET_COOKIE, state.cookie.set(&token))], Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequiredChange {
    username: String,
    current_password: String,
    new_password: String,
}

/// The change a `password_change_required` login asks for: proves the current password
/// again (counted toward lockout like a login), sets the new one, and ends every session of
/// the user. The client then logs in with the new password.
pub(crate) async fn change_required_password(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    JsonBody(body): JsonBody<RequiredChange>,
) -> Result<StatusCode, ApiError> {
    let user = verify(&state, &body.username, &body.current_password, &context).await?;
    let profile = UserContext::default().with_username(user.username.as_str());
    state
        .auth
        .change_password(
            user.user_id,
            &body.current_password,
            &body.new_password,
            &profile,
            &context,
        )
        .await?;
    state
        .sessions
        .revoke_user(user.user_id, Actor::user(user.user_id), &context)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends the current session on the server and clears the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    CurrentUser(user): CurrentUser,
) -> Result<Response, ApiError> {
    state
        .sessions
        .revoke(
            user.token().expose_secret().as_bytes(),
            Actor::user(user.user_id()),
            &context,
        )
        .await?;
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, state.cookie.clear())]).into_response())
}

/// The password step shared by login and the required change.
async fn verify(
    state: &AppState,
    username: &str,
    password: &str,
    context: &RequestContext,
) -> Result<VerifiedPassword, ApiError> {
    match state.auth.verify(username, password, context).await? {
        PasswordCheck::Verified(user) => Ok(user),
        PasswordCheck::Denied(denied) => Err(match denied.public() {
            PublicDenial::TryLater { retry_after } => ApiError::TryLater(retry_after),
            _ => ApiError::InvalidCredentials,
        }),
        _ => Err(ApiError::InvalidCredentials),
    }
}

fn change_reason(reason: &ChangeReason) -> &'static str {
    match reason {
        ChangeReason::AdministratorRequired => "administrator_required",
        ChangeReason::Expired => "expired",
        ChangeReason::PolicyChanged(_) => "policy_changed",
        _ => "required",
    }
}
