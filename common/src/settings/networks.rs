//! Lists of IP networks: `TRUSTED_PROXIES` (whose forwarded client address is believed) and `METRICS_ALLOW` (who may
//! read `/metrics`).

use std::net::IpAddr;
use std::ops::Deref;

use ipnet::IpNet;

use super::{SettingsError, split_list};

/// Addresses and networks, from `10.0.0.0/8, 192.0.2.7` (a bare address is a one-host network).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Networks(Vec<IpNet>);

impl Networks {
    /// Parses a comma list; errors name `variable`.
    pub fn parse(variable: &'static str, list: &str) -> Result<Self, SettingsError> {
        split_list(list)
            .iter()
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        SettingsError::new(
                            variable,
                            format!("`{item}` is not an IP address or network"),
                        )
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// No network at all.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// `127.0.0.0/8` and `::1`: this host.
    pub fn loopback() -> Self {
        Self(vec![
            "127.0.0.0/8".parse().expect("valid network"),
            "::1/128".parse().expect("valid network"),
        ])
    }

    /// Whether `ip` is in one of the networks (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

impl Deref for Networks {
    type Target = [IpNet];

    fn deref(&self) -> &[IpNet] {
        &self.0
    }
}

impl From<Vec<IpNet>> for Networks {
    fn from(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }
}

impl From<Networks> for Vec<IpNet> {
    fn from(networks: Networks) -> Self {
        networks.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(networks: &Networks) -> Vec<String> {
        networks.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn addresses_and_networks_are_read() {
        let networks = Networks::parse("TRUSTED_PROXIES", " 10.0.0.0/8, 192.0.2.7 ,::1").unwrap();
        assert_eq!(
            strings(&networks),
            ["10.0.0.0/8", "192.0.2.7/32", "::1/128"]
        );
        assert!(networks.contains(&"10.1.2.3".parse().unwrap()));
        assert!(!networks.contains(&"11.0.0.1".parse().unwrap()));
        assert!(Networks::parse("TRUSTED_PROXIES", "").unwrap().is_empty());
    }

    #[test]
    fn a_name_is_refused_naming_the_variable() {
        let error = Networks::parse("METRICS_ALLOW", "10.0.0.0/8,prometheus").unwrap_err();
        assert_eq!(error.variable, "METRICS_ALLOW");
        assert!(error.reason.contains("`prometheus`"), "{error}");
    }

    #[test]
    fn loopback_is_this_host_in_both_families() {
        let loopback = Networks::loopback();
        assert_eq!(strings(&loopback), ["127.0.0.0/8", "::1/128"]);
        assert!(loopback.contains(&"127.0.0.9".parse().unwrap()));
        assert!(loopback.contains(&"::ffff:127.0.0.1".parse().unwrap()));
        assert!(!loopback.contains(&"192.0.2.1".parse().unwrap()));
    }
}
