//! Better Auth's cookies: their names, attributes, signed values and deletion.
//!
//! A deployment may change what Better Auth lets it change ([`CookieOptions`]): the name prefix, a `Domain` shared by
//! subdomains, and how long a remembered session cookie lives.
//!
//! Every response that sets a live session cookie also carries `set-auth-token` (the bearer plugin), so clients that
//! cannot keep cookies can read the signed token instead.

use axum::response::{IntoResponseParts, ResponseParts};
use http::{HeaderMap, HeaderValue, header};
use warden_common::AuthSecret;

use warden_common::settings::SettingsError;

/// The session cookie's default lifetime when the user asked to be remembered (Better Auth's `session.expiresIn`).
pub const SESSION_MAX_AGE: u64 = 604_800;

pub const SET_AUTH_TOKEN: &str = "set-auth-token";

/// How long a started social sign-in's state cookie lives (Better Auth: five minutes).
pub const STATE_MAX_AGE: u64 = 300;

/// How long a sign-in's second-factor challenge cookie lives (Better Auth's `twoFactorCookieMaxAge`: ten minutes).
pub const TWO_FACTOR_MAX_AGE: u64 = 600;

/// How long a trusted device's cookie lives (Better Auth's `trustDeviceMaxAge`: 30 days).
pub const TRUST_DEVICE_MAX_AGE: u64 = 2_592_000;

/// Better Auth's default `advanced.cookiePrefix`.
pub const DEFAULT_PREFIX: &str = "better-auth";

/// The cookie names and attributes of one deployment.
#[derive(Clone, Debug)]
pub struct CookieSettings {
    secure: bool,
    domain: Option<String>,
    session_max_age: u64,
    session_token: String,
    session_data: String,
    dont_remember: String,
    state: String,
    two_factor: String,
    trust_device: String,
    passkey: String,
}

impl CookieSettings {
    /// Better Auth's default names and lifetimes. Secure mode (`__Secure-` names, `Secure` attribute) when the base
    /// URL is https, as in Better Auth.
    pub fn new(secure: bool) -> Self {
        Self::with_options(secure, &CookieOptions::default())
    }

    /// Names `<prefix>.<cookie>` (after `__Secure-` in secure mode), `Domain` on every cookie when set.
    pub fn with_options(secure: bool, options: &CookieOptions) -> Self {
        let name = |suffix: &str| {
            let secure_prefix = if secure { "__Secure-" } else { "" };
            format!("{secure_prefix}{}.{suffix}", options.prefix)
        };
        Self {
            secure,
            domain: options.domain.clone(),
            session_max_age: options.session_max_age,
            session_token: name("session_token"),
            session_data: name("session_data"),
            dont_remember: name("dont_remember"),
            state: name("state"),
            two_factor: name("two_factor"),
            trust_device: name("trust_device"),
            passkey: name("better-auth-passkey"),
        }
    }

    pub fn session_token_name(&self) -> &str {
        &self.session_token
    }

    pub fn dont_remember_name(&self) -> &str {
        &self.dont_remember
    }

    /// Social sign-in's state cookie (`<prefix>.state`), binding a started sign-in to this browser.
    pub fn state_name(&self) -> &str {
        &self.state
    }

    /// The signed state cookie of a sign-in just started: five minutes, as Better Auth's.
    pub fn state_cookie(&self, secret: &AuthSecret, state: &str) -> String {
        self.serialize(&self.state, &secret.sign_cookie(state), Some(STATE_MAX_AGE))
    }

    /// Expires the state cookie, once its sign-in has been completed or refused.
    pub fn state_deletion(&self) -> String {
        self.deletion(&self.state)
    }

    /// The passkey plugin's ceremony cookie (`<prefix>.better-auth-passkey`, the package's own name after the prefix).
    pub fn passkey_name(&self) -> &str {
        &self.passkey
    }

    /// The signed cookie naming a passkey ceremony just begun: five minutes, as the package's.
    pub fn passkey_cookie(&self, secret: &AuthSecret, ceremony: &str) -> String {
        self.serialize(
            &self.passkey,
            &secret.sign_cookie(ceremony),
            Some(STATE_MAX_AGE),
        )
    }

    /// The two-factor plugin's sign-in challenge cookie (`<prefix>.two_factor`).
    pub fn two_factor_name(&self) -> &str {
        &self.two_factor
    }

    /// The two-factor plugin's trusted-device cookie (`<prefix>.trust_device`).
    pub fn trust_device_name(&self) -> &str {
        &self.trust_device
    }

    /// The signed challenge cookie of a sign-in that needs a second factor: ten minutes.
    pub fn two_factor_cookie(&self, secret: &AuthSecret, challenge: &str) -> String {
        self.serialize(
            &self.two_factor,
            &secret.sign_cookie(challenge),
            Some(TWO_FACTOR_MAX_AGE),
        )
    }

    /// The signed cookie of a trusted device: 30 days.
    pub fn trust_device_cookie(&self, secret: &AuthSecret, token: &str) -> String {
        self.serialize(
            &self.trust_device,
            &secret.sign_cookie(token),
            Some(TRUST_DEVICE_MAX_AGE),
        )
    }

    pub fn two_factor_deletion(&self) -> String {
        self.deletion(&self.two_factor)
    }

    pub fn trust_device_deletion(&self) -> String {
        self.deletion(&self.trust_device)
    }

    pub fn dont_remember_deletion(&self) -> String {
        self.deletion(&self.dont_remember)
    }

    /// Expires the session cookie and its cached data, keeping the dont_remember marker (a sign-in that turned
    /// into a second-factor challenge).
    pub fn session_deletion(&self) -> [String; 2] {
        [
            self.deletion(&self.session_token),
            self.deletion(&self.session_data),
        ]
    }

    fn serialize(&self, name: &str, value: &str, max_age: Option<u64>) -> String {
        let mut cookie = format!("{name}={value}");
        if let Some(max_age) = max_age {
            cookie.push_str(&format!("; Max-Age={max_age}"));
        }
        if let Some(domain) = &self.domain {
            cookie.push_str(&format!("; Domain={domain}"));
        }
        cookie.push_str("; Path=/; HttpOnly");
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie.push_str("; SameSite=Lax");
        cookie
    }

    /// The session cookie: lives the session's lifetime (`SESSION_EXPIRES_IN`) when remembered, else until the
    /// browser closes.
    pub fn session_cookie(&self, secret: &AuthSecret, token: &str, remember: bool) -> String {
        let max_age = remember.then_some(self.session_max_age);
        self.serialize(&self.session_token, &secret.sign_cookie(token), max_age)
    }

    /// Marks a rememberMe=false session, so it is never extended.
    pub fn dont_remember_cookie(&self, secret: &AuthSecret) -> String {
        self.serialize(&self.dont_remember, &secret.sign_cookie("true"), None)
    }

    fn deletion(&self, name: &str) -> String {
        self.serialize(name, "", Some(0))
    }

    /// Expires session_token, session_data and dont_remember.
    pub fn deletion_cookies(&self) -> [String; 3] {
        [
            self.deletion(&self.session_token),
            self.deletion(&self.session_data),
            self.deletion(&self.dont_remember),
        ]
    }
}

/// The value of the first cookie called `name` in the request's `Cookie` headers.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim())
}

/// The value of the signed cookie `name`, when its signature holds under one of the secrets.
pub fn read_signed_cookie(headers: &HeaderMap, name: &str, secret: &AuthSecret) -> Option<String> {
    read_cookie(headers, name).and_then(|wire| secret.verify_cookie(wire))
}

/// The `Set-Cookie` headers (and `set-auth-token`) a response carries.
#[derive(Debug, Default)]
#[must_use]
pub struct SetCookies {
    cookies: Vec<String>,
    auth_token: Option<String>,
}

impl SetCookies {
    pub fn none() -> Self {
        Self::default()
    }

    /// A new session: its cookie, and for rememberMe=false the dont_remember marker; an old marker is expired.
    pub fn session(
        settings: &CookieSettings,
        secret: &AuthSecret,
        token: &str,
        remember: bool,
        had_dont_remember: bool,
    ) -> Self {
        let mut cookies = vec![settings.session_cookie(secret, token, remember)];
        if !remember {
            cookies.push(settings.dont_remember_cookie(secret));
        } else if had_dont_remember {
            cookies.push(settings.deletion(&settings.dont_remember));
        }
        Self {
            cookies,
            auth_token: Some(secret.sign(token)),
        }
    }

    /// A refreshed session's cookie, sent again so the browser's copy lives as long as the session. Only remembered
    /// sessions are ever refreshed.
    pub fn refreshed(settings: &CookieSettings, secret: &AuthSecret, token: &str) -> Self {
        Self {
            cookies: vec![settings.session_cookie(secret, token, true)],
            auth_token: Some(secret.sign(token)),
        }
    }

    /// The three deletion cookies.
    pub fn cleared(settings: &CookieSettings) -> Self {
        Self {
            cookies: settings.deletion_cookies().into(),
            auth_token: None,
        }
    }

    pub fn cookies(&self) -> &[String] {
        &self.cookies
    }

    /// These cookies with `cookie` set before them (Better Auth expires the state cookie first).
    pub fn after(mut self, cookie: String) -> Self {
        self.cookies.insert(0, cookie);
        self
    }

    /// These cookies with `cookie` set after them.
    pub fn then(mut self, cookie: String) -> Self {
        self.cookies.push(cookie);
        self
    }

    /// These cookies without the one called `name`.
    pub fn without(mut self, name: &str) -> Self {
        self.cookies
            .retain(|cookie| cookie.split_once('=').is_none_or(|(key, _)| key != name));
        self
    }

    /// Just `cookie`.
    pub fn one(cookie: String) -> Self {
        Self {
            cookies: vec![cookie],
            auth_token: None,
        }
    }
}

impl IntoResponseParts for SetCookies {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        let headers = res.headers_mut();
        for cookie in self.cookies {
            // Names and values are ASCII built here, so this cannot fail in practice.
            if let Ok(value) = HeaderValue::try_from(cookie) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        if let Some(token) = self.auth_token
            && let Ok(value) = HeaderValue::try_from(token)
        {
            headers.insert(SET_AUTH_TOKEN, value);
            expose_header(headers, SET_AUTH_TOKEN);
        }
        Ok(res)
    }
}

/// Adds `name` to `Access-Control-Expose-Headers`, keeping what is there.
pub fn expose_header(headers: &mut HeaderMap, name: &str) {
    let mut exposed: Vec<String> = headers
        .get_all(header::ACCESS_CONTROL_EXPOSE_HEADERS)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect();
    if exposed.iter().any(|item| item.eq_ignore_ascii_case(name)) {
        return;
    }
    exposed.push(name.to_owned());
    if let Ok(value) = HeaderValue::try_from(exposed.join(", ")) {
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, value);
    }
}

/// The cookie settings Better Auth lets a deployment change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieOptions {
    /// `advanced.cookiePrefix` (`COOKIE_PREFIX`): cookies are `<prefix>.session_token` and so on.
    pub prefix: String,
    /// `advanced.crossSubDomainCookies.domain` (`COOKIE_DOMAIN`): the `Domain` attribute of every cookie, deletion
    /// cookies included, so that `app.example.com` and `api.example.com` share a session.
    pub domain: Option<String>,
    /// `session.expiresIn` (`SESSION_EXPIRES_IN`), in seconds: a remembered session cookie's `Max-Age`.
    pub session_max_age: u64,
}

impl Default for CookieOptions {
    /// Better Auth's defaults: `better-auth.*` cookies, host-only, a week.
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            domain: None,
            session_max_age: SESSION_MAX_AGE,
        }
    }
}

impl CookieOptions {
    /// Refuses what would break the `Set-Cookie` header: a prefix that is not a cookie-name token, a domain that is
    /// not a host name, a lifetime of zero.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let token_char = |c: char| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c);
        if self.prefix.is_empty() || !self.prefix.chars().all(token_char) {
            return Err(SettingsError::new(
                "COOKIE_PREFIX",
                format!("`{}` is not usable in a cookie name", self.prefix),
            ));
        }
        if let Some(domain) = &self.domain {
            let host_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
            let bare = domain.trim_start_matches('.');
            if bare.is_empty() || !domain.chars().all(host_char) || bare.starts_with('.') {
                return Err(SettingsError::new(
                    "COOKIE_DOMAIN",
                    format!("`{domain}` is not a domain such as example.com"),
                ));
            }
        }
        if self.session_max_age == 0 {
            return Err(SettingsError::new(
                "SESSION_EXPIRES_IN",
                "must be at least 1 second",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    const TOKEN: &str = "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd";
    const WIRE: &str =
        "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd.KnI2kUs3iY%2FZzFNooOvLhEdSLQ9QDj2PxOpln%2F86Cig%3D";
    const SIGNED: &str =
        "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd.KnI2kUs3iY/ZzFNooOvLhEdSLQ9QDj2PxOpln/86Cig=";
    const TRUE_WIRE: &str = "true.1bXlcnrqtmSepkNJviBBMNg0%2BTFE%2FNL3hULlLOhQEEc%3D";

    fn secret() -> AuthSecret {
        AuthSecret::parse("x".repeat(32).into()).unwrap()
    }

    #[test]
    fn a_remembered_session_cookie_lives_a_week() {
        let cookie = CookieSettings::new(false).session_cookie(&secret(), TOKEN, true);
        assert_eq!(
            cookie,
            format!(
                "better-auth.session_token={WIRE}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
            )
        );
    }

    #[test]
    fn a_secure_deployment_prefixes_names_and_marks_cookies_secure() {
        let cookie = CookieSettings::new(true).session_cookie(&secret(), TOKEN, true);
        assert_eq!(
            cookie,
            format!(
                "__Secure-better-auth.session_token={WIRE}; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax"
            )
        );
    }

    #[test]
    fn a_session_not_remembered_has_no_max_age_and_a_dont_remember_marker() {
        let set = SetCookies::session(&CookieSettings::new(false), &secret(), TOKEN, false, false);
        assert_eq!(
            set.cookies(),
            [
                format!("better-auth.session_token={WIRE}; Path=/; HttpOnly; SameSite=Lax"),
                format!("better-auth.dont_remember={TRUE_WIRE}; Path=/; HttpOnly; SameSite=Lax"),
            ]
        );
    }

    #[test]
    fn a_remembered_sign_in_expires_an_old_dont_remember_marker() {
        let set = SetCookies::session(&CookieSettings::new(false), &secret(), TOKEN, true, true);
        assert_eq!(set.cookies().len(), 2);
        assert_eq!(
            set.cookies()[1],
            "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn deletion_cookies_expire_all_three() {
        assert_eq!(
            CookieSettings::new(false).deletion_cookies(),
            [
                "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
                "better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
                "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            ]
        );
        assert_eq!(
            CookieSettings::new(true).deletion_cookies()[0],
            "__Secure-better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn setting_a_session_adds_set_auth_token_and_exposes_it() {
        let set = SetCookies::session(&CookieSettings::new(false), &secret(), TOKEN, true, false);
        let mut response = (set, "{}").into_response();
        let headers = response.headers_mut();
        assert_eq!(headers.get(SET_AUTH_TOKEN).unwrap(), SIGNED);
        assert_eq!(
            headers.get(header::ACCESS_CONTROL_EXPOSE_HEADERS).unwrap(),
            "set-auth-token"
        );
        assert_eq!(headers.get_all(header::SET_COOKIE).iter().count(), 1);
    }

    #[test]
    fn clearing_cookies_sends_no_auth_token() {
        let response = (SetCookies::cleared(&CookieSettings::new(false)), "{}").into_response();
        assert!(response.headers().get(SET_AUTH_TOKEN).is_none());
        assert_eq!(
            response
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .count(),
            3
        );
    }

    #[test]
    fn exposing_a_header_merges_with_the_existing_list() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            "x-a, X-B".parse().unwrap(),
        );
        expose_header(&mut headers, "set-auth-token");
        assert_eq!(
            headers[header::ACCESS_CONTROL_EXPOSE_HEADERS],
            "x-a, X-B, set-auth-token"
        );
        expose_header(&mut headers, "x-b");
        assert_eq!(
            headers[header::ACCESS_CONTROL_EXPOSE_HEADERS],
            "x-a, X-B, set-auth-token"
        );
    }

    fn custom() -> CookieSettings {
        CookieSettings::with_options(
            false,
            &CookieOptions {
                prefix: "my-app".into(),
                domain: Some("example.com".into()),
                session_max_age: 3600,
            },
        )
    }

    #[test]
    fn a_custom_prefix_names_every_cookie() {
        let settings = custom();
        assert_eq!(settings.session_token_name(), "my-app.session_token");
        assert_eq!(settings.dont_remember_name(), "my-app.dont_remember");
        let secure = CookieSettings::with_options(
            true,
            &CookieOptions {
                prefix: "my-app".into(),
                ..CookieOptions::default()
            },
        );
        assert_eq!(secure.session_token_name(), "__Secure-my-app.session_token");
    }

    #[test]
    fn a_cookie_domain_goes_on_set_and_deletion_cookies_after_max_age() {
        let settings = custom();
        assert_eq!(
            settings.session_cookie(&secret(), TOKEN, true),
            format!(
                "my-app.session_token={WIRE}; Max-Age=3600; Domain=example.com; Path=/; HttpOnly; SameSite=Lax"
            )
        );
        assert_eq!(
            settings.dont_remember_cookie(&secret()),
            format!(
                "my-app.dont_remember={TRUE_WIRE}; Domain=example.com; Path=/; HttpOnly; SameSite=Lax"
            )
        );
        assert_eq!(
            settings.deletion_cookies(),
            [
                "my-app.session_token=; Max-Age=0; Domain=example.com; Path=/; HttpOnly; SameSite=Lax",
                "my-app.session_data=; Max-Age=0; Domain=example.com; Path=/; HttpOnly; SameSite=Lax",
                "my-app.dont_remember=; Max-Age=0; Domain=example.com; Path=/; HttpOnly; SameSite=Lax",
            ]
        );
    }

    #[test]
    fn a_refreshed_cookie_lives_the_configured_session_lifetime() {
        let set = SetCookies::refreshed(&custom(), &secret(), TOKEN);
        assert!(
            set.cookies()[0].contains("; Max-Age=3600;"),
            "{:?}",
            set.cookies()
        );
    }

    #[test]
    fn only_the_named_cookie_is_read() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "other=1; better-auth.session_token=abc.sig"
                .parse()
                .unwrap(),
        );
        headers.append(
            header::COOKIE,
            "better-auth.session_token=second".parse().unwrap(),
        );
        assert_eq!(
            read_cookie(&headers, "better-auth.session_token"),
            Some("abc.sig")
        );
        assert_eq!(
            read_cookie(&headers, "__Secure-better-auth.session_token"),
            None
        );
        assert_eq!(read_cookie(&headers, "better-auth.session"), None);
    }
}
