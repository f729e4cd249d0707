//! The request as soc2-web reads it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::{HeaderMap, HeaderValue, Method, Request};
use soc2_web::RequestHead;

/// A request's method, headers and peer (from axum's `ConnectInfo<SocketAddr>`), borrowed
/// without the body (which need not be `Sync`).
pub(crate) struct Head<'a> {
    method: &'a Method,
    headers: &'a HeaderMap,
    peer: Option<IpAddr>,
}

impl<'a> Head<'a> {
    pub(crate) fn of<B>(request: &'a Request<B>) -> Self {
        Self {
            method: request.method(),
            headers: request.headers(),
            peer: request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip()),
        }
    }
}

impl RequestHead for Head<'_> {
    fn method(&self) -> &str {
        self.method.as_str()
    }

    fn peer(&self) -> Option<IpAddr> {
        self.peer
    }

    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.headers.get_all(name).iter().map(HeaderValue::as_bytes)
    }
}
