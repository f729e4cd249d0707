//! axum extractors over what [`SessionLayer`](crate::SessionLayer) put into the extensions.

mod context;
mod current_user;
mod fresh;

pub use context::ClientContext;
pub use current_user::CurrentUser;
pub use fresh::FreshAuth;

use http::Extensions;

use crate::session::Unauthenticated;
use crate::{Principal, Rejection, RejectionKind};

/// The principal, or the reason the layer recorded for its absence.
fn principal(extensions: &Extensions) -> Result<Principal, Rejection> {
    if let Some(principal) = extensions.get::<Principal>() {
        return Ok(principal.clone());
    }
    let kind = extensions
        .get::<Unauthenticated>()
        .map_or(RejectionKind::MissingLayer, |reason| reason.0);
    Err(Rejection::new(kind))
}
