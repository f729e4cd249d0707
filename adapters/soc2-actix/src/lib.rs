#![doc = include_str!("../README.md")]

#[cfg(feature = "authz")]
mod authz;
mod extract;
mod head;
mod rejection;
mod session;
#[cfg(feature = "throttle")]
mod throttle;

#[cfg(feature = "authz")]
pub use authz::{RequireAction, RequireActionService};
#[cfg(feature = "authz")]
pub use extract::Authorize;
pub use extract::{ClientContext, CurrentUser, FreshAuth};
pub use rejection::Rejection;
pub use session::{SessionMiddleware, SessionMiddlewareService};
#[cfg(feature = "throttle")]
pub use soc2_web::LoginThrottle;
pub use soc2_web::{
    AllowedOrigins, CSRF_HEADER, ConfigError, CsrfToken, Principal, RejectionKind, SessionCookie,
    Transport, TrustedProxies,
};
#[cfg(feature = "throttle")]
pub use throttle::{LoginThrottleMiddleware, LoginThrottleService};

/// The future of this crate's middleware services (actix runs each on one thread).
type LocalBoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;
