//! A request without a web framework, and a resolver over the testkit's app.

#![allow(dead_code, unreachable_pub)]

use std::net::IpAddr;

use soc2_core::UserId;
use soc2_testkit::web::{ORIGIN, TRUSTED_PROXY, WebApp};
use soc2_web::{
    AllowedOrigins, Principal, RequestHead, SessionResolver, SessionState, TrustedProxies,
};

/// A request: method, peer and headers.
#[derive(Debug, Clone)]
pub struct Head {
    pub method: &'static str,
    pub peer: Option<IpAddr>,
    pub headers: Vec<(&'static str, String)>,
}

impl Head {
    pub fn get() -> Self {
        Self::new("GET")
    }

    pub fn post() -> Self {
        Self::new("POST")
    }

    fn new(method: &'static str) -> Self {
        Self {
            method,
            peer: Some("203.0.113.9".parse().unwrap()),
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn peer(mut self, peer: Option<&str>) -> Self {
        self.peer = peer.map(|peer| peer.parse().unwrap());
        self
    }
}

impl RequestHead for Head {
    fn method(&self) -> &str {
        self.method
    }

    fn peer(&self) -> Option<IpAddr> {
        self.peer
    }

    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.headers
            .iter()
            .filter(move |(header, _)| *header == name)
            .map(|(_, value)| value.as_bytes())
    }
}

/// The suite's session settings over `app`.
pub fn resolver(app: &WebApp) -> SessionResolver {
    SessionResolver::new(app.sessions.clone(), app.clock.clone())
        .with_allowed_origins(AllowedOrigins::new([ORIGIN]).unwrap())
        .with_trusted_proxies(TrustedProxies::parse([TRUSTED_PROXY]).unwrap())
        .with_authorizer(app.authorizer.clone())
}

/// The session state `head` resolves to.
pub async fn state(app: &WebApp, head: &Head) -> SessionState {
    resolver(app).resolve(head).await.unwrap().state
}

/// A principal of `user`, resolved from a bearer token.
pub async fn principal(app: &WebApp, user: UserId) -> Principal {
    let token = app.login(user).await;
    let head = Head::get().header(
        "authorization",
        &format!("Bearer {}", token.expose_secret()),
    );
    state(app, &head).await.principal().unwrap().clone()
}
