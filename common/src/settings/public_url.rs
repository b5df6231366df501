//! `BASE_URL`: the public URL of the app, normalised once.
//!
//! It is every JWT's issuer and audience, the origin trusted first, the base of links in mails and of relative
//! callbacks, and its scheme decides `__Secure-` cookies. Written with or without a trailing `/`, it is the same URL:
//! the slash is dropped here, so nothing downstream trims or re-checks it.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::SettingsError;

/// What `BASE_URL` is when unset (the gateway's default address).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// An `http://` or `https://` URL with a host, without trailing `/`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicUrl {
    text: Arc<str>,
    origin: Arc<str>,
}

impl PublicUrl {
    /// Errors name `BASE_URL`.
    pub fn parse(raw: &str) -> Result<Self, SettingsError> {
        let bad = || {
            SettingsError::new(
                "BASE_URL",
                format!("`{raw}` must be an http:// or https:// URL, such as {DEFAULT_PUBLIC_URL}"),
            )
        };
        let text = raw.trim().trim_end_matches('/');
        // The URL standard reads `https:///x` and `https:x` as host `x`; a public URL is written out in full.
        let written_in_full = text
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
        if !written_in_full {
            return Err(bad());
        }
        let url = url::Url::parse(text).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(bad());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(SettingsError::new(
                "BASE_URL",
                format!("`{raw}` must not have a query or fragment"),
            ));
        }
        Ok(Self {
            text: text.into(),
            origin: url.origin().ascii_serialization().into(),
        })
    }

    /// The URL as written, without trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `scheme://host[:port]`, lower-cased, the default port left out.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether cookies get the `__Secure-` prefix and the `Secure` attribute, as Better Auth decides it.
    pub fn is_https(&self) -> bool {
        self.origin.starts_with("https://")
    }
}

impl Default for PublicUrl {
    fn default() -> Self {
        Self::parse(DEFAULT_PUBLIC_URL).expect("the default is a valid URL")
    }
}

impl FromStr for PublicUrl {
    type Err = SettingsError;

    fn from_str(raw: &str) -> Result<Self, SettingsError> {
        Self::parse(raw)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicUrl({:?})", &*self.text)
    }
}

impl AsRef<str> for PublicUrl {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_trailing_slash_is_dropped_and_the_path_kept() {
        let url = PublicUrl::parse(" https://App.example.com/auth/ ").unwrap();
        assert_eq!(url.as_str(), "https://App.example.com/auth");
        assert_eq!(url.origin(), "https://app.example.com");
        assert!(url.is_https());
        assert_eq!(
            PublicUrl::parse("http://a.example/").unwrap().as_str(),
            "http://a.example"
        );
    }

    #[test]
    fn the_origin_leaves_out_the_default_port() {
        assert_eq!(
            PublicUrl::parse("https://a.example:443/x")
                .unwrap()
                .origin(),
            "https://a.example"
        );
        assert_eq!(
            PublicUrl::parse("http://localhost:3000").unwrap().origin(),
            "http://localhost:3000"
        );
        assert!(!PublicUrl::default().is_https());
        assert_eq!(PublicUrl::default().as_str(), DEFAULT_PUBLIC_URL);
    }

    #[test]
    fn anything_but_an_http_url_with_a_host_is_refused_naming_base_url() {
        for bad in [
            "",
            "localhost",
            "localhost:3000",
            "ftp://a.example",
            "http://",
            "https:///x",
            "http://a/?q=1",
            "http://a/#f",
            "https:x",
        ] {
            let error = PublicUrl::parse(bad).unwrap_err();
            assert_eq!(error.variable, "BASE_URL", "{bad}");
        }
    }

    proptest! {
        #[test]
        fn normalising_is_done_once_and_for_all(
            https in any::<bool>(),
            host in "[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,5}){0,2}",
            port in proptest::option::of(1u16..),
            path in "(/[a-zA-Z0-9._~-]{1,8}){0,3}",
            slashes in 0usize..3,
        ) {
            let scheme = if https { "https" } else { "http" };
            let port = port.map(|port| format!(":{port}")).unwrap_or_default();
            let raw = format!("{scheme}://{host}{port}{path}{}", "/".repeat(slashes));
            let url = PublicUrl::parse(&raw).unwrap();
            prop_assert!(!url.as_str().ends_with('/'));
            prop_assert_eq!(&PublicUrl::parse(url.as_str()).unwrap(), &url);
            prop_assert_eq!(&PublicUrl::parse(&format!("{url}/")).unwrap(), &url);
            let site = format!("{scheme}://{host}");
            prop_assert!(url.as_str().starts_with(&site));
            prop_assert!(url.origin().starts_with(&site));
            prop_assert_eq!(url.is_https(), https);
            prop_assert!(url.as_str().ends_with(&path) || path.is_empty());
        }
    }
}
