//! The JSON API.
//!
//! | route | answer |
//! |---|---|
//! | `GET /healthz` | 200, or 503 while the audit store fails |
//! | `POST /api/auth/register` | 201, 422 `password_policy`, 409 `username_taken`, 404 when closed |
//! | `POST /api/auth/login` | 200 `authenticated` + cookie, `mfa_required`, `password_change_required` or `enrollment_required`; 401, 429 |
//! | `POST /api/auth/mfa` | as login: finishes `mfa_required` with a TOTP or recovery code; 401 |
//! | `POST /api/auth/password` | as login: finishes `password_change_required`; 422, 401 |
//! | `POST /api/auth/logout` | 204 |
//! | `GET /api/me` | the user |
//! | `PUT /api/me/password` | 204 (other sessions revoked), 422, 403 |
//! | `GET /api/me/sessions`, `DELETE /api/me/sessions/{id}` | the user's sessions, 204 |
//! | `POST /api/me/mfa/totp` | `{secret, otpauth_uri, qr_svg}` (fresh authentication) |
//! | `POST /api/me/mfa/totp/confirm` | `{recovery_codes}`, other sessions revoked; 422 `invalid_code` |
//! | `DELETE /api/me/mfa/totp` | 204, other sessions revoked |
//! | `POST /api/me/mfa/recovery-codes` | `{recovery_codes}`: a new set, other sessions revoked |
//! | `GET /api/admin/audit`, `GET /api/admin/audit/verify` | export, verification |
//! | `POST /api/admin/users/{username}/unlock` | 204 |
//! | `DELETE /api/admin/users/{username}/sessions` | 204: every session of the user ends |
//! | `PUT`, `DELETE /api/admin/users/{username}/roles/{role}` | 204, 409 `sod_conflict` with the rule |
//! | `POST /api/admin/policies/reload` | `{version, previous_version}`, 422 `invalid_policies` |
//! | `POST /api/changes` | 201 `{id}`, 403 |
//! | `POST /api/changes/{id}/approve` | `{id, status}`, 403 (e.g. one's own change), 409 |
//!
//! Administrative routes need a sign-in within 15 minutes and the Cedar action they name.

mod admin;
mod auth;
mod body;
mod changes;
mod enrollment;
mod error;
mod login;
mod me;
mod mfa;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};

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
