#![doc = include_str!("../README.md")]

mod client_ip;
mod cookie;
mod csrf;
mod error;
mod extract;
mod principal;
mod rejection;
mod session;

pub use client_ip::TrustedProxies;
pub use cookie::SessionCookie;
pub use csrf::{AllowedOrigins, CSRF_HEADER, CsrfToken};
pub use error::ConfigError;
pub use extract::{ClientContext, CurrentUser, FreshAuth};
pub use principal::{Principal, Transport};
pub use rejection::{Rejection, RejectionKind};
pub use session::{SessionLayer, SessionService};
