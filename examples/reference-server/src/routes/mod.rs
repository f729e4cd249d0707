//! The JSON API.
//!
//! | route | answer |
//! |---|---|
//! | `GET /healthz` | 200, or 503 while the audit store fails |
//! | `POST /api/auth/register` | 201, 422 `password_policy`, 409 `username_taken`, 404 when closed |
//! | `POST /api/auth/login` | 200 `authenticated` + cookie, `mfa_required`, `password_change_required` or `enrollment_required`; 401, 429 |
//! | `POST /api/auth/mfa` | as login: finishes `mfa_required` with a TOTP or recovery code, or a passkey `credential`; 401 |
//! | `POST /api/auth/mfa/passkey/options` | `{challenge, options}` for a passkey answer to `mfa_required`; 401 |
//! | `POST /api/auth/passkey/options` | `{ceremony, options}`: passwordless sign-in with a discoverable passkey |
//! | `POST /api/auth/passkey/login` | as login (session factor `webauthn`); 401 for anything refused |
//! | `POST /api/auth/password` | as login: finishes `password_change_required`; 422, 401 |
//! | `POST /api/auth/logout` | 204 |
//! | `GET /api/me` | the user |
//! | `PUT /api/me/password` | 204 (other sessions revoked), 422, 403 |
//! | `GET /api/me/sessions`, `DELETE /api/me/sessions/{id}` | the user's sessions, 204 |
//! | `POST /api/me/mfa/totp` | `{secret, otpauth_uri, qr_svg}` (fresh authentication) |
//! | `POST /api/me/mfa/totp/confirm` | `{recovery_codes}`, other sessions revoked; 422 `invalid_code` |
//! | `DELETE /api/me/mfa/totp` | 204, other sessions revoked |
//! | `POST /api/me/mfa/recovery-codes` | `{recovery_codes}`: a new set, other sessions revoked |
//! | `POST /api/me/passkeys` | `{ceremony, options}` for `navigator.credentials.create()` (fresh authentication) |
//! | `POST /api/me/passkeys/confirm` | 201 `{id, name, ..}`, other sessions revoked; 422 `invalid_passkey`, `invalid_name` |
//! | `GET /api/me/passkeys` | `{passkeys: [{id, name, created_at, last_used_at, backup_eligible, backed_up}]}` |
//! | `PATCH /api/me/passkeys/{id}` | 204: renamed; 422 `invalid_name` |
//! | `DELETE /api/me/passkeys/{id}` | 204, other sessions revoked (fresh authentication) |
//! | `GET /api/admin/audit`, `GET /api/admin/audit/verify` | export, verification |
//! | `POST /api/admin/users/{username}/unlock` | 204 |
//! | `DELETE /api/admin/users/{username}/sessions` | 204: every session of the user ends |
//! | `PUT`, `DELETE /api/admin/users/{username}/roles/{role}` | 204, 409 `sod_conflict` with the rule |
//! | `POST /api/admin/policies/reload` | `{version, previous_version}`, 422 `invalid_policies` |
//! | `POST /api/changes` | 201 `{id}`, 403 |
//! | `POST /api/changes/{id}/approve` | `{id, status}`, 403 (e.g. one's own change), 409 |
//!
//! Administrative routes need a sign-in within 15 minutes and the Cedar action they name.
//! The passkey routes answer 404 when passkeys are off (see `[passkey]` in the config docs).

mod admin;
mod auth;
mod body;
mod changes;
mod enrollment;
mod error;
mod login;
mod me;
mod mfa;
mod passkey_login;
mod passkeys;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, patch, post, put};

use crate::app::AppState;

pub(crate) use body::JsonBody;
pub(crate) use error::ApiError;

/// Every route, sharing `state`.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(auth::health))
        .route("/api/auth/register", post(auth::register))
        .route("/api/auth/login", post(login::login))
        .route("/api/auth/mfa", post(login::mfa))
        .route(
            "/api/auth/mfa/passkey/options",
            post(passkey_login::mfa_options),
        )
        .route("/api/auth/passkey/options", post(passkey_login::options))
        .route("/api/auth/passkey/login", post(passkey_login::login))
        .route("/api/auth/password", post(login::change_required_password))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(me::me))
        .route("/api/me/password", put(me::change_password))
        .route("/api/me/sessions", get(me::sessions))
        .route("/api/me/sessions/{id}", delete(me::end_session))
        .route(
            "/api/me/mfa/totp",
            post(mfa::begin_totp).delete(mfa::remove_totp),
        )
        .route("/api/me/mfa/totp/confirm", post(mfa::confirm_totp))
        .route(
            "/api/me/mfa/recovery-codes",
            post(mfa::regenerate_recovery_codes),
        )
        .route(
            "/api/me/passkeys",
            get(passkeys::list).post(passkeys::begin),
        )
        .route("/api/me/passkeys/confirm", post(passkeys::confirm))
        .route(
            "/api/me/passkeys/{id}",
            patch(passkeys::rename).delete(passkeys::remove),
        )
        .route("/api/admin/audit", get(admin::export))
        .route("/api/admin/audit/verify", get(admin::verify))
        .route("/api/admin/users/{username}/unlock", post(admin::unlock))
        .route(
            "/api/admin/users/{username}/sessions",
            delete(admin::revoke_sessions),
        )
        .route(
            "/api/admin/users/{username}/roles/{role}",
            put(admin::grant_role).delete(admin::revoke_role),
        )
        .route("/api/admin/policies/reload", post(admin::reload_policies))
        .route("/api/changes", post(changes::request))
        .route("/api/changes/{id}/approve", post(changes::approve))
        .fallback(|| async { ApiError::NotFound })
        .layer(from_fn_with_state(state.clone(), enrollment::confine))
        .with_state(state)
}
