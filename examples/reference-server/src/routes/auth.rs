//! Registration, logout and health (login is in `login.rs`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use soc2_audit::Actor;
use soc2_auth::Username;
use soc2_auth::password::UserContext;
use soc2_core::UserId;
use soc2_tower::{ClientContext, CurrentUser};

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
