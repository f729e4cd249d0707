//! `FreshAuth`: step-up before sensitive actions.

use std::time::Duration;

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::{Principal, Rejection, RejectionKind};

/// A user who authenticated within the last `MINUTES` minutes (OWASP ASVS 4.0.3 V3.7.1).
/// Rejects like [`CurrentUser`](crate::CurrentUser) without a session, and with 403
/// `{"error":"reauthentication_required"}` (kind `StepUpRequired`) when the authentication
/// is older.
#[derive(Debug, Clone)]
pub struct FreshAuth<const MINUTES: u64>(pub Principal);

impl<S: Send + Sync, const MINUTES: u64> FromRequestParts<S> for FreshAuth<MINUTES> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let principal = super::principal(&parts.extensions)?;
        let max_age = Duration::from_secs(MINUTES.saturating_mul(60));
        principal
            .session()
            .require_fresh(max_age, principal.checked_at())
            .map_err(|_| Rejection::new(RejectionKind::StepUpRequired))?;
        Ok(Self(principal))
    }
}
