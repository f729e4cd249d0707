//! The signed-in user: profile, password change, sessions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use soc2_audit::Actor;
use soc2_auth::password::UserContext;
use soc2_core::SessionId;
use soc2_session::DeviceSession;
use soc2_tower::{ClientContext, CurrentUser};
use time::format_description::well_known::Rfc3339;

use super::error::unavailable;
use super::passkeys;
use super::{ApiError, JsonBody};
use crate::app::AppState;

/// `{id, username, roles, mfa: {totp, passkeys, recovery_codes_left}}`: the user's directly
/// held roles, whether TOTP is enrolled, how many passkeys (0 when passkeys are off) and
/// recovery codes are left.
pub(crate) async fn me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, ApiError> {
    let record = state.auth.credential(user.user_id()).await?;
    let totp = state.mfa.has_totp(user.user_id()).await?;
    let recovery_codes_left = state.mfa.recovery_codes_left(user.user_id()).await?;
    let passkeys = passkeys::count(&state, user.user_id()).await?;
    let held = state
        .roles
        .user_roles(user.user_id(), state.clock.now())
        .await
        .map_err(|e| unavailable(&e))?;
    let roles: Vec<&str> = held.direct().map(|role| role.as_str()).collect();
    Ok(Json(json!({
        "id": user.user_id(),
        "username": record.username.as_str(),
        "roles": roles,
        "mfa": {"totp": totp, "passkeys": passkeys, "recovery_codes_left": recovery_codes_left},
    })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// Changes the password (current one required, policy and history applied), then ends every
/// other session of the user.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    let record = state.auth.credential(user.user_id()).await?;
    let profile = UserContext::default().with_username(record.username.as_str());
    state
        .auth
        .change_password(
            user.user_id(),
            &body.current_password,
            &body.new_password,
            &profile,
            &context,
        )
        .await?;
    state
        .sessions
        .revoke_others(user.token().expose_secret().as_bytes(), &context)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's live sessions, the current one marked.
pub(crate) async fn sessions(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, ApiError> {
    let current = user.session().record().digest;
    let sessions = state.sessions.list(user.user_id(), Some(&current)).await?;
    let sessions: Vec<Value> = sessions.iter().map(device_json).collect();
    Ok(Json(json!({ "sessions": sessions })))
}

/// Ends one of the user's sessions by id (the current one too, which also clears the cookie).
pub(crate) async fn end_session(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: SessionId = id.parse().map_err(|_| ApiError::NotFound)?;
    let by = Actor::user(user.user_id());
    if !state
        .sessions
        .revoke_id(user.user_id(), id, by, &context)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    if id == user.session_id() {
        return Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, state.cookie.clear())]).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn device_json(device: &DeviceSession) -> Value {
    let record = &device.record;
    let time = |at: time::OffsetDateTime| at.format(&Rfc3339).ok();
    json!({
        "id": record.id,
        "current": device.current,
        "created_at": time(record.created_at),
        "last_seen_at": time(record.last_seen_at),
        "idle_expires_at": time(record.idle_expires_at),
        "absolute_expires_at": time(record.absolute_expires_at),
        "factors": record.auth.factors.iter().map(|f| f.name()).collect::<Vec<_>>(),
        "client_ip": record.client_ip,
        "user_agent": record.user_agent,
    })
}
