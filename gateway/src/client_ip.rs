//! Who the client is: the socket peer, unless the peer is a trusted proxy, in which case `X-Forwarded-For` names
//! the client. The address found here is the one rate limits count and the one auth-svc is told.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};
use http::HeaderMap;
use ipnet::IpNet;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address, in the request extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    networks: Arc<[IpNet]>,
}

impl TrustedProxies {
    pub fn new(networks: &[IpNet]) -> Self {
        Self {
            networks: networks.into(),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The socket peer, or, when the peer is a trusted proxy, the nearest address in `X-Forwarded-For` that is not
    /// one: each trusted proxy appended the address it saw, so walking from the right past the trusted ones reaches
    /// the first hop that nobody trusted vouches beyond. Anything further left is the client's own claim.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .collect();
        for hop in hops.into_iter().rev() {
            // A trusted proxy never writes garbage: what it vouches for ends here.
            let Some(ip) = parse_hop(hop) else {
                break;
            };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

/// `203.0.113.7`, `2001:db8::1`, and the `addr:port` / `[v6]:port` forms some proxies write.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// Puts the [`ClientIp`] into the request extensions (when the server recorded the socket peer).
pub fn assign(proxies: &TrustedProxies, request: &mut Request) {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let ip = proxies.client_ip(peer, request.headers());
        request.extensions_mut().insert(ClientIp(ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        let networks: Vec<IpNet> = list.iter().map(|net| net.parse().unwrap()).collect();
        TrustedProxies::new(&networks)
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_FORWARDED_FOR, value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let client = proxies(&[]).client_ip(ip("198.51.100.4"), &forwarded(&["203.0.113.1"]));
        assert_eq!(client, ip("198.51.100.4"));
        let client =
            proxies(&["10.0.0.0/8"]).client_ip(ip("198.51.100.4"), &forwarded(&["203.0.113.1"]));
        assert_eq!(client, ip("198.51.100.4"));
    }

    #[test]
    fn a_trusted_peer_names_the_last_untrusted_hop() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let headers = forwarded(&["1.1.1.1, 203.0.113.7, 10.0.0.2"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
        // Several headers read as one list, in order.
        let headers = forwarded(&["1.1.1.1", "203.0.113.7", "10.0.0.2"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn a_trusted_peer_without_forwarded_for_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn a_chain_of_trusted_hops_yields_the_leftmost() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let headers = forwarded(&["10.0.0.9, 10.0.0.2"]);
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &headers), ip("10.0.0.9"));
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_vouched_hop() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let headers = forwarded(&["203.0.113.7, not-an-ip, 10.0.0.2"]);
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &headers), ip("10.0.0.2"));
    }

    #[test]
    fn ports_and_mapped_addresses_are_understood() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let headers = forwarded(&["203.0.113.7:4711"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
        let headers = forwarded(&["[2001:db8::1]:443"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &headers),
            ip("2001:db8::1")
        );
        // An IPv4 peer seen on a dual-stack socket.
        assert_eq!(
            trusted.client_ip(ip("::ffff:10.0.0.1"), &forwarded(&["203.0.113.8"])),
            ip("203.0.113.8")
        );
    }
}
