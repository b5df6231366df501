//! Better Auth's rate limit: the rules applied to `<client>|<path>` keys in a [`Store`].

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use crate::{Decision, Rules, Store};

/// Counts requests per client address and path. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    store: Store,
    rules: Arc<Rules>,
}

impl RateLimiter {
    pub fn new(store: Store, rules: Rules) -> Self {
        Self {
            store,
            rules: Arc::new(rules),
        }
    }

    /// Counts one request from `client` to `path` (relative to the auth base path, e.g. `/sign-in/email`) and says
    /// whether it may go ahead.
    pub async fn check(&self, client: IpAddr, path: &str) -> Decision {
        let rule = self.rules.rule_for(path);
        let key = format!("{}|{path}", client_key(client));
        self.store.hit(&key, rule).await
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// The address a client is counted under. An IPv6 client usually holds a whole /64, so it is counted as that /64
/// (as Better Auth's `ipv6Subnet` does); an IPv4-mapped address counts as its IPv4 address.
pub fn client_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", Ipv6Addr::from(network))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_clients_are_counted_by_address_and_ipv6_clients_by_their_slash_64() {
        let key = |text: &str| client_key(text.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }

    #[tokio::test]
    async fn a_client_is_limited_per_path() {
        let limiter = RateLimiter::new(Store::memory(), Rules::better_auth());
        let client: IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(client, "/sign-in/email").await.is_allowed());
        }
        assert!(!limiter.check(client, "/sign-in/email").await.is_allowed());
        assert!(limiter.check(client, "/sign-up/email").await.is_allowed());
        let other: IpAddr = "198.51.100.2".parse().unwrap();
        assert!(limiter.check(other, "/sign-in/email").await.is_allowed());
    }
}
