//! The signed-in user's passkeys: registration (options, then the authenticator's answer),
//! list, rename, removal.
//!
//! Registering and removing change a factor: like the TOTP routes they need an
//! authentication within 15 minutes (403 `reauthentication_required` otherwise) and end the
//! user's other sessions. Renaming needs a session only. Every route is 404 when passkeys are
//! off (`[passkey]`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use soc2_audit::Actor;
use soc2_auth::passkey::{PasskeyAuth, PasskeyInfo, PasskeyPrompt};
use soc2_core::UserId;
use soc2_tower::{ClientContext, CurrentUser, FreshAuth};
use time::format_description::well_known::Rfc3339;

use super::error::unavailable;
use super::mfa::{Fresh, revoke_others};
use super::{ApiError, JsonBody};
use crate::app::AppState;

/// Where a registration finishes.
const CONFIRM_ENDPOINT: &str = "/api/me/passkeys/confirm";

/// Starts registering a passkey: `{ceremony, options, next}`, `options` for
/// `navigator.credentials.create()` (user verification required, the user's passkeys
/// excluded). The authenticator shows the username; the user handle it keeps is the user id.
pub(crate) async fn begin(
    State(state): State<AppState>,
    FreshAuth(user): Fresh,
) -> Result<Json<Value>, ApiError> {
    let passkeys = enabled(&state)?;
    let record = state.auth.credential(user.user_id()).await?;
    let username = record.username.as_str();
    let prompt = passkeys
        .begin_registration(user.user_id(), username, username)
        .await?;
    Ok(Json(prompt_json("ceremony", &prompt, CONFIRM_ENDPOINT)?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Confirm {
    ceremony: String,
    name: String,
    credential: Box<RawValue>,
}

/// Finishes a registration with the result of `navigator.credentials.create()` and a name:
/// 201 with the passkey (as listed), audited `auth.mfa.enrolled`; the user's other sessions
/// end. 422 `invalid_name`, 422 `invalid_passkey` (unknown, spent or expired ceremony, an
/// answer that does not verify or was made for another origin, a passkey registered already),
/// 400 for a malformed answer.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    FreshAuth(user): Fresh,
    JsonBody(body): JsonBody<Confirm>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let passkeys = enabled(&state)?;
    let passkey = passkeys
        .finish_registration(
            user.user_id(),
            &body.ceremony,
            &body.name,
            body.credential.get(),
            &context,
        )
        .await?;
    revoke_others(&state, &user, &context).await?;
    Ok((StatusCode::CREATED, Json(passkey_json(&passkey))))
}

/// The user's passkeys, oldest first: `{passkeys: [{id, name, created_at, last_used_at,
/// backup_eligible, backed_up}]}`, no key material.
pub(crate) async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, ApiError> {
    let passkeys = enabled(&state)?.passkeys(user.user_id()).await?;
    let passkeys: Vec<Value> = passkeys.iter().map(passkey_json).collect();
    Ok(Json(json!({ "passkeys": passkeys })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Rename {
    name: String,
}

/// Renames one of the user's passkeys (audited `auth.mfa.renamed`): 204, 404 when the user
/// has no such passkey, 422 `invalid_name`.
pub(crate) async fn rename(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Rename>,
) -> Result<StatusCode, ApiError> {
    let by = Actor::user(user.user_id());
    if !enabled(&state)?
        .rename(user.user_id(), &id, &body.name, by, &context)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Removes one of the user's passkeys (audited `auth.mfa.removed`): 204, and the user's other
/// sessions end; 404 when the user has no such passkey.
pub(crate) async fn remove(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    FreshAuth(user): Fresh,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let by = Actor::user(user.user_id());
    if !enabled(&state)?
        .remove(user.user_id(), &id, by, &context)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    revoke_others(&state, &user, &context).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many passkeys the user has (0 when passkeys are off).
pub(super) async fn count(state: &AppState, user: UserId) -> Result<usize, ApiError> {
    match &state.passkeys {
        Some(passkeys) => Ok(passkeys.passkeys(user).await?.len()),
        None => Ok(0),
    }
}

/// A ceremony for the browser: `{<token_key>: token, options, next}`.
pub(super) fn prompt_json(
    token_key: &str,
    prompt: &PasskeyPrompt,
    next: &str,
) -> Result<Value, ApiError> {
    let options: Value = serde_json::from_str(&prompt.options).map_err(|e| unavailable(&e))?;
    let mut body = json!({ "options": options, "next": next });
    body[token_key] = Value::from(prompt.challenge.token().expose_secret().as_str());
    Ok(body)
}

fn passkey_json(passkey: &PasskeyInfo) -> Value {
    let time = |at: time::OffsetDateTime| at.format(&Rfc3339).ok();
    json!({
        "id": passkey.credential_id,
        "name": passkey.name,
        "created_at": time(passkey.created_at),
        "last_used_at": passkey.last_used_at.and_then(time),
        "backup_eligible": passkey.backup_eligible,
        "backed_up": passkey.backed_up,
    })
}

fn enabled(state: &AppState) -> Result<&PasskeyAuth, ApiError> {
    state.passkeys.as_ref().ok_or(ApiError::NotFound)
}
