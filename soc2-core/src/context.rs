//! Who is asking, from where: carried from the middleware into every decision and audit event.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::truncate_to_char_boundary;

/// Longest user agent kept, in bytes; longer values are truncated (headers are attacker-chosen).
pub const MAX_USER_AGENT_BYTES: usize = 512;
/// Longest request id kept, in bytes; longer values are truncated.
pub const MAX_REQUEST_ID_BYTES: usize = 128;

/// The request a security decision is made for: client address, user agent and request id.
///
/// The client address is whatever the host resolved (the socket peer, or the right-most
/// untrusted `X-Forwarded-For` entry when trusted proxies are configured); this type never parses
/// headers itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl RequestContext {
    /// An empty context (no address, user agent or request id), e.g. for background jobs.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the client address.
    #[must_use]
    pub fn with_client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }

    /// Sets the user agent, truncated to [`MAX_USER_AGENT_BYTES`].
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = Some(truncate_to_char_boundary(user_agent, MAX_USER_AGENT_BYTES).into());
        self
    }

    /// Sets the request id, truncated to [`MAX_REQUEST_ID_BYTES`].
    #[must_use]
    pub fn with_request_id(mut self, request_id: &str) -> Self {
        self.request_id = Some(truncate_to_char_boundary(request_id, MAX_REQUEST_ID_BYTES).into());
        self
    }

    /// The client address, if known.
    #[must_use]
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }

    /// The user agent, if sent.
    #[must_use]
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// The request id, if any.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_headers_are_truncated() {
        let ctx = RequestContext::new()
            .with_user_agent(&"a".repeat(10_000))
            .with_request_id(&"é".repeat(100));
        assert_eq!(ctx.user_agent().map(str::len), Some(MAX_USER_AGENT_BYTES));
        assert_eq!(ctx.request_id().map(str::len), Some(MAX_REQUEST_ID_BYTES));
    }

    #[test]
    fn serializes_only_present_fields() {
        let ctx = RequestContext::new().with_client_ip("192.0.2.7".parse().unwrap());
        assert_eq!(
            serde_json::to_string(&ctx).unwrap(),
            r#"{"client_ip":"192.0.2.7"}"#
        );
    }
}
