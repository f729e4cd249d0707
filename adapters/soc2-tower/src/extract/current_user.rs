//! `CurrentUser`: the request must carry a valid session.

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::{Principal, Rejection};

/// The authenticated user. Rejects with 401 `{"error":"unauthenticated"}` (kind
/// `NoCredentials`, `InvalidSession` or `Expired`), 503 when the session store failed, and
/// 500 when no [`SessionLayer`](crate::SessionLayer) runs.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        soc2_web::current_user(parts.extensions.get())
            .map(Self)
            .map_err(Rejection::new)
    }
}
