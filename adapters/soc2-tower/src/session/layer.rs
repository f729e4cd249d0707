//! `SessionLayer`: the configuration, shared by every service it builds.

use std::sync::Arc;

use soc2_core::Clock;
use soc2_session::SessionManager;
use tower::Layer;

use super::SessionService;
use crate::{AllowedOrigins, SessionCookie, TrustedProxies};

/// Resolves sessions, checks CSRF and the client address; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct SessionLayer {
    pub(super) shared: Arc<Shared>,
}

#[derive(Debug, Clone)]
pub(super) struct Shared {
    pub(super) manager: SessionManager,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) cookie: SessionCookie,
    pub(super) origins: AllowedOrigins,
    pub(super) proxies: TrustedProxies,
}

impl SessionLayer {
    /// A layer validating sessions with `manager`, reading freshness against `clock` (the
    /// manager's), with the secure [`SessionCookie`], no allowed origin (every unsafe
    /// cookie-authenticated request is refused until [`SessionLayer::with_allowed_origins`])
    /// and no trusted proxy.
    #[must_use]
    pub fn new(manager: SessionManager, clock: Arc<dyn Clock>) -> Self {
        Self {
            shared: Arc::new(Shared {
                manager,
                clock,
                cookie: SessionCookie::new(),
                origins: AllowedOrigins::default(),
                proxies: TrustedProxies::none(),
            }),
        }
    }

    /// Uses `cookie` (e.g. the development cookie).
    #[must_use]
    pub fn with_cookie(self, cookie: SessionCookie) -> Self {
        self.map(|shared| shared.cookie = cookie)
    }

    /// The origins whose pages may send unsafe cookie-authenticated requests.
    #[must_use]
    pub fn with_allowed_origins(self, origins: AllowedOrigins) -> Self {
        self.map(|shared| shared.origins = origins)
    }

    /// The reverse proxies whose `X-Forwarded-For` entries are believed.
    #[must_use]
    pub fn with_trusted_proxies(self, proxies: TrustedProxies) -> Self {
        self.map(|shared| shared.proxies = proxies)
    }

    /// The cookie the layer reads, so handlers set the same one at login.
    #[must_use]
    pub fn cookie(&self) -> &SessionCookie {
        &self.shared.cookie
    }

    fn map(self, change: impl FnOnce(&mut Shared)) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.shared);
        change(&mut shared);
        Self {
            shared: Arc::new(shared),
        }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, Arc::clone(&self.shared))
    }
}
