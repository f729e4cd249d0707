#![doc = include_str!("../README.md")]

#[cfg(feature = "authz")]
mod authorize;
mod client_ip;
mod cookie;
mod csrf;
mod error;
mod principal;
mod rejection;
mod request;
mod session;
mod state;
#[cfg(feature = "throttle")]
mod throttle;

#[cfg(feature = "authz")]
pub use authorize::authorize;
pub use client_ip::{TrustedProxies, X_FORWARDED_FOR};
pub use cookie::SessionCookie;
pub use csrf::{AllowedOrigins, CSRF_HEADER, CsrfToken};
pub use error::ConfigError;
pub use principal::{Principal, Transport};
pub use rejection::RejectionKind;
pub use request::RequestHead;
pub use session::{Resolved, SessionResolver};
pub use state::{SessionState, current_user, fresh_auth};
#[cfg(feature = "throttle")]
pub use throttle::LoginThrottle;
