//! Better Auth's CSRF rules for state-changing requests, over the trusted origins.
//!
//! The trusted list is `BASE_URL`'s origin plus `TRUSTED_ORIGINS` ([`TrustedOrigins`], from the settings layer, which
//! also holds the wildcard matching and the rule for relative callback paths).
//!
//! Every URL a request asks to be sent to afterwards ([`RedirectUrls`]: `callbackURL`, `redirectTo`,
//! `errorCallbackURL`, `newUserCallbackURL`) is checked here, for every route, from the body (or the query).

use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Map, Value};

use warden_common::settings::{PublicUrl, TrustedOrigins};
use warden_proto::Reason;

use crate::error::ApiError;

/// The origins this deployment trusts, and the checks of a request against them.
#[derive(Clone, Debug)]
pub struct OriginPolicy {
    trusted: TrustedOrigins,
}

/// Why a request failed the origin checks; each is a 403 with Better Auth's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error("Missing or null Origin")]
    MissingOrNullOrigin,
    #[error("Invalid origin")]
    InvalidOrigin,
    #[error("Invalid callbackURL")]
    InvalidCallbackUrl,
    #[error("Invalid redirectURL")]
    InvalidRedirectUrl,
    #[error("Invalid errorCallbackURL")]
    InvalidErrorCallbackUrl,
    #[error("Invalid newUserCallbackURL")]
    InvalidNewUserCallbackUrl,
    #[error("Cross-site navigation login blocked. This request appears to be a CSRF attack.")]
    CrossSiteNavigationLoginBlocked,
}

impl OriginError {
    pub fn reason(self) -> Reason {
        match self {
            Self::MissingOrNullOrigin => Reason::MissingOrNullOrigin,
            Self::InvalidOrigin => Reason::InvalidOrigin,
            Self::InvalidCallbackUrl => Reason::InvalidCallbackUrl,
            Self::InvalidRedirectUrl => Reason::InvalidRedirectUrl,
            Self::InvalidErrorCallbackUrl => Reason::InvalidErrorCallbackUrl,
            Self::InvalidNewUserCallbackUrl => Reason::InvalidNewUserCallbackUrl,
            Self::CrossSiteNavigationLoginBlocked => Reason::CrossSiteNavigationLoginBlocked,
        }
    }
}

impl From<OriginError> for ApiError {
    fn from(error: OriginError) -> Self {
        Self::local(StatusCode::FORBIDDEN, error.reason(), error.to_string())
    }
}

/// The URLs a request asks to be sent to afterwards; each must be trusted or a safe relative path.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RedirectUrls {
    pub callback: Option<String>,
    pub redirect: Option<String>,
    pub error_callback: Option<String>,
    pub new_user_callback: Option<String>,
}

impl RedirectUrls {
    /// Better Auth's fields: `callbackURL` from the body, else the query; `redirectTo`, `errorCallbackURL` and
    /// `newUserCallbackURL` from the body. Empty strings count as absent; non-strings are left to schema validation.
    pub fn from_request(body: &Map<String, Value>, query: Option<&str>) -> Self {
        let field = |name: &str| match body.get(name) {
            Some(Value::String(url)) if !url.is_empty() => Some(url.clone()),
            _ => None,
        };
        Self {
            callback: match body.get("callbackURL") {
                Some(Value::String(url)) => Some(url.clone()),
                _ => crate::query::query_param(query, "callbackURL"),
            }
            .filter(|url| !url.is_empty()),
            redirect: field("redirectTo"),
            error_callback: field("errorCallbackURL"),
            new_user_callback: field("newUserCallbackURL"),
        }
    }

    fn callback_only(callback: Option<&str>) -> Self {
        Self {
            callback: callback.filter(|url| !url.is_empty()).map(str::to_owned),
            ..Self::default()
        }
    }
}

/// What the origin checks read from a request.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestOrigin<'a> {
    /// Safe methods (GET, HEAD, OPTIONS) are never checked.
    pub safe_method: bool,
    pub has_cookie: bool,
    pub origin: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
    pub sec_fetch_mode: Option<&'a str>,
    pub sec_fetch_dest: Option<&'a str>,
}

impl<'a> RequestOrigin<'a> {
    pub fn from_request(method: &Method, headers: &'a HeaderMap) -> Self {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        Self {
            safe_method: matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS),
            has_cookie: headers.contains_key(header::COOKIE),
            origin: get("origin"),
            referer: get("referer"),
            sec_fetch_site: get("sec-fetch-site"),
            sec_fetch_mode: get("sec-fetch-mode"),
            sec_fetch_dest: get("sec-fetch-dest"),
        }
    }

    /// `Origin`, else `Referer`, as Better Auth reads it.
    fn claimed_origin(&self) -> Option<&'a str> {
        self.origin.or(self.referer)
    }

    fn has_fetch_metadata(&self) -> bool {
        self.sec_fetch_site.is_some()
            || self.sec_fetch_mode.is_some()
            || self.sec_fetch_dest.is_some()
    }
}

impl OriginPolicy {
    /// `base_url`'s origin plus `extra`.
    pub fn new(base_url: &PublicUrl, extra: &TrustedOrigins) -> Self {
        Self {
            trusted: TrustedOrigins::for_site(base_url, extra),
        }
    }

    /// Whether `url` (an origin, a full URL, or with `allow_relative` a path) belongs to a trusted origin.
    pub fn is_trusted(&self, url: &str, allow_relative: bool) -> bool {
        self.trusted.is_trusted(url, allow_relative)
    }

    /// [`OriginPolicy::check_request`] with only a `callbackURL`.
    pub fn check(
        &self,
        request: &RequestOrigin<'_>,
        login: bool,
        callback_url: Option<&str>,
    ) -> Result<(), OriginError> {
        self.check_request(request, login, &RedirectUrls::callback_only(callback_url))
    }

    /// Each redirect URL present, in Better Auth's order, must be trusted or a safe relative path.
    pub fn check_redirects(&self, urls: &RedirectUrls) -> Result<(), OriginError> {
        let checks = [
            (&urls.callback, OriginError::InvalidCallbackUrl),
            (&urls.redirect, OriginError::InvalidRedirectUrl),
            (&urls.error_callback, OriginError::InvalidErrorCallbackUrl),
            (
                &urls.new_user_callback,
                OriginError::InvalidNewUserCallbackUrl,
            ),
        ];
        for (url, error) in checks {
            if let Some(url) = url
                && !self.is_trusted(url, true)
            {
                return Err(error);
            }
        }
        Ok(())
    }

    /// Better Auth's checks for a state-changing request, in its order: the cookie-bearing request's origin, the
    /// redirect URLs, then (for sign-up and sign-in) the login CSRF rule.
    pub fn check_request(
        &self,
        request: &RequestOrigin<'_>,
        login: bool,
        urls: &RedirectUrls,
    ) -> Result<(), OriginError> {
        if request.safe_method {
            return Ok(());
        }
        if request.has_cookie {
            self.check_claimed_origin(request)?;
        }
        self.check_redirects(urls)?;
        if login && !request.has_cookie {
            if request.has_fetch_metadata() {
                if request.sec_fetch_site == Some("cross-site")
                    && request.sec_fetch_mode == Some("navigate")
                {
                    return Err(OriginError::CrossSiteNavigationLoginBlocked);
                }
                self.check_claimed_origin(request)?;
            } else if request.claimed_origin().is_some() {
                self.check_claimed_origin(request)?;
            }
        }
        Ok(())
    }

    fn check_claimed_origin(&self, request: &RequestOrigin<'_>) -> Result<(), OriginError> {
        match request.claimed_origin() {
            None | Some("null") => Err(OriginError::MissingOrNullOrigin),
            Some(origin) if self.is_trusted(origin, false) => Ok(()),
            Some(_) => Err(OriginError::InvalidOrigin),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> OriginPolicy {
        OriginPolicy::new(
            &"http://localhost:3000/app".parse().unwrap(),
            &"https://*.example.com,*.wild.test,https://exact.org/,myapp://"
                .parse()
                .unwrap(),
        )
    }

    fn post() -> RequestOrigin<'static> {
        RequestOrigin::default()
    }

    #[test]
    fn safe_methods_are_never_checked() {
        let request = RequestOrigin {
            safe_method: true,
            has_cookie: true,
            ..post()
        };
        assert_eq!(
            origins().check(&request, true, Some("https://evil.com")),
            Ok(())
        );
    }

    #[test]
    fn a_cookie_request_without_origin_or_referer_is_refused() {
        let request = RequestOrigin {
            has_cookie: true,
            ..post()
        };
        assert_eq!(
            origins().check(&request, false, None),
            Err(OriginError::MissingOrNullOrigin)
        );
        let null = RequestOrigin {
            origin: Some("null"),
            ..request
        };
        assert_eq!(
            origins().check(&null, false, None),
            Err(OriginError::MissingOrNullOrigin)
        );
    }

    #[test]
    fn a_cookie_request_from_an_untrusted_origin_is_refused() {
        let request = RequestOrigin {
            has_cookie: true,
            origin: Some("https://evil.com"),
            ..post()
        };
        assert_eq!(
            origins().check(&request, false, None),
            Err(OriginError::InvalidOrigin)
        );
    }

    #[test]
    fn a_cookie_request_falls_back_to_the_referer() {
        let trusted = RequestOrigin {
            has_cookie: true,
            referer: Some("http://localhost:3000/settings"),
            ..post()
        };
        assert_eq!(origins().check(&trusted, false, None), Ok(()));
        let untrusted = RequestOrigin {
            referer: Some("https://evil.com/page"),
            ..trusted
        };
        assert_eq!(
            origins().check(&untrusted, false, None),
            Err(OriginError::InvalidOrigin)
        );
    }

    #[test]
    fn a_request_without_cookie_skips_the_origin_check() {
        let request = RequestOrigin {
            origin: Some("https://evil.com"),
            ..post()
        };
        assert_eq!(origins().check(&request, false, None), Ok(()));
    }

    #[test]
    fn an_untrusted_callback_url_is_refused_even_without_cookie() {
        assert_eq!(
            origins().check(&post(), false, Some("https://evil.com/x")),
            Err(OriginError::InvalidCallbackUrl)
        );
        assert_eq!(
            origins().check(&post(), false, Some("//evil.com")),
            Err(OriginError::InvalidCallbackUrl)
        );
        assert_eq!(origins().check(&post(), false, Some("/dashboard")), Ok(()));
        assert_eq!(
            origins().check(&post(), false, Some("http://localhost:3000/x")),
            Ok(())
        );
    }

    #[test]
    fn every_redirect_field_is_checked_with_its_own_code() {
        let body = |pairs: Value| pairs.as_object().unwrap().clone();
        let cases = [
            (
                "callbackURL",
                OriginError::InvalidCallbackUrl,
                "INVALID_CALLBACK_URL",
                "Invalid callbackURL",
            ),
            (
                "redirectTo",
                OriginError::InvalidRedirectUrl,
                "INVALID_REDIRECT_URL",
                "Invalid redirectURL",
            ),
            (
                "errorCallbackURL",
                OriginError::InvalidErrorCallbackUrl,
                "INVALID_ERROR_CALLBACK_URL",
                "Invalid errorCallbackURL",
            ),
            (
                "newUserCallbackURL",
                OriginError::InvalidNewUserCallbackUrl,
                "INVALID_NEW_USER_CALLBACK_URL",
                "Invalid newUserCallbackURL",
            ),
        ];
        for (field, error, code, message) in cases {
            for bad in ["https://evil.com/x", "//evil.com"] {
                let urls =
                    RedirectUrls::from_request(&body(serde_json::json!({ field: bad })), None);
                assert_eq!(
                    origins().check_redirects(&urls),
                    Err(error),
                    "{field}={bad}"
                );
            }
            assert_eq!(
                (error.reason().as_str(), error.to_string().as_str()),
                (code, message)
            );
            for good in [
                "/dashboard",
                "http://localhost:3000/x",
                "https://app.example.com",
                "",
            ] {
                let urls =
                    RedirectUrls::from_request(&body(serde_json::json!({ field: good })), None);
                assert_eq!(origins().check_redirects(&urls), Ok(()), "{field}={good}");
            }
        }
    }

    #[test]
    fn the_callback_url_may_come_from_the_query_but_the_body_wins() {
        let empty = Map::new();
        let urls = RedirectUrls::from_request(&empty, Some("callbackURL=https%3A%2F%2Fevil.com"));
        assert_eq!(urls.callback.as_deref(), Some("https://evil.com"));
        let body = serde_json::json!({"callbackURL": "/home"});
        let urls = RedirectUrls::from_request(
            body.as_object().unwrap(),
            Some("callbackURL=https%3A%2F%2Fevil.com"),
        );
        assert_eq!(urls.callback.as_deref(), Some("/home"));
        // Only callbackURL is read from the query.
        let urls = RedirectUrls::from_request(&empty, Some("redirectTo=https%3A%2F%2Fevil.com"));
        assert_eq!(urls, RedirectUrls::default());
    }

    #[test]
    fn the_origin_is_checked_before_the_redirect_urls() {
        let request = RequestOrigin {
            has_cookie: true,
            origin: Some("https://evil.com"),
            ..post()
        };
        let urls = RedirectUrls {
            redirect: Some("https://evil.com".into()),
            ..RedirectUrls::default()
        };
        assert_eq!(
            origins().check_request(&request, false, &urls),
            Err(OriginError::InvalidOrigin)
        );
    }

    #[test]
    fn login_from_a_cross_site_navigation_is_blocked() {
        let request = RequestOrigin {
            sec_fetch_site: Some("cross-site"),
            sec_fetch_mode: Some("navigate"),
            origin: Some("http://localhost:3000"),
            ..post()
        };
        assert_eq!(
            origins().check(&request, true, None),
            Err(OriginError::CrossSiteNavigationLoginBlocked)
        );
        // The rule is for login routes only.
        assert_eq!(origins().check(&request, false, None), Ok(()));
    }

    #[test]
    fn login_with_fetch_metadata_needs_a_trusted_origin() {
        let request = RequestOrigin {
            sec_fetch_mode: Some("cors"),
            ..post()
        };
        assert_eq!(
            origins().check(&request, true, None),
            Err(OriginError::MissingOrNullOrigin)
        );
        let untrusted = RequestOrigin {
            origin: Some("https://evil.com"),
            ..request
        };
        assert_eq!(
            origins().check(&untrusted, true, None),
            Err(OriginError::InvalidOrigin)
        );
        let trusted = RequestOrigin {
            origin: Some("https://app.example.com"),
            ..request
        };
        assert_eq!(origins().check(&trusted, true, None), Ok(()));
        let same_site_navigation = RequestOrigin {
            sec_fetch_site: Some("same-origin"),
            sec_fetch_mode: Some("navigate"),
            origin: Some("http://localhost:3000"),
            ..post()
        };
        assert_eq!(origins().check(&same_site_navigation, true, None), Ok(()));
    }

    #[test]
    fn login_without_fetch_metadata_checks_an_origin_only_when_present() {
        assert_eq!(origins().check(&post(), true, None), Ok(()));
        let untrusted = RequestOrigin {
            origin: Some("https://evil.com"),
            ..post()
        };
        assert_eq!(
            origins().check(&untrusted, true, None),
            Err(OriginError::InvalidOrigin)
        );
        let referer = RequestOrigin {
            referer: Some("https://evil.com/login"),
            ..post()
        };
        assert_eq!(
            origins().check(&referer, true, None),
            Err(OriginError::InvalidOrigin)
        );
        let trusted = RequestOrigin {
            origin: Some("http://localhost:3000"),
            ..post()
        };
        assert_eq!(origins().check(&trusted, true, None), Ok(()));
    }

    #[test]
    fn login_with_a_cookie_uses_the_cookie_rule() {
        let request = RequestOrigin {
            has_cookie: true,
            sec_fetch_site: Some("cross-site"),
            sec_fetch_mode: Some("navigate"),
            origin: Some("http://localhost:3000"),
            ..post()
        };
        assert_eq!(origins().check(&request, true, None), Ok(()));
    }

    #[test]
    fn request_origin_reads_headers_and_ignores_blank_ones() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=b".parse().unwrap());
        headers.insert(header::ORIGIN, " ".parse().unwrap());
        headers.insert(header::REFERER, "http://localhost:3000/x".parse().unwrap());
        headers.insert("sec-fetch-mode", "cors".parse().unwrap());
        let request = RequestOrigin::from_request(&Method::POST, &headers);
        assert!(request.has_cookie && !request.safe_method);
        assert_eq!(request.claimed_origin(), Some("http://localhost:3000/x"));
        assert_eq!(request.sec_fetch_mode, Some("cors"));
        assert!(RequestOrigin::from_request(&Method::GET, &headers).safe_method);
    }
}
