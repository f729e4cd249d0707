//! The request as soc2-web reads it.

use std::net::IpAddr;

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderValue;
use soc2_web::RequestHead;

/// A request's method, headers and socket peer.
pub(crate) struct Head<'a>(pub(crate) &'a ServiceRequest);

impl RequestHead for Head<'_> {
    fn method(&self) -> &str {
        self.0.method().as_str()
    }

    fn peer(&self) -> Option<IpAddr> {
        self.0.peer_addr().map(|peer| peer.ip())
    }

    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.0.headers().get_all(name).map(HeaderValue::as_bytes)
    }
}
