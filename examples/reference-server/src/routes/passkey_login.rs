//! Passkeys at sign-in: the second factor of an `mfa_required` login, and passwordless
//! sign-in with a discoverable credential. Every refusal, a malformed answer included, is 401
//! `invalid_credentials`; 404 when passkeys are off.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use soc2_auth::login::LoginError;
use soc2_auth::passkey::PasskeyError;
use soc2_tower::ClientContext;

use super::login::{MFA_ENDPOINT, answer};
use super::passkeys::prompt_json;
use super::{ApiError, JsonBody};
use crate::app::AppState;

/// Where an `mfa_required` login offering `passkey` gets its options.
pub(super) const PASSKEY_OPTIONS_ENDPOINT: &str = "/api/auth/mfa/passkey/options";
/// Where a passwordless sign-in finishes.
const PASSKEY_LOGIN_ENDPOINT: &str = "/api/auth/passkey/login";

#[derive(Debug, Deserialize)]
pub(crate) struct MfaOptions {
    challenge: String,
}

/// Starts the passkey answer to `mfa_required`: spends its challenge and answers
/// `{challenge, options, next}`, a new challenge for `POST /api/auth/mfa` (`method`
/// `passkey`, `credential` the result of `navigator.credentials.get(options)`). 401 for an
/// unknown, spent or expired challenge, or a user without passkeys.
pub(crate) async fn mfa_options(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<MfaOptions>,
) -> Result<Json<Value>, ApiError> {
    let prompt = state
        .login
        .passkey_options(&body.challenge)
        .await
        .map_err(refused)?
        .ok_or(ApiError::InvalidCredentials)?;
    Ok(Json(prompt_json("challenge", &prompt, MFA_ENDPOINT)?))
}

/// Starts a passwordless sign-in: `{ceremony, options, next}`, the options (no
/// `allowCredentials`) letting the authenticator offer its discoverable credentials.
pub(crate) async fn options(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let prompt = state.login.begin_passkey_login().await?;
    Ok(Json(prompt_json(
        "ceremony",
        &prompt,
        PASSKEY_LOGIN_ENDPOINT,
    )?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PasskeyLogin {
    ceremony: String,
    credential: Box<RawValue>,
}

/// Finishes a passwordless sign-in with the result of `navigator.credentials.get(options)`:
/// answers as login (`authenticated`, the session cookie and its CSRF token; the session's
/// factor is `webauthn`), or 401 `invalid_credentials` for anything refused (unknown, spent
/// or expired ceremony, unknown credential, a wrong signature, origin or counter, a disabled
/// or locked account, a malformed answer).
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    JsonBody(body): JsonBody<PasskeyLogin>,
) -> Result<Response, ApiError> {
    let outcome = state
        .login
        .finish_passkey_login(&body.ceremony, body.credential.get(), &context)
        .await
        .map_err(refused)?;
    answer(&state, outcome)
}

/// A login step's error: a passkey answer that cannot be used is a refused login (the
/// challenge is spent; log in again), the rest as usual.
pub(super) fn refused(error: LoginError) -> ApiError {
    match error {
        LoginError::Passkey(
            PasskeyError::MalformedResponse
            | PasskeyError::ResponseTooLarge { .. }
            | PasskeyError::NoPasskeys,
        ) => ApiError::InvalidCredentials,
        other => other.into(),
    }
}
