//! Where the load goes: parsed from the command line, and only ever an address on this machine.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use http::Uri;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error(
        "`{0}` is not on loopback: the load tool only targets this machine (127.0.0.0/8, ::1, localhost)"
    )]
    NotLoopback(String),
    #[error("`{0}` is not a usable address: {1}")]
    Invalid(String, &'static str),
}

/// An HTTP base URL on loopback, such as `http://127.0.0.1:8080`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpTarget {
    /// What the TCP connections go to.
    pub addr: SocketAddr,
    /// The `Host` header and the authority of `origin`.
    pub authority: String,
    /// `http://host:port`, sent as `Origin` on POSTs as a browser on the app's own page would.
    pub origin: String,
}

impl HttpTarget {
    pub fn parse(url: &str) -> Result<Self, TargetError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| TargetError::Invalid(url.into(), "not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(_) => {
                return Err(TargetError::Invalid(
                    url.into(),
                    "only http:// is supported",
                ));
            }
            None => return Err(TargetError::Invalid(url.into(), "needs http://")),
        }
        if uri.path() != "/" && !uri.path().is_empty() {
            return Err(TargetError::Invalid(
                url.into(),
                "give the base URL only, without a path",
            ));
        }
        let authority = uri
            .authority()
            .ok_or(TargetError::Invalid(url.into(), "no host"))?;
        let ip = loopback_ip(authority.host()).ok_or(TargetError::NotLoopback(url.into()))?;
        let port = authority.port_u16().unwrap_or(80);
        Ok(Self {
            addr: SocketAddr::new(ip, port),
            authority: authority.as_str().to_owned(),
            origin: format!("http://{}", authority.as_str()),
        })
    }
}

/// A gRPC address on loopback, given as `host:port` or `http://host:port`; returns the endpoint URI tonic dials.
pub fn grpc_endpoint(address: &str) -> Result<String, TargetError> {
    let bare = address.strip_prefix("http://").unwrap_or(address);
    if bare.contains("://") {
        return Err(TargetError::Invalid(
            address.into(),
            "only plaintext http:// gRPC is supported",
        ));
    }
    let uri: Uri = format!("http://{bare}")
        .parse()
        .map_err(|_| TargetError::Invalid(address.into(), "not host:port"))?;
    let authority = uri
        .authority()
        .ok_or(TargetError::Invalid(address.into(), "no host"))?;
    let port = authority
        .port_u16()
        .ok_or(TargetError::Invalid(address.into(), "no port"))?;
    let ip = loopback_ip(authority.host()).ok_or(TargetError::NotLoopback(address.into()))?;
    Ok(format!("http://{}", SocketAddr::new(ip, port)))
}

/// The Redis URL of the axum ceiling, which must be on loopback too.
pub fn redis_url(url: &str) -> Result<String, TargetError> {
    let rest = url
        .strip_prefix("redis://")
        .ok_or(TargetError::Invalid(url.into(), "needs redis://"))?;
    let host_port = rest.rsplit('@').next().unwrap_or(rest);
    let host_port = host_port.split('/').next().unwrap_or(host_port);
    let uri: Uri = format!("http://{host_port}")
        .parse()
        .map_err(|_| TargetError::Invalid(url.into(), "not a Redis URL"))?;
    let host = uri
        .host()
        .ok_or(TargetError::Invalid(url.into(), "no host"))?;
    loopback_ip(host).ok_or(TargetError::NotLoopback(url.into()))?;
    Ok(url.to_owned())
}

/// The address of a loopback host: an IP literal in 127.0.0.0/8 or `::1`, or `localhost`. Names are not resolved,
/// so nothing the resolver says can send load elsewhere.
fn loopback_ip(host: &str) -> Option<IpAddr> {
    if host.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    literal.parse::<IpAddr>().ok().filter(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_accepted_with_their_origin() {
        let target = HttpTarget::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(target.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(target.origin, "http://127.0.0.1:8080");
        let target = HttpTarget::parse("http://localhost:3000/").unwrap();
        assert_eq!(target.addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(target.authority, "localhost:3000");
        assert!(HttpTarget::parse("http://[::1]:8080").is_ok());
        assert!(HttpTarget::parse("http://127.1.2.3").is_ok());
    }

    #[test]
    fn other_hosts_are_refused() {
        for url in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "http://0.0.0.0:8080",
            "http://localhost.example.com:8080",
            "http://127.0.0.1.nip.io",
        ] {
            assert_eq!(
                HttpTarget::parse(url),
                Err(TargetError::NotLoopback(url.into())),
                "{url}"
            );
        }
        assert!(matches!(
            HttpTarget::parse("https://127.0.0.1"),
            Err(TargetError::Invalid(..))
        ));
    }

    #[test]
    fn grpc_addresses_must_be_loopback_with_a_port() {
        assert_eq!(
            grpc_endpoint("127.0.0.1:50051").unwrap(),
            "http://127.0.0.1:50051"
        );
        assert_eq!(
            grpc_endpoint("http://localhost:50052").unwrap(),
            "http://127.0.0.1:50052"
        );
        assert!(matches!(
            grpc_endpoint("192.168.1.5:50051"),
            Err(TargetError::NotLoopback(_))
        ));
        assert!(grpc_endpoint("127.0.0.1").is_err());
    }

    #[test]
    fn the_ceilings_redis_must_be_loopback() {
        assert!(redis_url("redis://127.0.0.1:6379").is_ok());
        assert!(redis_url("redis://:pw@localhost:6379/0").is_ok());
        assert!(matches!(
            redis_url("redis://cache.internal:6379"),
            Err(TargetError::NotLoopback(_))
        ));
    }
}
