//! Email addresses, accepted as Better Auth's validator (zod's `email()`) accepts them, stored lower-cased.

use std::sync::LazyLock;

use regex::Regex;

/// zod 4's default email pattern, minus its two look-aheads (checked by hand below).
static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$")
        .expect("valid email pattern")
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Lower-cases and validates; `None` when the address is malformed.
    pub fn parse(raw: &str) -> Option<Self> {
        let email = raw.to_lowercase();
        let well_formed =
            !email.starts_with('.') && !email.contains("..") && PATTERN.is_match(&email);
        well_formed.then_some(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_are_lower_cased() {
        assert_eq!(
            Email::parse("Alice@Example.COM").unwrap().as_str(),
            "alice@example.com"
        );
        assert!(Email::parse("first.last+tag@sub.example.io").is_some());
        assert!(Email::parse("o'neil@example.com").is_some());
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@b.c",
            ".a@example.com",
            "a..b@example.com",
            "a.@example.com",
            "a b@example.com",
            "a@-example.com",
            "a@example..com",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad} accepted");
        }
    }
}
