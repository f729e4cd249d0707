//! `FreshAuth`: step-up before sensitive actions.

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::{Principal, Rejection};

/// A user who authenticated within the last `MINUTES` minutes (OWASP ASVS 4.0.3 V3.7.1).
/// Rejects like [`CurrentUser`](crate::CurrentUser) without a session, and with 403
/// `{"error":"reauthentication_required"}` (kind `StepUpRequired`) when the authentication
/// is older.
#[derive(Debug, Clone)]
pub struct FreshAuth<const MINUTES: u64>(pub Principal);

impl<S: Send + Sync, const MINUTES: u64> FromRequestParts<S> for FreshAuth<MINUTES> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        soc2_web::fresh_auth(parts.extensions.get(), MINUTES)
            .map(Self)
            .map_err(Rejection::new)
    }
}
