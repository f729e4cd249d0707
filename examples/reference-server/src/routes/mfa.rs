//! The signed-in user's second factors: TOTP enrolment and removal, recovery codes (passkeys
//! are in [`passkeys`](super::passkeys), under the same rules).
//!
//! Every change needs an authentication within [`FACTOR_FRESHNESS_MINUTES`] (step-up, 403
//! `reauthentication_required` otherwise) and, with a cookie, the CSRF token; a change that
//! takes effect ends the user's other sessions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use soc2_audit::Actor;
use soc2_core::{RequestContext, SecretString};
use soc2_tower::{ClientContext, FreshAuth, Principal};

use super::{ApiError, JsonBody};
use crate::app::AppState;

/// How recently the user must have authenticated to change a factor.
const FACTOR_FRESHNESS_MINUTES: u64 = 15;

/// A user fresh enough to change factors.
pub(super) type Fresh = FreshAuth<FACTOR_FRESHNESS_MINUTES>;

/// Starts TOTP enrolment: `{secret, otpauth_uri, qr_svg}`, shown once. The factor counts
/// only after `POST /api/me/mfa/totp/confirm`; starting again replaces a pending enrolment.
/// 409 `mfa_already_enrolled` when a factor is active.
pub(crate) async fn begin_totp(
    State(state): State<AppState>,
    FreshAuth(user): Fresh,
) -> Result<Json<Value>, ApiError> {
    let record = state.auth.credential(user.user_id()).await?;
    let enrollment = state
        .mfa
        .begin_totp(user.user_id(), record.username.as_str())
        .await?;
    Ok(Json(json!({
        "secret": enrollment.secret_base32.expose_secret(),
        "otpauth_uri": enrollment.otpauth_uri.expose_secret(),
        "qr_svg": enrollment.qr_svg.expose_secret(),
    })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Confirm {
    code: String,
}

/// Confirms the pending enrolment with a current code: `{recovery_codes: [..]}` (shown once),
/// and the user's other sessions end. 422 `invalid_code`, 409 `mfa_not_pending`.
pub(crate) async fn confirm_totp(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    FreshAuth(user): Fresh,
    JsonBody(body): JsonBody<Confirm>,
) -> Result<Json<Value>, ApiError> {
    let codes = state
        .mfa
        .confirm_totp(user.user_id(), &body.code, &context)
        .await?
        .map_err(|_| ApiError::InvalidCode)?;
    revoke_others(&state, &user, &context).await?;
    Ok(Json(codes_json(&codes)))
}

/// Removes the TOTP factor (204, or 404 when there is none); the user's other sessions end.
pub(crate) async fn remove_totp(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    FreshAuth(user): Fresh,
) -> Result<StatusCode, ApiError> {
    let by = Actor::user(user.user_id());
    if !state.mfa.remove_totp(user.user_id(), by, &context).await? {
        return Err(ApiError::NotFound);
    }
    revoke_others(&state, &user, &context).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues a new set of recovery codes (`{recovery_codes: [..]}`, shown once); the old set
/// stops working and the user's other sessions end. 404 without an active TOTP factor.
pub(crate) async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    FreshAuth(user): Fresh,
) -> Result<Json<Value>, ApiError> {
    if !state.mfa.has_totp(user.user_id()).await? {
        return Err(ApiError::NotFound);
    }
    let codes = state
        .mfa
        .regenerate_recovery_codes(user.user_id(), &context)
        .await?;
    revoke_others(&state, &user, &context).await?;
    Ok(Json(codes_json(&codes)))
}

/// Ends the user's sessions other than this one, after a factor change.
pub(super) async fn revoke_others(
    state: &AppState,
    user: &Principal,
    context: &RequestContext,
) -> Result<(), ApiError> {
    state
        .sessions
        .revoke_others(user.token().expose_secret().as_bytes(), context)
        .await?;
    Ok(())
}

fn codes_json(codes: &[SecretString]) -> Value {
    let codes: Vec<&str> = codes.iter().map(|c| c.expose_secret().as_str()).collect();
    json!({ "recovery_codes": codes })
}
