//! The caller's session credential, from the bearer header or the signed session cookie, and a JWT bearer for the
//! routes that take one.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use http::HeaderMap;
use http::request::Parts;

use crate::bearer::{bearer_api_key, bearer_jwt, bearer_token};
use crate::cookies::read_signed_cookie;
use crate::state::AppState;

/// The caller's session credential: a bearer token if one is valid, else the signed session cookie.
///
/// Never fails: without a credential the session RPCs answer `UNAUTHORIZED` themselves, after body validation.
#[derive(Clone, Default)]
pub struct CurrentSession {
    token: Option<String>,
    dont_remember: bool,
    jwt: Option<String>,
    api_key: Option<String>,
    /// `API_KEY_SESSIONS`: the `x-api-key` header stands for its owner's session here, before any cookie or bearer.
    key_session: bool,
}

impl std::fmt::Debug for CurrentSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentSession")
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("dont_remember", &self.dont_remember)
            .field("jwt", &self.jwt.as_ref().map(|_| "[redacted]"))
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl CurrentSession {
    pub fn from_headers(headers: &HeaderMap, state: &AppState) -> Self {
        let cookie = |name: &str| read_signed_cookie(headers, name, &state.secret);
        // The package's hook: with enableSessionForAPIKeys, an `x-api-key` header wins over any other credential.
        let header_key = state
            .plugins
            .api_key_sessions()
            .then(|| {
                headers
                    .get("x-api-key")
                    .and_then(|value| value.to_str().ok())
            })
            .flatten()
            .filter(|key| !key.is_empty())
            .map(str::to_owned);
        let key_session = header_key.is_some();
        let token = header_key
            .or_else(|| bearer_token(headers, &state.secret))
            .or_else(|| cookie(state.cookies.session_token_name()));
        let dont_remember =
            cookie(state.cookies.dont_remember_name()).is_some_and(|value| value == "true");
        Self {
            token,
            dont_remember,
            jwt: bearer_jwt(headers).map(str::to_owned),
            api_key: bearer_api_key(headers).map(str::to_owned),
            key_session,
        }
    }

    /// Whether the credential is an `x-api-key` standing for its owner's session (`API_KEY_SESSIONS`).
    pub fn key_session(&self) -> bool {
        self.key_session
    }

    /// The credential to pass on to auth-svc as the caller's: a session token, or under `API_KEY_SESSIONS` an
    /// `x-api-key` shaped like a key. Otherwise a key is no session on Better Auth's routes (the package's default),
    /// and a too-short `x-api-key` is none either.
    pub fn credential(&self) -> Option<&str> {
        let token = self.token.as_deref()?;
        (warden_common::token::is_api_key_shaped(token) == self.key_session).then_some(token)
    }

    #[cfg(test)]
    pub(crate) fn with_token(token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..Self::default()
        }
    }

    /// The raw session token, verified when it came signed.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// A bearer credential shaped like a JWT, unverified: only the task routes take it, and task-svc verifies it.
    pub fn jwt(&self) -> Option<&str> {
        self.jwt.as_deref()
    }

    /// An API key (`x-api-key`, or a bearer shaped like one), unverified: only the task routes take it, and task-svc
    /// has auth-svc verify it. On Better Auth's routes it stands for no session, as in the package.
    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// Whether a valid `dont_remember` cookie marks this session as not to be extended.
    pub fn dont_remember(&self) -> bool {
        self.dont_remember
    }
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(Self::from_headers(&parts.headers, state))
    }
}

#[cfg(test)]
mod tests {
    use http::header;

    use super::*;

    use warden_common::settings::UpstreamUrl;

    fn state(base_url: &str) -> AppState {
        let secret = warden_common::AuthSecret::parse("x".repeat(32).into()).unwrap();
        let config = crate::config::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            // Nothing listens on port 1: any call to a service fails at once.
            auth_url: UpstreamUrl::http(([127, 0, 0, 1], 1).into()),
            task_url: UpstreamUrl::http(([127, 0, 0, 1], 1).into()),
            base_url: base_url.parse().unwrap(),
            ..crate::config::Config::new(secret)
        };
        AppState::new(&config).unwrap()
    }

    fn session_from(state: &AppState, pairs: &[(header::HeaderName, String)]) -> CurrentSession {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name, value.parse().unwrap());
        }
        CurrentSession::from_headers(&headers, state)
    }

    #[tokio::test]
    async fn the_session_cookie_yields_its_verified_token() {
        let state = state("http://localhost:3000");
        let cookie = format!(
            "better-auth.session_token={}",
            state.secret.sign_cookie("tok1")
        );
        let session = session_from(&state, &[(header::COOKIE, cookie)]);
        assert_eq!(session.token(), Some("tok1"));
        assert!(!session.dont_remember());
    }

    #[tokio::test]
    async fn a_badly_signed_or_wrongly_named_cookie_yields_nothing() {
        let state = state("https://app.example.com");
        let forged = format!(
            "__Secure-better-auth.session_token={}",
            state.secret.sign_cookie("tok1").replacen("tok1", "tok2", 1)
        );
        assert_eq!(
            session_from(&state, &[(header::COOKIE, forged)]).token(),
            None
        );
        // A secure deployment reads only the `__Secure-` name.
        let plain = format!(
            "better-auth.session_token={}",
            state.secret.sign_cookie("tok1")
        );
        assert_eq!(
            session_from(&state, &[(header::COOKIE, plain)]).token(),
            None
        );
    }

    #[tokio::test]
    async fn a_valid_bearer_takes_the_cookies_place_and_an_invalid_one_does_not() {
        let state = state("http://localhost:3000");
        let cookie = (
            header::COOKIE,
            format!(
                "better-auth.session_token={}",
                state.secret.sign_cookie("from-cookie")
            ),
        );
        let bearer = (
            header::AUTHORIZATION,
            format!("Bearer {}", state.secret.sign("from-bearer")),
        );
        assert_eq!(
            session_from(&state, &[cookie.clone(), bearer]).token(),
            Some("from-bearer")
        );
        let forged = (
            header::AUTHORIZATION,
            "Bearer x.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
        );
        assert_eq!(
            session_from(&state, &[cookie, forged.clone()]).token(),
            Some("from-cookie")
        );
        assert_eq!(session_from(&state, &[forged]).token(), None);
    }

    #[tokio::test]
    async fn a_signed_dont_remember_cookie_is_noticed() {
        let state = state("http://localhost:3000");
        let signed = format!(
            "better-auth.dont_remember={}",
            state.secret.sign_cookie("true")
        );
        assert!(session_from(&state, &[(header::COOKIE, signed)]).dont_remember());
        let unsigned = "better-auth.dont_remember=true".to_owned();
        assert!(!session_from(&state, &[(header::COOKIE, unsigned)]).dont_remember());
    }
}
