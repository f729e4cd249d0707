//! actix-web extractors over what [`SessionMiddleware`](crate::SessionMiddleware) put into
//! the extensions.

#[cfg(feature = "authz")]
mod authorize;
mod context;
mod current_user;
mod fresh;

#[cfg(feature = "authz")]
pub use authorize::Authorize;
pub use context::ClientContext;
pub use current_user::CurrentUser;
pub use fresh::FreshAuth;
