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
pub use session::{SessionLayer, SessionService};
#[cfg(feature = "throttle")]
pub use soc2_web::LoginThrottle;
pub use soc2_web::{
    AllowedOrigins, CSRF_HEADER, ConfigError, CsrfToken, Principal, RejectionKind, SessionCookie,
    Transport, TrustedProxies,
};
#[cfg(feature = "throttle")]
pub use throttle::{LoginThrottleLayer, LoginThrottleService};

/// The future of this crate's services.
type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// The inner service that was polled ready, leaving a fresh clone in its place (tower's
/// usual dance for services called from a boxed future).
fn take_ready<S: Clone>(inner: &mut S) -> S {
    let clone = inner.clone();
    std::mem::replace(inner, clone)
}
