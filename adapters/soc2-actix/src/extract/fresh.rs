//! `FreshAuth`: step-up before sensitive actions.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::{Principal, Rejection};

/// A user who authenticated within the last `MINUTES` minutes (OWASP ASVS 4.0.3 V3.7.1).
/// Rejects like [`CurrentUser`](crate::CurrentUser) without a session, and with 403
/// `{"error":"reauthentication_required"}` (kind `StepUpRequired`) when the authentication
/// is older.
#[derive(Debug, Clone)]
pub struct FreshAuth<const MINUTES: u64>(pub Principal);

impl<const MINUTES: u64> FromRequest for FreshAuth<MINUTES> {
    type Error = Rejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            soc2_web::fresh_auth(request.extensions().get(), MINUTES)
                .map(Self)
                .map_err(Rejection::new),
        )
    }
}
