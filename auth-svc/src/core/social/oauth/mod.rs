//! The HTTP client that talks to the social sign-in providers: authorization URLs, the code exchange, refresh, the
//! provider's user, and ID-token verification, on the wire as Better Auth 1.7.25 speaks it
//! (`docs/reference/better-auth-social-wire.md` §3, §4.4, §5.4–§5.6, §11, §16).
//!
//! Where Better Auth trusts and Warden checks:
//! - An ID token is verified whenever the provider publishes keys for it, Google's too (Better Auth decodes Google's
//!   unverified): the signature against the discovered JWKS (RS256, ES256 or EdDSA as the key says; never `none` or
//!   HMAC), `iss`, `aud` (and `azp` when there are several audiences), `exp` and `nbf` with 30 s of leeway, `iat`,
//!   `sub`, and `nonce` when one is expected. A provider without keys (configured endpoints) gets the same claim checks
//!   without the signature, which rests on the token having come straight from its token endpoint over TLS.
//! - Discovered endpoints must be https (http only on loopback), as configured ones are.
//! - No redirect is followed anywhere (Better Auth refuses them on the token, userinfo and JWKS endpoints; here
//!   discovery too), every call ends after 10 s, and an answer over 1 MiB is refused.
//!
//! Caches, per URL: a discovery document for 24 h (past that it is refetched; while the provider cannot answer, the
//! old one serves and the next try is a minute on); a JWKS until a token names a `kid` it lacks, refetched then at
//! most once per 10 s, so tokens with made-up `kid`s cost the provider one request per 10 s. One lock per URL lets
//! one request fetch while the others wait for its answer.
//!
//! A failure is logged once, here, with the provider id, the error and a cause made only of fixed text, status codes
//! and OAuth error codes: never a token, code, secret, verifier or an answer's body.

mod authorize;
mod claims;
mod discovery;
mod fault;
mod id_token;
mod profiles;
mod slots;
#[cfg(test)]
mod stand_in;
mod token_answer;
mod users;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use url::{Url, form_urlencoded};

use super::settings::{Kind, Provider};
use authorize::authorization_url;
use claims::subject_of;
use discovery::{Discovered, DiscoverySlot};
use fault::{Fault, OrFail, read_json};
use id_token::KeySlot;
use profiles::{generic_user, google_user, holds_sub_and_email, profile_from_claims};
use slots::Slots;
use token_answer::client_secret_post;

pub use authorize::code_challenge;

/// How long one call to a provider may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Talks to the configured providers over HTTPS (http only on loopback, already enforced by settings).
#[derive(Clone)]
pub struct OAuth {
    http: reqwest::Client,
    discovery: Slots<DiscoverySlot>,
    jwks: Slots<KeySlot>,
}

/// What a sign-in asks of the authorization endpoint.
pub struct AuthorizationRequest<'a> {
    pub state: &'a str,
    /// None when the provider has PKCE off (and ignored then anyway).
    pub code_verifier: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub redirect_uri: &'a str,
    /// Scopes from the request, added to the provider's.
    pub scopes: &'a [String],
    pub login_hint: Option<&'a str>,
    pub additional_params: &'a [(String, String)],
}

/// What a token endpoint answered. No `Debug` of the tokens.
#[derive(Clone, Default)]
pub struct Tokens {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    /// The `scope` column as Better Auth stores it (§5.6): a space-separated answer joined with ","; GitHub's own
    /// comma string verbatim; "" when the answer had no scope.
    pub scope: String,
}

/// A provider's user, mapped as Better Auth maps it.
#[derive(Clone, Debug)]
pub struct ProviderUser {
    /// Google `sub`, GitHub `String(id)`, generic ID-token `sub` / userinfo `sub` / `id`.
    pub account_id: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: String,
    pub image: Option<String>,
    /// The raw profile (account-info's `data`).
    pub raw: Value,
}

/// What went wrong with a provider, as callers need to tell it apart; the cause goes to the log only.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider's discovery document could not be fetched or read; holds the provider id.
    #[error("the provider `{0}` could not be discovered")]
    Discovery(String),
    /// The token endpoint refused the code, or answered something that is not tokens.
    #[error("the authorization code was refused")]
    InvalidCode,
    /// The token endpoint refused the refresh token, or answered no access token.
    #[error("the access token could not be refreshed")]
    RefreshFailed,
    /// The provider's user could not be read.
    #[error("the provider's user could not be read")]
    UserInfo,
    /// A callback's `iss` names another issuer than the provider's.
    #[error("the issuer is not the provider's")]
    IssuerMismatch,
    /// The provider has no keys to verify ID tokens with (GitHub, configured endpoints).
    #[error("the provider does not sign in with ID tokens")]
    IdTokenNotSupported,
    /// An ID token failed verification.
    #[error("the ID token is not valid")]
    InvalidIdToken,
}

impl OAuth {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent("warden")
            .build()
            .expect("a rustls HTTP client builds without system configuration");
        Self {
            http,
            discovery: Slots::default(),
            jwks: Slots::default(),
        }
    }

    /// The provider's authorization URL with Better Auth's parameters in its order (§3): response_type, client_id,
    /// state, scope, redirect_uri, login_hint, nonce, code_challenge_method and code_challenge, Google's
    /// include_granted_scopes, then `additional_params` (replacing a name in place, appending a new one; the
    /// reserved names are skipped). A generic provider is discovered on first use.
    pub async fn authorization_url(
        &self,
        provider: &Provider,
        request: &AuthorizationRequest<'_>,
    ) -> Result<Url, OAuthError> {
        let endpoints = self
            .endpoints(provider)
            .await
            .map_err(|failure| failure.logged(provider))?;
        let oidc = endpoints
            .discovered
            .as_deref()
            .is_some_and(Discovered::is_oidc);
        Ok(authorization_url(
            provider,
            &endpoints.authorization,
            oidc,
            request,
        ))
    }

    /// Exchanges an authorization code (§5.4; client_secret_post). A refused or malformed answer is `InvalidCode`.
    pub async fn exchange_code(
        &self,
        provider: &Provider,
        code: &str,
        code_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<Tokens, OAuthError> {
        let exchange = async {
            let endpoints = self.endpoints(provider).await?;
            // The serializer is not Send; it is done with before the request is awaited.
            let body = {
                let mut form = form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "authorization_code")
                    .append_pair("code", code);
                if let Some(verifier) = code_verifier.filter(|_| provider.pkce) {
                    form.append_pair("code_verifier", verifier);
                }
                form.append_pair("redirect_uri", redirect_uri);
                client_secret_post(&mut form, provider);
                form.finish()
            };
            self.token_request(&endpoints.token, body)
                .await
                .or_fail(OAuthError::InvalidCode)
        };
        exchange.await.map_err(|failure| failure.logged(provider))
    }

    /// A refresh-token grant (§11). Failure is `RefreshFailed`.
    pub async fn refresh(
        &self,
        provider: &Provider,
        refresh_token: &str,
    ) -> Result<Tokens, OAuthError> {
        let refresh = async {
            let endpoints = self.endpoints(provider).await?;
            let body = {
                let mut form = form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", refresh_token);
                client_secret_post(&mut form, provider);
                form.finish()
            };
            self.token_request(&endpoints.token, body)
                .await
                .or_fail(OAuthError::RefreshFailed)
        };
        refresh.await.map_err(|failure| failure.logged(provider))
    }

    /// The user the tokens belong to (§5.5), with the ID token verified when there is one (see the module doc);
    /// `expected_nonce` is checked when given. Google: the ID token's claims. GitHub: `/user` and `/user/emails` on
    /// its API. Generic: the ID token's claims when they hold `sub` and `email`, else the userinfo endpoint, whose
    /// `sub` must then be the verified ID token's.
    ///
    /// Errors: `InvalidIdToken` for an ID token that fails verification, `Discovery`, and `UserInfo` for the rest;
    /// Better Auth answers all of them `unable_to_get_user_info`.
    pub async fn user_info(
        &self,
        provider: &Provider,
        tokens: &Tokens,
        expected_nonce: Option<&str>,
    ) -> Result<ProviderUser, OAuthError> {
        let user = match &provider.kind {
            Kind::Github { api } => self.github_user(api, tokens).await,
            Kind::Google => self.google_user(provider, tokens, expected_nonce).await,
            Kind::Generic => self.generic_user(provider, tokens, expected_nonce).await,
        };
        user.map_err(|failure| failure.logged(provider))
    }

    /// The user behind an account's stored tokens, for account-info (§12): as [`Self::user_info`], except that a
    /// stored ID token is read without verifying it again. It was verified when it was stored, and has often
    /// expired since (Google's live an hour); Better Auth decodes it too.
    pub async fn stored_user(
        &self,
        provider: &Provider,
        tokens: &Tokens,
    ) -> Result<ProviderUser, OAuthError> {
        let claims = tokens.id_token.as_deref().and_then(|id_token| {
            jsonwebtoken::dangerous::insecure_decode::<Map<String, Value>>(id_token)
                .ok()
                .map(|decoded| decoded.claims)
        });
        let user = match &provider.kind {
            Kind::Github { api } => self.github_user(api, tokens).await,
            Kind::Google => claims
                .ok_or(Fault::Missing("a stored ID token"))
                .and_then(google_user)
                .or_fail(OAuthError::UserInfo),
            Kind::Generic => match claims.filter(holds_sub_and_email) {
                Some(claims) => {
                    let account_id = subject_of(claims.get("sub"));
                    generic_user(profile_from_claims(&claims), account_id)
                        .or_fail(OAuthError::UserInfo)
                }
                None => self.stored_generic_user(provider, tokens).await,
            },
        };
        user.map_err(|failure| failure.logged(provider))
    }

    /// Verifies an ID token a client obtained itself (the native-app sign-in, §4.4); `nonce` is checked when given.
    /// Errors: `IdTokenNotSupported` for GitHub and for a provider without discovered keys; `InvalidIdToken` for a
    /// token that fails; `UserInfo` for a generic provider's token without `sub` and `email` (Better Auth's
    /// FAILED_TO_GET_USER_INFO).
    pub async fn verify_id_token(
        &self,
        provider: &Provider,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<ProviderUser, OAuthError> {
        if matches!(provider.kind, Kind::Github { .. }) {
            return Err(OAuthError::IdTokenNotSupported);
        }
        let discovered = self
            .discovered(provider)
            .await
            .map_err(|failure| failure.logged(provider))?;
        let Some(discovered) = discovered.filter(|discovered| discovered.keys().is_some()) else {
            return Err(OAuthError::IdTokenNotSupported);
        };
        let verify = async {
            let claims = self
                .verified_claims(provider, &discovered, id_token, nonce)
                .await
                .or_fail(OAuthError::InvalidIdToken)?;
            let user = match provider.kind {
                Kind::Google => google_user(claims),
                _ if holds_sub_and_email(&claims) => {
                    let account_id = subject_of(claims.get("sub"));
                    generic_user(profile_from_claims(&claims), account_id)
                }
                _ => Err(Fault::Missing("sub and email in the ID token")),
            };
            user.or_fail(OAuthError::UserInfo)
        };
        verify.await.map_err(|failure| failure.logged(provider))
    }

    /// The discovered issuer of a provider (for the callback's `iss` parameter check), None for GitHub and
    /// configured endpoints.
    pub async fn issuer(&self, provider: &Provider) -> Result<Option<String>, OAuthError> {
        let discovered = self
            .discovered(provider)
            .await
            .map_err(|failure| failure.logged(provider))?;
        Ok(discovered.and_then(|discovered| discovered.issuer.clone()))
    }

    /// A callback's `iss` parameter against the provider's issuer (§5.2 step 7): `IssuerMismatch` when both are
    /// there and differ; nothing to check when either is absent.
    pub async fn check_issuer(
        &self,
        provider: &Provider,
        iss: Option<&str>,
    ) -> Result<(), OAuthError> {
        let Some(iss) = iss else { return Ok(()) };
        match self.issuer(provider).await? {
            Some(issuer) if issuer != iss => Err(OAuthError::IssuerMismatch),
            _ => Ok(()),
        }
    }

    /// Whether a provider binds ID tokens to a nonce in the redirect flow: discovered generic providers with a
    /// JWKS, as Better Auth; and, stronger than Better Auth, Google.
    pub async fn requires_nonce(&self, provider: &Provider) -> Result<bool, OAuthError> {
        match provider.kind {
            Kind::Google => Ok(true),
            Kind::Github { .. } => Ok(false),
            Kind::Generic => {
                let discovered = self
                    .discovered(provider)
                    .await
                    .map_err(|failure| failure.logged(provider))?;
                Ok(discovered.is_some_and(|discovered| discovered.keys().is_some()))
            }
        }
    }

    async fn get_json(&self, url: &Url, bearer: Option<&str>) -> Result<Value, Fault> {
        let mut request = self.http.get(url.clone());
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        read_json(request.send().await.map_err(Fault::transport)?).await
    }
}

impl Default for OAuth {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |token: &Option<String>| token.as_ref().map(|_| "[redacted]");
        f.debug_struct("Tokens")
            .field("access_token", &redacted(&self.access_token))
            .field("refresh_token", &redacted(&self.refresh_token))
            .field("id_token", &redacted(&self.id_token))
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field("refresh_token_expires_at", &self.refresh_token_expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_show_in_debug() {
        let tokens = Tokens {
            access_token: Some("ya29.secret-access".into()),
            refresh_token: Some("1//secret-refresh".into()),
            id_token: Some("eyJ.secret.id".into()),
            scope: "openid".into(),
            ..Tokens::default()
        };
        let shown = format!("{tokens:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains("openid"));
    }
}
