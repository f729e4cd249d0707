//! `CurrentUser`: the request must carry a valid session.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::{Principal, Rejection};

/// The authenticated user. Rejects with 401 `{"error":"unauthenticated"}` (kind
/// `NoCredentials`, `InvalidSession` or `Expired`), 503 when the session store failed, and
/// 500 when no [`SessionMiddleware`](crate::SessionMiddleware) runs.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Principal);

impl FromRequest for CurrentUser {
    type Error = Rejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            soc2_web::current_user(request.extensions().get())
                .map(Self)
                .map_err(Rejection::new),
        )
    }
}
