//! The client address: the socket peer, or the right-most untrusted `X-Forwarded-For` entry
//! when the peer is a trusted proxy.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use crate::ConfigError;

/// The header reverse proxies append the address they received a request from to.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The reverse proxies whose `X-Forwarded-For` entries are believed.
///
/// Empty by default: the socket peer is the client, and `X-Forwarded-For` is ignored, so a
/// client cannot pick the address its failed logins are counted against (django-axes#224).
/// Behind proxies, list exactly their ranges: the client is then the right-most entry not
/// written by a trusted proxy, so a spoofed left-most entry is never used, and clients
/// behind one proxy are not all counted as the proxy (django-axes#23).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Trusts no proxy: the socket peer is the client.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts the given addresses or CIDR ranges (`"10.0.0.0/8"`, `"::1"`).
    ///
    /// # Errors
    /// [`ConfigError::InvalidProxy`] naming the first entry that does not parse.
    pub fn parse<I, S>(ranges: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let nets = ranges
            .into_iter()
            .map(|range| {
                let range = range.as_ref().trim();
                range
                    .parse::<IpNet>()
                    .or_else(|_| range.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| ConfigError::InvalidProxy(range.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { nets })
    }

    /// The client address of a request that arrived from `peer` with these
    /// [`X_FORWARDED_FOR`] header values (in the order received).
    ///
    /// Walks the entries from the right while they are trusted proxies and returns the first
    /// untrusted one. An entry that does not parse (or a value that is not UTF-8) stops the
    /// walk at the last trusted hop (the proxy wrote something it should not have).
    #[must_use]
    pub fn client_ip<'a, I>(&self, peer: IpAddr, forwarded_for: I) -> IpAddr
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let mut entries: Vec<Option<&str>> = Vec::new();
        for value in forwarded_for {
            match std::str::from_utf8(value) {
                Ok(text) => entries.extend(text.split(',').map(|entry| Some(entry.trim()))),
                Err(_) => entries.push(None),
            }
        }
        let mut client = peer;
        for entry in entries.into_iter().rev() {
            let Some(ip) = entry.and_then(parse_entry) else {
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|net| net.contains(&ip))
    }
}

/// An `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn values<'a>(values: &'a [&'a str]) -> impl Iterator<Item = &'a [u8]> {
        values.iter().map(|value| value.as_bytes())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let resolved = TrustedProxies::none().client_ip(ip("203.0.113.9"), values(&["1.1.1.1"]));
        assert_eq!(resolved, ip("203.0.113.9"));
    }

    #[test]
    fn untrusted_peer_cannot_spoof() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        let resolved = proxies.client_ip(ip("203.0.113.9"), values(&["1.1.1.1"]));
        assert_eq!(resolved, ip("203.0.113.9"));
    }

    #[test]
    fn right_most_untrusted_entry_wins() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8", "::1"]).unwrap();
        let sent = ["6.6.6.6, 198.51.100.7", "10.0.0.2"];
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), values(&sent)),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxies.client_ip(ip("::1"), values(&sent)),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn ports_and_mapped_addresses_are_understood() {
        let proxies = TrustedProxies::parse(["10.0.0.1"]).unwrap();
        assert_eq!(
            proxies.client_ip(ip("::ffff:10.0.0.1"), values(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn all_trusted_or_garbage_stops_at_the_last_trusted_hop() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), values(&["10.0.0.3"])),
            ip("10.0.0.3")
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), values(&["1.1.1.1, junk, 10.0.0.3"])),
            ip("10.0.0.3")
        );
        let not_utf8: [&[u8]; 3] = [b"1.1.1.1", b"\xff", b"10.0.0.3"];
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), not_utf8), ip("10.0.0.3"));
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), []), ip("10.0.0.1"));
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert_eq!(
            TrustedProxies::parse(["10.0.0.0/33"]),
            Err(ConfigError::InvalidProxy("10.0.0.0/33".into()))
        );
    }
}
