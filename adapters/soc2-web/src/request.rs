//! What the session logic reads of a request, whatever the web framework.

use std::net::IpAddr;

/// A read-only view of an HTTP request's method, peer address and headers. Each adapter
/// implements it over its framework's request type.
pub trait RequestHead {
    /// The request method, e.g. `POST`.
    fn method(&self) -> &str;

    /// The socket peer's address, when the server passes it to the middleware.
    fn peer(&self) -> Option<IpAddr>;

    /// Every value of the header `name` (lower case), in the order received.
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]>;

    /// The first value of the header `name` (lower case).
    fn header(&self, name: &'static str) -> Option<&[u8]> {
        self.header_values(name).next()
    }
}

/// Whether `method` may change state: anything but `GET`, `HEAD`, `OPTIONS` and `TRACE`
/// (RFC 9110 §9.2.1 safe methods), so CSRF checks apply.
pub(crate) fn is_unsafe(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}
