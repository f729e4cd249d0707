//! Configuration errors of the layer.

/// A layer setting that cannot work. Raised when the host builds the layer, never per request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An allowed origin is not `scheme://host[:port]` with scheme `http` or `https`.
    #[error("`{0}` is not an origin like \"https://app.example\" (scheme, host, optional port)")]
    InvalidOrigin(String),
    /// A trusted proxy is neither an IP address nor a CIDR range.
    #[error("`{0}` is not an IP address or CIDR range like \"10.0.0.0/8\"")]
    InvalidProxy(String),
}
