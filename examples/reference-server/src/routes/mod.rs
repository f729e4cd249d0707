//! The JSON API.
//!
//! | route | answer |
//! |---|---|
//! | `GET /healthz` | 200, or 503 while the audit store fails |
//! | `POST /api/auth/register` | 201, 422 `password_policy`, 409 `username_taken`, 404 when closed |
//! | `POST /api/auth/login` | 200 `authenticated` + cookie, 200 `password_change_required`, 401, 429 |
//! | `POST /api/auth/password` | 204: the change a `password_change_required` login asks for |
//! | `POST /api/auth/logout` | 204 |
//! | `GET /api/me` | the user |
//! | `PUT /api/me/password` | 204 (other sessions revoked), 422, 403 |
//! | `GET /api/me/sessions`, `DELETE /api/me/sessions/{id}` | the user's sessions, 204 |
//! | `GET /api/admin/audit`, `GET /api/admin/audit/verify` | export, verification |
//! | `POST /api/admin/users/{username}/unlock` | 204 |

mod admin;
mod auth;
mod body;
mod error;
mod me;

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::app::AppState;

pub(crate) use body::JsonBody;
pub(crate) use error::ApiError;

/// Every route, sharing `state`.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(auth::health))
        .route("/api/auth/register", post(auth::register))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/password", post(auth::change_required_password))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(me::me))
        .route("/api/me/password", put(me::change_password))
        .route("/api/me/sessions", get(me::sessions))
        .route("/api/me/sessions/{id}", delete(me::end_session))
        .route("/api/admin/audit", get(admin::export))
        .route("/api/admin/audit/verify", get(admin::verify))
        .route("/api/admin/users/{username}/unlock", post(admin::unlock))
        .fallback(|| async { ApiError::NotFound })
        .with_state(state)
}
