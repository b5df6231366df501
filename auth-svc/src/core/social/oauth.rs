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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::{Url, form_urlencoded};

use super::settings::{Endpoints, Kind, Provider};

/// How long one call to a provider may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read; discovery documents and key sets are a few KiB.
const MAX_ANSWER: usize = 1 << 20;
/// How long a discovery document is used before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long the previous discovery document serves when its refetch failed, before the next try.
const DISCOVERY_RETRY: Duration = Duration::from_secs(60);
/// The least time between two fetches of a JWKS prompted by unknown `kid`s.
const JWKS_REFETCH: Duration = Duration::from_secs(10);
/// Clock skew allowed on `exp` and `nbf`, Better Auth's 30 s.
const LEEWAY_SECS: f64 = 30.0;
/// Authorization parameters the request builds itself; `additional_params` cannot replace them (§3).
const RESERVED_PARAMS: [&str; 8] = [
    "state",
    "client_id",
    "redirect_uri",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "scope",
];
/// The ID-token algorithms accepted, by their JOSE names.
const ALGORITHMS: [(Algorithm, &str); 3] = [
    (Algorithm::RS256, "RS256"),
    (Algorithm::ES256, "ES256"),
    (Algorithm::EdDSA, "EdDSA"),
];
/// Google's issuer, which its ID tokens also name without the scheme.
const GOOGLE_ISSUER: &str = "https://accounts.google.com";
const GOOGLE_BARE_ISSUER: &str = "accounts.google.com";

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

    /// A generic provider's user from its userinfo endpoint, named as [`Self::generic_user`] names it.
    async fn stored_generic_user(
        &self,
        provider: &Provider,
        tokens: &Tokens,
    ) -> Result<ProviderUser, Failure> {
        let endpoints = self.endpoints(provider).await?;
        let profile = self
            .userinfo(&endpoints, tokens)
            .await
            .or_fail(OAuthError::UserInfo)?;
        let oidc = endpoints
            .discovered
            .as_deref()
            .is_some_and(Discovered::is_oidc);
        let account_id = if oidc {
            subject_of(profile.get("sub"))
        } else {
            subject_of(profile.get("id")).or_else(|| subject_of(profile.get("sub")))
        };
        generic_user(profile, account_id).or_fail(OAuthError::UserInfo)
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

    async fn google_user(
        &self,
        provider: &Provider,
        tokens: &Tokens,
        nonce: Option<&str>,
    ) -> Result<ProviderUser, Failure> {
        let id_token = tokens
            .id_token
            .as_deref()
            .ok_or(Fault::Missing("id_token"))
            .or_fail(OAuthError::UserInfo)?;
        let discovered = self
            .discovered(provider)
            .await?
            .ok_or(Fault::Missing("a discovery document"))
            .or_fail(OAuthError::InvalidIdToken)?;
        let claims = self
            .verified_claims(provider, &discovered, id_token, nonce)
            .await
            .or_fail(OAuthError::InvalidIdToken)?;
        google_user(claims).or_fail(OAuthError::UserInfo)
    }

    async fn generic_user(
        &self,
        provider: &Provider,
        tokens: &Tokens,
        nonce: Option<&str>,
    ) -> Result<ProviderUser, Failure> {
        let endpoints = self.endpoints(provider).await?;
        let discovered = endpoints.discovered.as_deref();
        let (claims, verified) = self
            .generic_claims(provider, discovered, tokens, nonce)
            .await
            .or_fail(OAuthError::InvalidIdToken)?;
        let profile = match claims.as_ref().filter(|claims| holds_sub_and_email(claims)) {
            Some(claims) => profile_from_claims(claims),
            None => {
                let profile = self
                    .userinfo(&endpoints, tokens)
                    .await
                    .or_fail(OAuthError::UserInfo)?;
                let subject = claims
                    .as_ref()
                    .filter(|_| verified)
                    .and_then(|c| subject_of(c.get("sub")));
                if let Some(subject) = subject
                    && subject_of(profile.get("sub")) != Some(subject)
                {
                    return Err(Fault::Invalid("userinfo `sub` is not the ID token's"))
                        .or_fail(OAuthError::UserInfo);
                }
                profile
            }
        };
        let oidc = discovered.is_some_and(Discovered::is_oidc);
        let account_id = match (oidc, verified) {
            // Better Auth takes `id` alone; `sub` after it serves OpenID-style userinfo behind configured endpoints.
            (false, _) => subject_of(profile.get("id")).or_else(|| subject_of(profile.get("sub"))),
            (true, true) => claims.as_ref().and_then(|c| subject_of(c.get("sub"))),
            (true, false) => subject_of(profile.get("sub")),
        };
        generic_user(profile, account_id).or_fail(OAuthError::UserInfo)
    }

    /// A generic provider's ID-token claims, if the tokens hold one, and whether its signature was verified (a
    /// provider without discovered keys gets the claim checks alone).
    async fn generic_claims(
        &self,
        provider: &Provider,
        discovered: Option<&Discovered>,
        tokens: &Tokens,
        nonce: Option<&str>,
    ) -> Result<(Option<Map<String, Value>>, bool), Fault> {
        let Some(id_token) = tokens.id_token.as_deref() else {
            return Ok((None, false));
        };
        match discovered {
            Some(discovered) if discovered.keys().is_some() => {
                let claims = self
                    .verified_claims(provider, discovered, id_token, nonce)
                    .await?;
                Ok((Some(claims), true))
            }
            _ => {
                let issuer = discovered.and_then(|discovered| discovered.issuer.as_deref());
                let claims = unverified_claims(provider, issuer, id_token, nonce)?;
                Ok((Some(claims), false))
            }
        }
    }

    async fn github_user(&self, api: &Url, tokens: &Tokens) -> Result<ProviderUser, Failure> {
        let read = async {
            let access_token = tokens
                .access_token
                .as_deref()
                .ok_or(Fault::Missing("access_token"))?;
            let user_url = api
                .join("user")
                .map_err(|_| Fault::Invalid("GitHub API URL"))?;
            let emails_url = api
                .join("user/emails")
                .map_err(|_| Fault::Invalid("GitHub API URL"))?;
            let profile = self.get_json(&user_url, Some(access_token)).await?;
            // As Better Auth: the second call's failure only means no emails to choose from.
            let emails = self.get_json(&emails_url, Some(access_token)).await.ok();
            github_user(profile, emails)
        };
        read.await.or_fail(OAuthError::UserInfo)
    }

    /// The generic provider's userinfo answer, as Better Auth's profile.
    async fn userinfo(
        &self,
        endpoints: &Resolved,
        tokens: &Tokens,
    ) -> Result<Map<String, Value>, Fault> {
        let url = endpoints
            .userinfo
            .as_ref()
            .ok_or(Fault::Missing("a userinfo endpoint"))?;
        let access_token = tokens
            .access_token
            .as_deref()
            .ok_or(Fault::Missing("access_token"))?;
        profile_from_userinfo(self.get_json(url, Some(access_token)).await?)
    }

    /// The claims of an ID token whose signature and claims are good.
    async fn verified_claims(
        &self,
        provider: &Provider,
        discovered: &Discovered,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<Map<String, Value>, Fault> {
        let (issuer, jwks) = discovered
            .keys()
            .ok_or(Fault::Missing("a JWKS to verify the ID token with"))?;
        let header = jsonwebtoken::decode_header(id_token).map_err(Fault::jwt)?;
        let name = ALGORITHMS
            .iter()
            .find(|(algorithm, _)| *algorithm == header.alg)
            .map(|(_, name)| *name)
            .ok_or(Fault::Invalid("ID token algorithm"))?;
        if !discovered.algorithms.is_empty() && !discovered.algorithms.iter().any(|a| a == name) {
            return Err(Fault::Invalid(
                "ID token algorithm not among the discovered ones",
            ));
        }
        let keys = self
            .signing_keys(jwks, header.kid.as_deref(), header.alg)
            .await?;
        let claims = verify_signature(id_token, header.alg, &keys)?;
        check_claims(&claims, &expectations(provider, Some(issuer), nonce))?;
        Ok(claims)
    }

    /// Keys of the JWKS at `url` that can check a token with this `kid` and algorithm, fetching the set when none
    /// can and the last fetch is [`JWKS_REFETCH`] old.
    async fn signing_keys(
        &self,
        url: &Url,
        kid: Option<&str>,
        algorithm: Algorithm,
    ) -> Result<Vec<DecodingKey>, Fault> {
        let slot = self.jwks.get(url);
        let mut slot = slot.lock().await;
        let mut keys = usable_keys(&slot.keys, kid, algorithm);
        if keys.is_empty()
            && slot
                .fetched_at
                .is_none_or(|at| at.elapsed() >= JWKS_REFETCH)
        {
            slot.fetched_at = Some(Instant::now());
            slot.keys = parse_jwks(&self.get_json(url, None).await?)?;
            keys = usable_keys(&slot.keys, kid, algorithm);
        }
        if keys.is_empty() {
            return Err(Fault::Invalid(
                "no JWKS key for the ID token's kid and algorithm",
            ));
        }
        Ok(keys)
    }

    /// Where a provider's endpoints are, discovering them when the provider is configured by discovery.
    async fn endpoints(&self, provider: &Provider) -> Result<Resolved, Failure> {
        match &provider.endpoints {
            Endpoints::Manual {
                authorization,
                token,
                userinfo,
            } => Ok(Resolved {
                authorization: authorization.clone(),
                token: token.clone(),
                userinfo: userinfo.clone(),
                discovered: None,
            }),
            Endpoints::Discovery(url) => {
                let discovered = self.discover(provider, url).await?;
                Ok(Resolved {
                    authorization: discovered.authorization.clone(),
                    token: discovered.token.clone(),
                    userinfo: discovered.userinfo.clone(),
                    discovered: Some(discovered),
                })
            }
        }
    }

    /// The provider's discovery document, None for configured endpoints.
    async fn discovered(&self, provider: &Provider) -> Result<Option<Arc<Discovered>>, Failure> {
        match &provider.endpoints {
            Endpoints::Manual { .. } => Ok(None),
            Endpoints::Discovery(url) => self.discover(provider, url).await.map(Some),
        }
    }

    async fn discover(&self, provider: &Provider, url: &Url) -> Result<Arc<Discovered>, Failure> {
        let slot = self.discovery.get(url);
        let mut slot = slot.lock().await;
        if let Some((document, fresh_until)) = &slot.document
            && Instant::now() < *fresh_until
        {
            return Ok(document.clone());
        }
        let fetched = async { Discovered::from_document(&self.get_json(url, None).await?, url) };
        match (fetched.await, &slot.document) {
            (Ok(document), _) => {
                let document = Arc::new(document);
                slot.document = Some((document.clone(), Instant::now() + DISCOVERY_TTL));
                Ok(document)
            }
            (Err(cause), Some((stale, _))) => {
                tracing::warn!(
                    provider.id = %provider.id,
                    %cause,
                    "discovery refetch failed; the previous document serves"
                );
                let stale = stale.clone();
                slot.document = Some((stale.clone(), Instant::now() + DISCOVERY_RETRY));
                Ok(stale)
            }
            (Err(cause), None) => Err(Failure {
                error: OAuthError::Discovery(provider.id.clone()),
                cause,
            }),
        }
    }

    /// A POST to a token endpoint, its answer read as tokens.
    async fn token_request(&self, endpoint: &Url, form: String) -> Result<Tokens, Fault> {
        let answer = self
            .http
            .post(endpoint.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(form)
            .send()
            .await
            .map_err(Fault::transport)?;
        tokens_from(&read_json(answer).await?, Utc::now())
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

/// RFC 7636's S256 challenge: base64url, unpadded, of SHA-256 of the verifier.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A provider's endpoints, discovered or configured.
struct Resolved {
    authorization: Url,
    token: Url,
    userinfo: Option<Url>,
    discovered: Option<Arc<Discovered>>,
}

/// What Warden uses of a discovery document.
#[derive(Debug)]
struct Discovered {
    issuer: Option<String>,
    authorization: Url,
    token: Url,
    userinfo: Option<Url>,
    jwks: Option<Url>,
    /// `id_token_signing_alg_values_supported`, empty when not listed.
    algorithms: Vec<String>,
}

impl Discovered {
    fn from_document(document: &Value, url: &Url) -> Result<Self, Fault> {
        let document = document
            .as_object()
            .ok_or(Fault::Invalid("discovery document"))?;
        let endpoint = |name: &'static str| -> Result<Option<Url>, Fault> {
            document
                .get(name)
                .and_then(Value::as_str)
                .map(|value| {
                    url.join(value)
                        .ok()
                        .filter(is_provider_address)
                        .ok_or(Fault::Invalid(name))
                })
                .transpose()
        };
        let issuer = match document.get("issuer").and_then(Value::as_str) {
            Some(issuer) if Url::parse(issuer).is_err() => return Err(Fault::Invalid("issuer")),
            issuer => issuer.map(str::to_owned),
        };
        let algorithms = document
            .get("id_token_signing_alg_values_supported")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            issuer,
            authorization: endpoint("authorization_endpoint")?
                .ok_or(Fault::Missing("authorization_endpoint"))?,
            token: endpoint("token_endpoint")?.ok_or(Fault::Missing("token_endpoint"))?,
            userinfo: endpoint("userinfo_endpoint")?,
            jwks: endpoint("jwks_uri")?,
            algorithms,
        })
    }

    /// OpenID Connect as Better Auth tells it: the document lists ID-token signing algorithms.
    fn is_oidc(&self) -> bool {
        !self.algorithms.is_empty()
    }

    /// The issuer and key set ID tokens are verified against, when both were discovered.
    fn keys(&self) -> Option<(&str, &Url)> {
        Some((self.issuer.as_deref()?, self.jwks.as_ref()?))
    }
}

#[derive(Default)]
struct DiscoverySlot {
    /// The document and when to fetch it again.
    document: Option<(Arc<Discovered>, Instant)>,
}

#[derive(Default)]
struct KeySlot {
    keys: Vec<Jwk>,
    fetched_at: Option<Instant>,
}

/// One async lock per cached URL, so one request fetches while the others wait for its answer. URLs come from
/// settings and from their discovery documents, so the map stays as small as the configuration.
struct Slots<T>(Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<T>>>>>);

impl<T: Default> Slots<T> {
    fn get(&self, url: &Url) -> Arc<tokio::sync::Mutex<T>> {
        let mut slots = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(url.as_str().to_owned()).or_default().clone()
    }
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<T> Clone for Slots<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// Why a provider call failed, for the log only: fixed text, status codes and OAuth error codes, never an answer's
/// body, a token or a secret.
#[derive(Debug, thiserror::Error)]
enum Fault {
    #[error("no answer ({0})")]
    Transport(&'static str),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("answer over 1 MiB")]
    TooLarge,
    #[error("answer is not JSON")]
    NotJson,
    #[error("answered the OAuth error `{0}`")]
    Refused(String),
    #[error("no {0}")]
    Missing(&'static str),
    #[error("invalid {0}")]
    Invalid(&'static str),
    #[error("ID token: {0}")]
    Jwt(&'static str),
}

impl Fault {
    fn transport(error: reqwest::Error) -> Self {
        Self::Transport(if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "could not connect"
        } else {
            "the exchange broke off"
        })
    }

    /// The kind of a JWT failure in fixed words: the library's own messages may quote the token.
    fn jwt(error: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        Self::Jwt(match error.kind() {
            ErrorKind::InvalidSignature => "bad signature",
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => "algorithm not allowed",
            ErrorKind::InvalidToken => "not a JWS",
            ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => "malformed",
            ErrorKind::InvalidKeyFormat
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey => "unusable key",
            _ => "refused",
        })
    }

    /// A provider's `error` code, if it is one (letters, digits, `_`, `-`, `.`; 64 at most), else a placeholder.
    fn refused(code: Option<&str>) -> Self {
        let code = code
            .filter(|code| {
                code.len() <= 64
                    && code
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            })
            .unwrap_or("?");
        Self::Refused(code.to_owned())
    }
}

/// A failure on its way out: the error the caller hears and, for the log only, its cause.
struct Failure {
    error: OAuthError,
    cause: Fault,
}

impl Failure {
    fn logged(self, provider: &Provider) -> OAuthError {
        tracing::warn!(
            provider.id = %provider.id,
            error = %self.error,
            cause = %self.cause,
            "social provider call failed"
        );
        self.error
    }
}

trait OrFail<T> {
    fn or_fail(self, error: OAuthError) -> Result<T, Failure>;
}

impl<T> OrFail<T> for Result<T, Fault> {
    fn or_fail(self, error: OAuthError) -> Result<T, Failure> {
        self.map_err(|cause| Failure { error, cause })
    }
}

/// An answer's JSON, from a 2xx of at most [`MAX_ANSWER`] bytes.
async fn read_json(mut answer: reqwest::Response) -> Result<Value, Fault> {
    if !answer.status().is_success() {
        return Err(Fault::Status(answer.status().as_u16()));
    }
    if answer
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER as u64)
    {
        return Err(Fault::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(Fault::transport)? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(Fault::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|_| Fault::NotJson)
}

/// https, or http to a loopback host: what settings allow for configured endpoints, held to for discovered ones.
fn is_provider_address(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(host)) => host == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// Better Auth's authorization URL (§3) at `endpoint`; `oidc` puts `openid` first in a generic provider's scopes.
fn authorization_url(
    provider: &Provider,
    endpoint: &Url,
    oidc: bool,
    request: &AuthorizationRequest<'_>,
) -> Url {
    let mut params = Params::default();
    params.set("response_type", "code");
    params.set("client_id", &provider.client.id);
    params.set("state", request.state);
    let scopes = scopes(provider, request.scopes, oidc);
    if !scopes.is_empty() {
        params.set("scope", &scopes.join(" "));
    }
    params.set("redirect_uri", request.redirect_uri);
    // Better Auth skips an empty hint, nonce or verifier as it skips an absent one.
    if let Some(hint) = request.login_hint.filter(|hint| !hint.is_empty()) {
        params.set("login_hint", hint);
    }
    if let Some(nonce) = request.nonce.filter(|nonce| !nonce.is_empty()) {
        params.set("nonce", nonce);
    }
    let verifier = request
        .code_verifier
        .filter(|v| provider.pkce && !v.is_empty());
    if let Some(verifier) = verifier {
        params.set("code_challenge_method", "S256");
        params.set("code_challenge", &code_challenge(verifier));
    }
    if provider.kind == Kind::Google {
        params.set("include_granted_scopes", "true");
    }
    for (name, value) in request.additional_params {
        if !RESERVED_PARAMS.contains(&name.as_str()) {
            params.set(name, value);
        }
    }
    params.onto(endpoint)
}

/// Google and GitHub: the provider's scopes, then the request's. Generic: the request's first, then the provider's,
/// with `openid` put first when the provider is OpenID Connect and neither names it. No de-duplication, as Better Auth.
fn scopes<'a>(provider: &'a Provider, requested: &'a [String], oidc: bool) -> Vec<&'a str> {
    let (first, then) = match provider.kind {
        Kind::Generic => (requested, provider.scopes.as_slice()),
        _ => (provider.scopes.as_slice(), requested),
    };
    let mut scopes: Vec<&str> = first.iter().chain(then).map(String::as_str).collect();
    if provider.kind == Kind::Generic && oidc && !scopes.contains(&"openid") {
        scopes.insert(0, "openid");
    }
    scopes
}

/// Query parameters with `URLSearchParams.set` semantics: a name set again keeps its place.
#[derive(Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn set(&mut self, name: &str, value: &str) {
        match self.0.iter_mut().find(|(own, _)| own == name) {
            Some((_, own)) => value.clone_into(own),
            None => self.0.push((name.to_owned(), value.to_owned())),
        }
    }

    /// `endpoint` with these parameters after its own query, less the pairs they replace; the pairs kept stay as
    /// written, as Better Auth keeps them (a provider may sign its query).
    fn onto(&self, endpoint: &Url) -> Url {
        let replaced = |pair: &&str| {
            form_urlencoded::parse(pair.as_bytes())
                .next()
                .is_some_and(|(name, _)| self.0.iter().any(|(own, _)| *own == name))
        };
        let mut query: Vec<String> = endpoint
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && !replaced(pair))
            .map(str::to_owned)
            .collect();
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.0)
            .finish();
        if !encoded.is_empty() {
            query.push(encoded);
        }
        let mut url = endpoint.clone();
        let query = query.join("&");
        url.set_query((!query.is_empty()).then_some(query.as_str()));
        url
    }
}

/// `client_secret_post`, Better Auth's default whenever a secret is configured (§5.4).
fn client_secret_post(form: &mut form_urlencoded::Serializer<'_, String>, provider: &Provider) {
    form.append_pair("client_id", &provider.client.id)
        .append_pair("client_secret", provider.client.secret.expose_secret());
}

/// A token endpoint's answer as tokens (§5.4): an `error` member, even under 200 as GitHub sends it, or no access
/// token, is a refusal.
fn tokens_from(answer: &Value, now: DateTime<Utc>) -> Result<Tokens, Fault> {
    let answer = answer.as_object().ok_or(Fault::Invalid("token answer"))?;
    if let Some(error) = answer.get("error") {
        return Err(Fault::refused(error.as_str()));
    }
    let string = |name: &str| {
        answer
            .get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let expires_at = |name: &str| {
        let seconds = match answer.get(name)? {
            Value::Number(number) => number.as_f64()?,
            Value::String(text) => text.trim().parse().ok()?,
            _ => return None,
        };
        // Better Auth: a zero or absent lifetime is no expiry.
        if !seconds.is_finite() || seconds <= 0.0 {
            return None;
        }
        now.checked_add_signed(TimeDelta::try_milliseconds((seconds * 1000.0) as i64)?)
    };
    Ok(Tokens {
        access_token: Some(string("access_token").ok_or(Fault::Missing("access_token"))?),
        refresh_token: string("refresh_token"),
        id_token: string("id_token"),
        access_token_expires_at: expires_at("expires_in"),
        refresh_token_expires_at: expires_at("refresh_token_expires_in"),
        scope: scope_column(answer.get("scope")),
    })
}

/// The `scope` column (§5.6): the answer's scopes split on whitespace (a list accepted too), joined with ",".
fn scope_column(scope: Option<&Value>) -> String {
    match scope {
        Some(Value::String(scope)) => scope.split_whitespace().collect::<Vec<_>>().join(","),
        Some(Value::Array(scopes)) => scopes
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|scope| !scope.is_empty())
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    }
}

/// The keys of a JWKS document that parse; one key of a kind this library cannot read does not spoil the others.
fn parse_jwks(document: &Value) -> Result<Vec<Jwk>, Fault> {
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(Fault::Missing("keys in the JWKS"))?;
    Ok(keys
        .iter()
        .filter_map(|key| serde_json::from_value(key.clone()).ok())
        .collect())
}

/// The keys that can check a token signed with `algorithm` under `kid` (every key's when the token names none).
fn usable_keys(keys: &[Jwk], kid: Option<&str>, algorithm: Algorithm) -> Vec<DecodingKey> {
    keys.iter()
        .filter(|key| kid.is_none_or(|kid| key.common.key_id.as_deref() == Some(kid)))
        .filter_map(|key| decoding_key(key, algorithm))
        .collect()
}

/// A JWK as a key for `algorithm`, when it is one: a signing key, of the algorithm it declares if it declares one,
/// of the type and size the algorithm needs (RSA of 2048 bits or more, P-256, Ed25519).
fn decoding_key(key: &Jwk, algorithm: Algorithm) -> Option<DecodingKey> {
    let signing = key
        .common
        .public_key_use
        .as_ref()
        .is_none_or(|usage| *usage == PublicKeyUse::Signature);
    let declared = key.common.key_algorithm.is_none_or(|declared| {
        matches!(
            (declared, algorithm),
            (KeyAlgorithm::RS256, Algorithm::RS256)
                | (KeyAlgorithm::ES256, Algorithm::ES256)
                | (KeyAlgorithm::EdDSA, Algorithm::EdDSA)
        )
    });
    let decoded_len = |text: &str| URL_SAFE_NO_PAD.decode(text).map(|bytes| bytes.len()).ok();
    let fits = match (&key.algorithm, algorithm) {
        (AlgorithmParameters::RSA(rsa), Algorithm::RS256) => {
            decoded_len(&rsa.n).is_some_and(|len| len >= 256)
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        // The verifier slices the first 32 bytes, so anything shorter must not reach it.
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => {
            okp.curve == EllipticCurve::Ed25519 && decoded_len(&okp.x) == Some(32)
        }
        _ => false,
    };
    (signing && declared && fits)
        .then(|| DecodingKey::from_jwk(key).ok())
        .flatten()
}

/// The claims of a token one of `keys` signed; the claims themselves are [`check_claims`]'s.
fn verify_signature(
    id_token: &str,
    algorithm: Algorithm,
    keys: &[DecodingKey],
) -> Result<Map<String, Value>, Fault> {
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let mut last = Fault::Missing("a key");
    for key in keys {
        match jsonwebtoken::decode::<Map<String, Value>>(id_token, key, &validation) {
            Ok(data) => return Ok(data.claims),
            Err(error) => last = Fault::jwt(error),
        }
    }
    Err(last)
}

/// The claims of an ID token from a provider without keys, checked like a verified one's but for the signature:
/// the token came straight from the token endpoint over TLS (OpenID Connect Core 3.1.3.7, 6).
fn unverified_claims(
    provider: &Provider,
    issuer: Option<&str>,
    id_token: &str,
    nonce: Option<&str>,
) -> Result<Map<String, Value>, Fault> {
    let claims = jsonwebtoken::dangerous::insecure_decode::<Map<String, Value>>(id_token)
        .map_err(Fault::jwt)?
        .claims;
    check_claims(&claims, &expectations(provider, issuer, nonce))?;
    Ok(claims)
}

/// What an ID token's claims must say.
struct Expected<'a> {
    /// Accepted `iss` values; empty when the issuer is unknown (configured endpoints).
    issuers: Vec<&'a str>,
    client_id: &'a str,
    nonce: Option<&'a str>,
    /// Seconds since the epoch.
    now: f64,
}

fn expectations<'a>(
    provider: &'a Provider,
    issuer: Option<&'a str>,
    nonce: Option<&'a str>,
) -> Expected<'a> {
    let mut issuers: Vec<&str> = issuer.into_iter().collect();
    if provider.kind == Kind::Google && issuer == Some(GOOGLE_ISSUER) {
        issuers.push(GOOGLE_BARE_ISSUER);
    }
    Expected {
        issuers,
        client_id: &provider.client.id,
        nonce,
        now: Utc::now().timestamp_millis() as f64 / 1000.0,
    }
}

/// `iss`, `aud` (with `azp` when there are several audiences), `exp` and `nbf` with leeway, `iat`, `sub`, `nonce`.
fn check_claims(claims: &Map<String, Value>, expected: &Expected<'_>) -> Result<(), Fault> {
    if !expected.issuers.is_empty()
        && !text(claims, "iss").is_some_and(|iss| expected.issuers.contains(&iss))
    {
        return Err(Fault::Invalid("ID token iss"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(audience)) => vec![audience.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(Fault::Invalid("ID token aud"));
    }
    if audiences.len() > 1 && text(claims, "azp") != Some(expected.client_id) {
        return Err(Fault::Invalid("ID token azp"));
    }
    let number = |name| claims.get(name).and_then(Value::as_f64);
    match number("exp") {
        Some(exp) if exp + LEEWAY_SECS > expected.now => {}
        _ => return Err(Fault::Invalid("ID token exp")),
    }
    match (claims.get("nbf"), number("nbf")) {
        (None, _) => {}
        (Some(_), Some(nbf)) if nbf - LEEWAY_SECS <= expected.now => {}
        _ => return Err(Fault::Invalid("ID token nbf")),
    }
    if number("iat").is_none() {
        return Err(Fault::Invalid("ID token iat"));
    }
    if subject_of(claims.get("sub")).is_none() {
        return Err(Fault::Invalid("ID token sub"));
    }
    if let Some(nonce) = expected.nonce
        && text(claims, "nonce") != Some(nonce)
    {
        return Err(Fault::Invalid("ID token nonce"));
    }
    Ok(())
}

fn text<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str)
}

/// An account subject as Better Auth's `String(value)`: a string or a number; empty, `"undefined"` and `"null"` are
/// none (§5.2 step 11).
fn subject_of(value: Option<&Value>) -> Option<String> {
    let subject = match value? {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    (!subject.is_empty() && subject != "undefined" && subject != "null").then_some(subject)
}

/// Better Auth's `parseStringBoolean`: `true`, `false` and their exact string forms.
fn string_bool(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text == "true" => Some(true),
        Value::String(text) if text == "false" => Some(false),
        _ => None,
    }
}

/// A non-empty string member; Better Auth treats an empty one as absent.
fn non_empty(object: &Map<String, Value>, name: &str) -> Option<String> {
    text(object, name)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

fn holds_sub_and_email(claims: &Map<String, Value>) -> bool {
    subject_of(claims.get("sub")).is_some() && non_empty(claims, "email").is_some()
}

/// Google's user from its ID token's claims (§5.5): `sub`, `email`, `email_verified`, `name`, `picture`.
fn google_user(claims: Map<String, Value>) -> Result<ProviderUser, Fault> {
    Ok(ProviderUser {
        account_id: subject_of(claims.get("sub")).ok_or(Fault::Missing("sub"))?,
        email: non_empty(&claims, "email"),
        email_verified: string_bool(claims.get("email_verified")).unwrap_or(false),
        name: non_empty(&claims, "name").unwrap_or_default(),
        image: non_empty(&claims, "picture"),
        raw: Value::Object(claims),
    })
}

/// A generic provider's profile from ID-token claims, as Better Auth builds it: `id`, `emailVerified` and `image`
/// from the claims, then the claims themselves over them.
fn profile_from_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    let mut profile = Map::new();
    if let Some(sub) = claims.get("sub") {
        profile.insert("id".into(), sub.clone());
    }
    let verified = string_bool(claims.get("email_verified")).unwrap_or(false);
    profile.insert("emailVerified".into(), verified.into());
    if let Some(picture) = claims.get("picture") {
        profile.insert("image".into(), picture.clone());
    }
    profile.extend(claims.clone());
    profile
}

/// A generic provider's profile from its userinfo answer, as Better Auth builds it: the answer with
/// `emailVerified` from `email_verified` and `image` from `picture` (none when there is no picture).
fn profile_from_userinfo(answer: Value) -> Result<Map<String, Value>, Fault> {
    let Value::Object(mut profile) = answer else {
        return Err(Fault::Invalid("userinfo answer"));
    };
    let verified = string_bool(profile.get("email_verified")).unwrap_or(false);
    profile.insert("emailVerified".into(), verified.into());
    match profile.get("picture").cloned() {
        Some(picture) if !picture.is_null() => profile.insert("image".into(), picture),
        _ => profile.remove("image"),
    };
    Ok(profile)
}

/// A generic provider's user from its profile (§5.5): `email`, `emailVerified`, `image`, `name` (or "").
fn generic_user(
    profile: Map<String, Value>,
    account_id: Option<String>,
) -> Result<ProviderUser, Fault> {
    Ok(ProviderUser {
        account_id: account_id.ok_or(Fault::Missing("an account subject"))?,
        email: non_empty(&profile, "email"),
        email_verified: string_bool(profile.get("emailVerified")).unwrap_or(false),
        name: non_empty(&profile, "name").unwrap_or_default(),
        image: non_empty(&profile, "image"),
        raw: Value::Object(profile),
    })
}

/// GitHub's user from `/user` and, when it answered, `/user/emails` (§5.5): the profile's email, else the primary
/// entry's, else the first entry's; verified only when the entry with exactly that email says so; `name`, else
/// `login`, else ""; `String(id)`.
fn github_user(profile: Value, emails: Option<Value>) -> Result<ProviderUser, Fault> {
    let Value::Object(mut profile) = profile else {
        return Err(Fault::Invalid("GitHub /user answer"));
    };
    let emails: Option<Vec<&Map<String, Value>>> = emails
        .as_ref()
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_object).collect());
    if let Some(emails) = &emails
        && non_empty(&profile, "email").is_none()
    {
        let chosen = emails
            .iter()
            .find(|entry| entry.get("primary").and_then(Value::as_bool) == Some(true))
            .or(emails.first())
            .and_then(|entry| entry.get("email"))
            .cloned();
        // Better Auth assigns `undefined` when no entry has an email, which drops the member from the profile.
        match chosen {
            Some(email) => profile.insert("email".into(), email),
            None => profile.remove("email"),
        };
    }
    let email = non_empty(&profile, "email");
    let email_verified = email.as_deref().is_some_and(|email| {
        emails
            .iter()
            .flatten()
            .find(|entry| text(entry, "email") == Some(email))
            .and_then(|entry| entry.get("verified"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    });
    Ok(ProviderUser {
        account_id: subject_of(profile.get("id")).ok_or(Fault::Missing("id"))?,
        email,
        email_verified,
        name: non_empty(&profile, "name")
            .or_else(|| non_empty(&profile, "login"))
            .unwrap_or_default(),
        image: non_empty(&profile, "avatar_url"),
        raw: Value::Object(profile),
    })
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use secrecy::SecretString;
    use serde_json::json;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    use super::*;
    use crate::core::social::settings::Client;

    const STATE: &str = "tJSlkf6MtuDmrAFWn-trDW9LUutMjxF1";
    /// RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const NONCE: &str = "fFguUPlanSWaRFVeNdELEQbvEWBKSF3e";

    fn provider(id: &str, kind: Kind, endpoints: Endpoints, client_id: &str) -> Provider {
        let scopes: &[&str] = match kind {
            Kind::Google => &["email", "profile", "openid"],
            Kind::Github { .. } => &["read:user", "user:email"],
            Kind::Generic => &["openid", "email", "profile"],
        };
        Provider {
            id: id.into(),
            kind,
            endpoints,
            client: Client {
                id: client_id.into(),
                secret: SecretString::from("the-secret"),
            },
            scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
            pkce: true,
        }
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn request<'a>(
        redirect_uri: &'a str,
        scopes: &'a [String],
        additional_params: &'a [(String, String)],
    ) -> AuthorizationRequest<'a> {
        AuthorizationRequest {
            state: STATE,
            code_verifier: Some(VERIFIER),
            nonce: None,
            redirect_uri,
            scopes,
            login_hint: None,
            additional_params,
        }
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|item| (*item).to_owned()).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn the_code_challenge_is_rfc_7636s() {
        assert_eq!(code_challenge(VERIFIER), CHALLENGE);
    }

    #[test]
    fn google_authorization_urls_are_better_auths() {
        let google = provider(
            "google",
            Kind::Google,
            Endpoints::Discovery(url(
                "https://accounts.google.com/.well-known/openid-configuration",
            )),
            "google-client-id.apps.googleusercontent.com",
        );
        let endpoint = url("https://accounts.google.com/o/oauth2/v2/auth");
        let redirect = "http://localhost:3100/api/auth/callback/google";
        let plain = authorization_url(&google, &endpoint, true, &request(redirect, &[], &[]));
        assert_eq!(
            plain.as_str(),
            format!(
                "https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=google-client-id.apps.googleusercontent.com&state={STATE}&scope=email+profile+openid&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Fgoogle&code_challenge_method=S256&code_challenge={CHALLENGE}&include_granted_scopes=true"
            )
        );

        let scopes = strings(&["https://www.googleapis.com/auth/drive.readonly"]);
        let extra = pairs(&[("hd", "example.com"), ("foo", "bar baz")]);
        let mut with_more = request(redirect, &scopes, &extra);
        with_more.login_hint = Some("alice@example.com");
        let rich = authorization_url(&google, &endpoint, true, &with_more);
        assert_eq!(
            rich.as_str(),
            format!(
                "https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=google-client-id.apps.googleusercontent.com&state={STATE}&scope=email+profile+openid+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdrive.readonly&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Fgoogle&login_hint=alice%40example.com&code_challenge_method=S256&code_challenge={CHALLENGE}&include_granted_scopes=true&hd=example.com&foo=bar+baz"
            )
        );
    }

    #[test]
    fn github_authorization_urls_are_better_auths() {
        let github = provider(
            "github",
            Kind::Github {
                api: url("https://api.github.com/"),
            },
            Endpoints::Manual {
                authorization: url("https://github.com/login/oauth/authorize"),
                token: url("https://github.com/login/oauth/access_token"),
                userinfo: None,
            },
            "github-client-id",
        );
        let endpoint = url("https://github.com/login/oauth/authorize");
        let redirect = "http://localhost:3100/api/auth/callback/github";
        let plain = authorization_url(&github, &endpoint, false, &request(redirect, &[], &[]));
        assert_eq!(
            plain.as_str(),
            format!(
                "https://github.com/login/oauth/authorize?response_type=code&client_id=github-client-id&state={STATE}&scope=read%3Auser+user%3Aemail&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Fgithub&code_challenge_method=S256&code_challenge={CHALLENGE}"
            )
        );

        let scopes = strings(&["repo"]);
        let mut with_hint = request(redirect, &scopes, &[]);
        with_hint.login_hint = Some("alicegh");
        let hinted = authorization_url(&github, &endpoint, false, &with_hint);
        assert_eq!(
            hinted.as_str(),
            format!(
                "https://github.com/login/oauth/authorize?response_type=code&client_id=github-client-id&state={STATE}&scope=read%3Auser+user%3Aemail+repo&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Fgithub&login_hint=alicegh&code_challenge_method=S256&code_challenge={CHALLENGE}"
            )
        );
    }

    fn oidc_provider() -> Provider {
        provider(
            "oidc",
            Kind::Generic,
            Endpoints::Discovery(url(
                "http://127.0.0.1:4100/.well-known/openid-configuration",
            )),
            "ba-client",
        )
    }

    #[test]
    fn generic_authorization_urls_are_better_auths() {
        let oidc = oidc_provider();
        let endpoint = url("http://127.0.0.1:4100/auth");
        let redirect = "http://localhost:3100/api/auth/callback/oidc";
        let mut plain = request(redirect, &[], &[]);
        plain.nonce = Some(NONCE);
        assert_eq!(
            authorization_url(&oidc, &endpoint, true, &plain).as_str(),
            format!(
                "http://127.0.0.1:4100/auth?response_type=code&client_id=ba-client&state={STATE}&scope=openid+email+profile&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Foidc&nonce={NONCE}&code_challenge_method=S256&code_challenge={CHALLENGE}"
            )
        );

        // Request scopes come first for a generic provider; an additional parameter is appended.
        let scopes = strings(&["offline_access"]);
        let extra = pairs(&[("prompt", "consent")]);
        let mut rich = request(redirect, &scopes, &extra);
        rich.nonce = Some(NONCE);
        rich.login_hint = Some("alice");
        assert_eq!(
            authorization_url(&oidc, &endpoint, true, &rich).as_str(),
            format!(
                "http://127.0.0.1:4100/auth?response_type=code&client_id=ba-client&state={STATE}&scope=offline_access+openid+email+profile&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Foidc&login_hint=alice&nonce={NONCE}&code_challenge_method=S256&code_challenge={CHALLENGE}&prompt=consent"
            )
        );
    }

    #[test]
    fn additional_parameters_replace_in_place_and_never_the_reserved_ones() {
        let oidc = oidc_provider();
        let endpoint = url("https://op.example.com/auth?tenant=a%20b&prompt=none&");
        let extra = pairs(&[
            ("prompt", "login"),
            ("ui_locales", "fr"),
            ("state", "forged"),
            ("prompt", "consent"),
        ]);
        let built = authorization_url(
            &oidc,
            &endpoint,
            true,
            &request("https://app/cb", &[], &extra),
        );
        assert_eq!(
            built.as_str(),
            format!(
                "https://op.example.com/auth?tenant=a%20b&response_type=code&client_id=ba-client&state={STATE}&scope=openid+email+profile&redirect_uri=https%3A%2F%2Fapp%2Fcb&code_challenge_method=S256&code_challenge={CHALLENGE}&prompt=consent&ui_locales=fr"
            )
        );
    }

    #[test]
    fn openid_goes_first_for_a_discovered_provider_and_pkce_off_sends_no_challenge() {
        let mut oidc = oidc_provider();
        oidc.scopes = strings(&["email"]);
        oidc.pkce = false;
        let endpoint = url("https://op.example.com/auth");
        let scopes = strings(&["read"]);
        let built = authorization_url(
            &oidc,
            &endpoint,
            true,
            &request("https://app/cb", &scopes, &[]),
        );
        assert_eq!(
            built.as_str(),
            format!(
                "https://op.example.com/auth?response_type=code&client_id=ba-client&state={STATE}&scope=openid+read+email&redirect_uri=https%3A%2F%2Fapp%2Fcb"
            )
        );
        let plain_oauth = authorization_url(
            &oidc,
            &endpoint,
            false,
            &request("https://app/cb", &scopes, &[]),
        );
        assert!(plain_oauth.as_str().contains("&scope=read+email&"));

        oidc.scopes.clear();
        let no_scope = authorization_url(
            &oidc,
            &endpoint,
            false,
            &request("https://app/cb", &[], &[]),
        );
        assert!(!no_scope.as_str().contains("scope="));
    }

    #[test]
    fn the_scope_column_is_better_auths() {
        let cases = [
            (Some(json!("openid email profile")), "openid,email,profile"),
            (Some(json!("  openid\temail  ")), "openid,email"),
            (Some(json!("read:user,user:email")), "read:user,user:email"),
            (Some(json!(["openid", " email ", 7, ""])), "openid,email"),
            (Some(json!(null)), ""),
            (None, ""),
        ];
        for (scope, column) in cases {
            assert_eq!(scope_column(scope.as_ref()), column, "{scope:?}");
        }
    }

    #[test]
    fn a_token_answer_is_read_as_better_auth_reads_it() {
        let now = Utc::now();
        let tokens = tokens_from(
            &json!({"access_token": "at", "refresh_token": "rt", "id_token": "it", "expires_in": 3600,
                    "refresh_token_expires_in": "7200", "scope": "openid email", "token_type": "Bearer"}),
            now,
        )
        .unwrap();
        assert_eq!(tokens.access_token.as_deref(), Some("at"));
        assert_eq!(tokens.refresh_token.as_deref(), Some("rt"));
        assert_eq!(tokens.id_token.as_deref(), Some("it"));
        assert_eq!(
            tokens.access_token_expires_at,
            Some(now + TimeDelta::seconds(3600))
        );
        assert_eq!(
            tokens.refresh_token_expires_at,
            Some(now + TimeDelta::seconds(7200))
        );
        assert_eq!(tokens.scope, "openid,email");

        let github = tokens_from(
            &json!({"access_token": "gho_x", "token_type": "bearer", "scope": "read:user,user:email", "expires_in": 0}),
            now,
        )
        .unwrap();
        assert_eq!(github.access_token_expires_at, None);
        assert_eq!(github.scope, "read:user,user:email");

        for refused in [
            json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect"}),
            json!({"token_type": "bearer"}),
            json!({"access_token": ""}),
            json!(["access_token"]),
        ] {
            assert!(tokens_from(&refused, now).is_err(), "{refused}");
        }
        assert!(matches!(
            tokens_from(&json!({"error": "bad code <script>"}), now),
            Err(Fault::Refused(code)) if code == "?"
        ));
    }

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

    #[test]
    fn github_takes_the_profile_email_else_the_primary_else_the_first() {
        let emails = json!([
            {"email": "work@example.com", "primary": false, "verified": true},
            {"email": "gina@example.com", "primary": true, "verified": true},
        ]);
        let own = github_user(
            json!({"id": 1234567, "login": "gina", "name": "Gina", "email": "gina@example.com",
                   "avatar_url": "https://a/u"}),
            Some(emails.clone()),
        )
        .unwrap();
        assert_eq!(own.account_id, "1234567");
        assert_eq!(own.email.as_deref(), Some("gina@example.com"));
        assert!(own.email_verified);
        assert_eq!(own.name, "Gina");
        assert_eq!(own.image.as_deref(), Some("https://a/u"));

        let primary = github_user(
            json!({"id": 1, "login": "gina", "email": null}),
            Some(emails),
        )
        .unwrap();
        assert_eq!(primary.email.as_deref(), Some("gina@example.com"));
        assert!(primary.email_verified);
        assert_eq!(primary.raw["email"], "gina@example.com");

        let first = github_user(
            json!({"id": 1, "login": "gina", "email": ""}),
            Some(json!([{"email": "a@example.com", "primary": false, "verified": false}, {"email": "b@example.com"}])),
        )
        .unwrap();
        assert_eq!(first.email.as_deref(), Some("a@example.com"));
        assert!(!first.email_verified);
    }

    #[test]
    fn github_verifies_only_the_exactly_matching_email() {
        let user = github_user(
            json!({"id": "7", "login": "gina", "email": "Gina@Example.com"}),
            Some(json!([{"email": "gina@example.com", "primary": true, "verified": true}])),
        )
        .unwrap();
        assert_eq!(user.email.as_deref(), Some("Gina@Example.com"));
        assert!(!user.email_verified);
    }

    #[test]
    fn github_without_emails_has_none_and_names_fall_back_to_the_login() {
        let failed = github_user(json!({"id": 2, "login": "daveg", "name": null}), None).unwrap();
        assert_eq!(failed.email, None);
        assert!(!failed.email_verified);
        assert_eq!(failed.name, "daveg");

        let empty = github_user(json!({"id": 2, "email": null}), Some(json!([]))).unwrap();
        assert_eq!(empty.email, None);
        assert_eq!(empty.name, "");
        assert!(empty.raw.get("email").is_none());

        assert!(github_user(json!({"login": "no-id"}), None).is_err());
        assert!(github_user(json!("not a profile"), None).is_err());
    }

    #[test]
    fn generic_profiles_are_better_auths() {
        let userinfo = profile_from_userinfo(json!({
            "sub": "alice", "email": "alice@example.com", "email_verified": "true", "name": "Alice OIDC",
            "picture": "http://op/alice.png", "image": "overwritten"
        }))
        .unwrap();
        assert_eq!(userinfo["emailVerified"], true);
        assert_eq!(userinfo["image"], "http://op/alice.png");
        let user = generic_user(userinfo, Some("alice".into())).unwrap();
        assert!(user.email_verified);
        assert_eq!(user.name, "Alice OIDC");
        assert_eq!(user.image.as_deref(), Some("http://op/alice.png"));

        let bare =
            profile_from_userinfo(json!({"id": 42, "image": "kept?", "email_verified": "yes"}))
                .unwrap();
        assert!(bare.get("image").is_none());
        assert_eq!(bare["emailVerified"], false);
        let user = generic_user(bare, subject_of(Some(&json!(42)))).unwrap();
        assert_eq!(user.account_id, "42");
        assert_eq!(user.name, "");

        let claims = json!({"sub": "bob", "email": "bob@example.com", "email_verified": true, "picture": "p"});
        let profile = profile_from_claims(claims.as_object().unwrap());
        assert_eq!(profile["id"], "bob");
        assert_eq!(profile["emailVerified"], true);
        assert_eq!(profile["image"], "p");

        for nothing in [
            json!(""),
            json!("undefined"),
            json!("null"),
            json!(null),
            json!(true),
        ] {
            assert_eq!(subject_of(Some(&nothing)), None, "{nothing}");
        }
        assert!(generic_user(Map::new(), None).is_err());
    }

    fn expected<'a>(nonce: Option<&'a str>, now: f64) -> Expected<'a> {
        Expected {
            issuers: vec!["https://op.example.com"],
            client_id: "client-1",
            nonce,
            now,
        }
    }

    #[test]
    fn id_token_claims_are_checked_one_by_one() {
        let now = 1_900_000_000.0;
        let good = json!({"iss": "https://op.example.com", "aud": "client-1", "sub": "alice", "iat": now,
                          "exp": now + 600.0, "nonce": "n-1"});
        let with = |change: Value| {
            let mut claims = good.as_object().unwrap().clone();
            for (name, value) in change.as_object().unwrap() {
                if value.is_null() {
                    claims.remove(name);
                } else {
                    claims.insert(name.clone(), value.clone());
                }
            }
            claims
        };
        let passes = |claims: &Map<String, Value>, nonce| {
            check_claims(claims, &expected(nonce, now)).is_ok()
        };

        assert!(passes(&with(json!({})), Some("n-1")));
        assert!(
            passes(&with(json!({})), None),
            "a nonce is checked only when one is expected"
        );
        assert!(passes(&with(json!({"aud": ["client-1"]})), None));
        assert!(passes(
            &with(json!({"aud": ["client-1", "other"], "azp": "client-1"})),
            None
        ));
        assert!(
            passes(&with(json!({"exp": now - 29.0})), None),
            "30 s of leeway"
        );
        assert!(passes(&with(json!({"nbf": now + 29.0})), None));

        let refused = [
            json!({"iss": "https://evil.example.com"}),
            json!({"iss": null}),
            json!({"aud": "other"}),
            json!({"aud": ["other"]}),
            json!({"aud": ["client-1", "other"]}),
            json!({"aud": ["client-1", "other"], "azp": "other"}),
            json!({"aud": null}),
            json!({"exp": now - 31.0}),
            json!({"exp": null}),
            json!({"exp": "soon"}),
            json!({"nbf": now + 31.0}),
            json!({"nbf": "later"}),
            json!({"iat": null}),
            json!({"sub": null}),
            json!({"sub": ""}),
            json!({"nonce": "n-2"}),
            json!({"nonce": null}),
        ];
        for change in refused {
            assert!(!passes(&with(change.clone()), Some("n-1")), "{change}");
        }
    }

    #[test]
    fn google_tokens_may_name_the_issuer_without_the_scheme() {
        let google = provider(
            "google",
            Kind::Google,
            Endpoints::Discovery(url(
                "https://accounts.google.com/.well-known/openid-configuration",
            )),
            "g",
        );
        assert_eq!(
            expectations(&google, Some("https://accounts.google.com"), None).issuers,
            ["https://accounts.google.com", "accounts.google.com"]
        );
        assert_eq!(
            expectations(&oidc_provider(), Some("https://accounts.google.com"), None).issuers,
            ["https://accounts.google.com"]
        );
        assert_eq!(
            expectations(&google, Some("http://127.0.0.1:9/"), None).issuers,
            ["http://127.0.0.1:9/"]
        );
    }

    #[test]
    fn only_signing_keys_of_the_right_kind_and_size_are_used() {
        let jwk = |value: Value| serde_json::from_value::<Jwk>(value).unwrap();
        let ed_x = URL_SAFE_NO_PAD.encode([9u8; 32]);
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": ed_x});
        assert!(decoding_key(&jwk(ed.clone()), Algorithm::EdDSA).is_some());
        assert!(decoding_key(&jwk(ed.clone()), Algorithm::RS256).is_none());
        let short = json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode([9u8; 16])});
        assert!(
            decoding_key(&jwk(short), Algorithm::EdDSA).is_none(),
            "a short key would panic the verifier"
        );
        let mut encryption = ed.clone();
        encryption["use"] = json!("enc");
        assert!(decoding_key(&jwk(encryption), Algorithm::EdDSA).is_none());
        let mut declared_other = ed;
        declared_other["alg"] = json!("ES256");
        assert!(decoding_key(&jwk(declared_other), Algorithm::EdDSA).is_none());

        let small_rsa =
            json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc1u8; 128]), "e": "AQAB"});
        assert!(decoding_key(&jwk(small_rsa), Algorithm::RS256).is_none());
        let rsa = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc1u8; 256]), "e": "AQAB"});
        assert!(decoding_key(&jwk(rsa), Algorithm::RS256).is_some());

        let set = parse_jwks(
            &json!({"keys": [{"kty": "unknown"}, {"kty": "OKP", "crv": "Ed25519", "x": ed_x}]}),
        )
        .unwrap();
        assert_eq!(
            set.len(),
            1,
            "a key this library cannot read does not spoil the set"
        );
    }

    #[test]
    fn discovered_endpoints_must_be_https_or_loopback() {
        let at = url("https://op.example.com/.well-known/openid-configuration");
        let document = |token: &str| {
            json!({"issuer": "https://op.example.com", "authorization_endpoint": "https://op.example.com/auth",
                   "token_endpoint": token, "jwks_uri": "/jwks", "id_token_signing_alg_values_supported": ["RS256"]})
        };
        let discovered =
            Discovered::from_document(&document("https://op.example.com/token"), &at).unwrap();
        assert_eq!(
            discovered.jwks.as_ref().unwrap().as_str(),
            "https://op.example.com/jwks"
        );
        assert!(discovered.is_oidc() && discovered.keys().is_some());
        assert!(Discovered::from_document(&document("http://127.0.0.1:4100/token"), &at).is_ok());
        assert!(Discovered::from_document(&document("http://op.example.com/token"), &at).is_err());
        assert!(Discovered::from_document(&document("ftp://op.example.com/token"), &at).is_err());
        assert!(Discovered::from_document(&json!({"issuer": "not a url"}), &at).is_err());
    }

    // A provider stand-in on 127.0.0.1 for the calls themselves.

    /// A request the stand-in saw.
    #[derive(Clone, Debug)]
    struct Seen {
        method: String,
        target: String,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Seen {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(own, _)| own.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }
    }

    /// What the stand-in answers, by path; tests change it as they go.
    struct Answers {
        discovery: Value,
        jwks: Value,
        token: (u16, Value),
        userinfo: (u16, Value),
        user: (u16, Value),
        emails: (u16, Value),
    }

    #[derive(Clone)]
    struct Op {
        base: Url,
        issuer: String,
        answers: Arc<Mutex<Answers>>,
        seen: Arc<Mutex<Vec<Seen>>>,
    }

    impl Op {
        async fn start() -> Self {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = url(&format!("http://{}/", listener.local_addr().unwrap()));
            let issuer = base.as_str().trim_end_matches('/').to_owned();
            let discovery = json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/auth"),
                "token_endpoint": format!("{issuer}/token"),
                "userinfo_endpoint": format!("{issuer}/me"),
                "jwks_uri": format!("{issuer}/jwks"),
                "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
            });
            let op = Self {
                base,
                issuer,
                answers: Arc::new(Mutex::new(Answers {
                    discovery,
                    jwks: json!({"keys": []}),
                    token: (200, json!({"access_token": "at-1", "token_type": "Bearer"})),
                    userinfo: (200, json!({})),
                    user: (200, json!({})),
                    emails: (200, json!([])),
                })),
                seen: Arc::default(),
            };
            let serving = op.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let op = serving.clone();
                    tokio::spawn(async move { op.answer(stream).await });
                }
            });
            op
        }

        fn set(&self, change: impl FnOnce(&mut Answers)) {
            change(&mut self.answers.lock().unwrap());
        }

        fn seen(&self, path: &str) -> Vec<Seen> {
            let seen = self.seen.lock().unwrap();
            seen.iter()
                .filter(|seen| seen.target.split('?').next() == Some(path))
                .cloned()
                .collect()
        }

        async fn answer(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            reader.read_line(&mut line).await?;
            let mut words = line.split_whitespace();
            let (method, target) = (
                words.next().unwrap_or_default().to_owned(),
                words.next().unwrap_or_default().to_owned(),
            );
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).await?;
                let Some((name, value)) = header.trim_end().split_once(':') else {
                    break;
                };
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            let mut seen = Seen {
                method,
                target,
                headers,
                body: String::new(),
            };
            let length = seen
                .header("content-length")
                .and_then(|length| length.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).await?;
            seen.body = String::from_utf8(body).unwrap();
            self.seen.lock().unwrap().push(seen.clone());
            let (status, body) = {
                let answers = self.answers.lock().unwrap();
                match seen.target.split('?').next().unwrap_or_default() {
                    "/.well-known/openid-configuration" => (200, answers.discovery.clone()),
                    "/jwks" => (200, answers.jwks.clone()),
                    "/token" => answers.token.clone(),
                    "/me" => answers.userinfo.clone(),
                    "/user" => answers.user.clone(),
                    "/user/emails" => answers.emails.clone(),
                    _ => (404, json!({"error": "not_found"})),
                }
            };
            let body = match body {
                Value::String(raw) => raw,
                json => json.to_string(),
            };
            let head = format!(
                "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 location: https://elsewhere.example.com/\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let stream = reader.get_mut();
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await
        }

        fn generic(&self) -> Provider {
            provider(
                "acme",
                Kind::Generic,
                Endpoints::Discovery(self.base.join(".well-known/openid-configuration").unwrap()),
                "client-1",
            )
        }

        fn google(&self) -> Provider {
            let mut google = self.generic();
            google.id = "google".into();
            google.kind = Kind::Google;
            google
        }

        fn github(&self) -> Provider {
            provider(
                "github",
                Kind::Github {
                    api: self.base.clone(),
                },
                Endpoints::Manual {
                    authorization: self.base.join("auth").unwrap(),
                    token: self.base.join("token").unwrap(),
                    userinfo: None,
                },
                "client-1",
            )
        }

        fn manual(&self) -> Provider {
            provider(
                "plain",
                Kind::Generic,
                Endpoints::Manual {
                    authorization: self.base.join("auth").unwrap(),
                    token: self.base.join("token").unwrap(),
                    userinfo: Some(self.base.join("me").unwrap()),
                },
                "client-1",
            )
        }

        /// Claims the stand-in would sign for alice.
        fn claims(&self) -> Value {
            let now = Utc::now().timestamp();
            json!({"iss": self.issuer, "aud": "client-1", "sub": "alice", "email": "alice@example.com",
                   "email_verified": true, "name": "Alice", "picture": "http://op/alice.png",
                   "iat": now, "exp": now + 600, "nonce": NONCE})
        }
    }

    /// A signing key and its public JWK.
    struct Key {
        algorithm: Algorithm,
        kid: String,
        key: EncodingKey,
        jwk: Value,
    }

    /// A 2048-bit RSA key, PKCS#1 (what jsonwebtoken signs with).
    const RSA_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEAqZRPzGbee0KXBopkHk+h/tsNRVUkW/2ydFnGgedWGWhkUi+b
lCfy7+yUUgtm3KTrAo9CgjS2qvBa02KPMfSA4H63efvAaGbGoAEZ7/8BSKoikgYr
mkZu/vvGmiBYSgBGVr2TfMArmr4hPbtCEHJTEpaUhi3/sfWlShnw9aDpPGPH6Twx
3jR9UokrQxbWsBbTUa8orqueZl11QZTyv6I1kjTo/chdI6Wwjxo/+oTI5go+Byuh
Wbdygvs4ndjVYHZmi5Y3erzdfLNUF3jrM3mQkf+gcP3OK7druZmURdBxvEUHrEfk
cySyCWJ7FKRyY+piYrdQSf4nK2NU58PluMJ93QIDAQABAoIBABXEWg7aaHXpaQHX
qzzBy4EvZG9xG5rsQGcTa/naNDDMN85d2opEq3gVBb/XQ1OQnrLkKS0V75mXAw2N
oeRPZmiKk2oGwN6VzKqWoZnvAV7uqcPVI20o29ACiO5ZNwP+r4isSl1xvFcfTxyB
qBv81MF2zyc/Ccpxxc7yb/3TcwTDc4PJaEYPhPJ9TYpE+8r1x7oDjOQG8Qfp246s
TFnXD6zDrUNOmCU1MNeoF+xwx9YI9vISKLjmw/Uplk/rC4WZecmNjrqawgFf1laL
lle6xRTq5YjjxsSlAghp+9swXRU9mStdUrbjc87rTgKoZLpw/aPsd6YIpjoXmDr+
oOtPJzkCgYEA2xwpdcb4MKa+d+JYIw18pzPVg3UkVUxUkmzEs1tlmr6WubUYN/Z2
VqwsCMf8QYcAG4dSxuYZsTLltZsZaNweyRoYd6N1lvv1wa2PBitx/NDqJ8d48wsS
TXlalNUjTbSo2PTbin1oHvRLZIvHn/PrmgBV+nWLYEiV7Wq3vx2o+DkCgYEAxiFV
aLNyxa7R299ycf7Wvb00ndmqbro5OlZISvOQzTJTgwZxPn6C6GFkUawKlA08wjg8
45RO15VgOvDAbhJ7UKHvjkcdoEm1mZWAe3Yc/d8yYgzcm+CdnH/slIsL4cTWUU2q
UslqS9CjU9sZkT/9cPbDL8J4I+LFDl2+ui/TSsUCgYApOsdibipNnVLB5EmJbwRB
wjMvJV/M3Swc0XLB/TTFRY+/KiCAh1QFQyiWDmudOPYAOBqPasTy3wzye1jwrlrs
pIhuGsgJvSelZi8/jfVJCVbGXXaY5UBwa6Fr2B9og9Ix4QFesfJhwL5fER5jLtbq
h52mH3A2kfIEVsx0nfQpoQKBgEtzFDBL7dAD89zUKaPplOMqcygNZM7H0dU6WEta
l3Dc0lqaEHPo/3b455gGePzKUbHwcpeDucZ1FvE7DzybgyRAlpZK1KheiW5UNVpO
r1mqLmiSV0xw6/RV7sTecobmS2sotUzTcMwwRpI/ZGwgvyXOgqPkXZXk3H/NCT2j
ysW1AoGAPq95uzlm+Yg/t15AbO+VRJg+UyVv5QHKX9+lWAYbBEvHoGch7kSZc+CC
2i6AYjZJGNabUo4MWJClZUJTfuxJxIMYdpHmiT8gAkVj/Xmly86pJe5wlYt6Kawm
FzzofsJmhwAZywyhF1yyCHFE0VgDLPg0V8F5R5bu5zV9lxwsr2s=
-----END RSA PRIVATE KEY-----";

    /// A P-256 key, PKCS#8.
    const EC_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4ra47DGTlBcyoFDN
ZOOU6lFrIn4mHblNnmhIRJdlZm6hRANCAASMCxaB02+hVXMjvT7ID2dJOwaZW+LN
9nhhVJKCe3YJAJZt3YfL8B6yV+g5GnT1uAIpfrd75N5u6ktq87kB5m1f
-----END PRIVATE KEY-----";

    fn pem_body(pem: &str) -> Vec<u8> {
        let body: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }

    impl Key {
        fn rsa(kid: &str) -> Self {
            let key = EncodingKey::from_rsa_der(&pem_body(RSA_KEY));
            Self::from_encoding(Algorithm::RS256, kid, key)
        }

        fn ec(kid: &str) -> Self {
            let key = EncodingKey::from_ec_der(&pem_body(EC_KEY));
            Self::from_encoding(Algorithm::ES256, kid, key)
        }

        fn ed(kid: &str, seed: u8) -> Self {
            use ed25519_dalek::pkcs8::EncodePrivateKey;
            let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
            let der = signing.to_pkcs8_der().unwrap();
            let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
            Self {
                algorithm: Algorithm::EdDSA,
                kid: kid.into(),
                key: EncodingKey::from_ed_der(der.as_bytes()),
                jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}),
            }
        }

        fn from_encoding(algorithm: Algorithm, kid: &str, key: EncodingKey) -> Self {
            let mut jwk =
                serde_json::to_value(Jwk::from_encoding_key(&key, algorithm).unwrap()).unwrap();
            jwk["kid"] = json!(kid);
            Self {
                algorithm,
                kid: kid.into(),
                key,
                jwk,
            }
        }

        fn sign(&self, claims: &Value) -> String {
            let mut header = Header::new(self.algorithm);
            header.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&header, claims, &self.key).unwrap()
        }
    }

    fn publish(op: &Op, keys: &[&Key]) {
        let jwks = json!({"keys": keys.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>()});
        op.set(|answers| answers.jwks = jwks);
    }

    fn id_tokens(id_token: String) -> Tokens {
        Tokens {
            access_token: Some("at-1".into()),
            id_token: Some(id_token),
            ..Tokens::default()
        }
    }

    fn form(body: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect()
    }

    #[tokio::test]
    async fn a_code_is_exchanged_with_better_auths_form_and_discovery_is_cached() {
        let op = Op::start().await;
        op.set(|answers| {
            answers.token = (200, json!({"access_token": "at-1", "refresh_token": "rt-1", "id_token": "it-1",
                                         "expires_in": 3600, "scope": "openid email profile", "token_type": "Bearer"}))
        });
        let oauth = OAuth::new();
        let provider = op.generic();

        let authorization = oauth
            .authorization_url(
                &provider,
                &request("http://localhost:3100/api/auth/callback/acme", &[], &[]),
            )
            .await
            .unwrap();
        assert!(
            authorization
                .as_str()
                .starts_with(&format!("{}/auth?response_type=code&", op.issuer))
        );
        let tokens = oauth
            .exchange_code(
                &provider,
                "the-code",
                Some(VERIFIER),
                "http://localhost:3100/api/auth/callback/acme",
            )
            .await
            .unwrap();

        assert_eq!(tokens.access_token.as_deref(), Some("at-1"));
        assert_eq!(tokens.refresh_token.as_deref(), Some("rt-1"));
        assert_eq!(tokens.id_token.as_deref(), Some("it-1"));
        assert_eq!(tokens.scope, "openid,email,profile");
        assert!(tokens.access_token_expires_at.is_some());
        let [sent] = op.seen("/token").try_into().unwrap();
        assert_eq!(sent.method, "POST");
        assert_eq!(
            sent.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(sent.header("accept"), Some("application/json"));
        assert_eq!(sent.header("user-agent"), Some("warden"));
        assert_eq!(
            sent.body,
            format!(
                "grant_type=authorization_code&code=the-code&code_verifier={VERIFIER}&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Facme&client_id=client-1&client_secret=the-secret"
            )
        );
        assert_eq!(op.seen("/.well-known/openid-configuration").len(), 1);
    }

    #[tokio::test]
    async fn a_refused_code_a_redirect_or_an_error_under_200_is_an_invalid_code() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let github = op.github();
        let answers = [
            (
                200,
                json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect"}),
            ),
            (400, json!({"error": "invalid_grant"})),
            (302, json!({"access_token": "at-1"})),
            (200, json!("access_token=at-1&scope=repo")),
        ];
        for answer in answers {
            op.set(|answers| answers.token = answer.clone());
            let exchanged = oauth
                .exchange_code(&github, "code", Some(VERIFIER), "https://app/cb")
                .await;
            assert!(
                matches!(exchanged, Err(OAuthError::InvalidCode)),
                "{answer:?}"
            );
        }
    }

    #[tokio::test]
    async fn pkce_off_sends_no_verifier() {
        let op = Op::start().await;
        let mut provider = op.manual();
        provider.pkce = false;
        OAuth::new()
            .exchange_code(&provider, "code", Some(VERIFIER), "https://app/cb")
            .await
            .unwrap();
        let names: Vec<String> = form(&op.seen("/token")[0].body)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(
            names,
            [
                "grant_type",
                "code",
                "redirect_uri",
                "client_id",
                "client_secret"
            ]
        );
    }

    #[tokio::test]
    async fn a_refresh_sends_better_auths_form_and_needs_an_access_token_back() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.manual();
        op.set(|answers| answers.token = (200, json!({"access_token": "at-2", "expires_in": 60})));
        let tokens = oauth.refresh(&provider, "rt-1").await.unwrap();
        assert_eq!(tokens.access_token.as_deref(), Some("at-2"));
        assert_eq!(tokens.refresh_token, None);
        assert_eq!(
            op.seen("/token")[0].body,
            "grant_type=refresh_token&refresh_token=rt-1&client_id=client-1&client_secret=the-secret"
        );

        for answer in [
            (200, json!({"token_type": "Bearer"})),
            (400, json!({"error": "invalid_grant"})),
        ] {
            op.set(|answers| answers.token = answer.clone());
            assert!(matches!(
                oauth.refresh(&provider, "rt-1").await,
                Err(OAuthError::RefreshFailed)
            ));
        }
    }

    #[tokio::test]
    async fn id_tokens_verify_under_each_accepted_algorithm() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        let keys = [Key::rsa("rsa"), Key::ec("ec"), Key::ed("ed", 7)];
        publish(&op, &keys.iter().collect::<Vec<_>>());
        for key in &keys {
            let user = oauth
                .user_info(&provider, &id_tokens(key.sign(&op.claims())), Some(NONCE))
                .await
                .unwrap();
            assert_eq!(user.account_id, "alice", "{:?}", key.algorithm);
            assert_eq!(user.email.as_deref(), Some("alice@example.com"));
            assert!(user.email_verified);
            assert_eq!(user.name, "Alice");
            assert_eq!(user.image.as_deref(), Some("http://op/alice.png"));
            assert_eq!(user.raw["id"], "alice");
        }
        assert!(
            op.seen("/me").is_empty(),
            "claims with sub and email are the profile"
        );
        assert_eq!(op.seen("/jwks").len(), 1, "the key set is cached");
    }

    #[tokio::test]
    async fn a_bad_id_token_is_refused() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        let key = Key::ed("ed", 7);
        publish(&op, &[&key]);
        let claims = op.claims();
        let with = |name: &str, value: Value| {
            let mut claims = claims.clone();
            claims[name] = value;
            key.sign(&claims)
        };
        let good = key.sign(&claims);
        let (head, rest) = good.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        let mut tampered_signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        tampered_signature[0] ^= 1;
        let forged_payload = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&json!({"sub": "mallory", "email": "m@example.com"})).unwrap(),
        );
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"ed"}"#);
        let hmac = jsonwebtoken::encode(
            &Header {
                kid: Some("ed".into()),
                ..Header::new(Algorithm::HS256)
            },
            &claims,
            &EncodingKey::from_secret(b"the-secret"),
        )
        .unwrap();
        let other_key = Key::ed("ed", 8).sign(&claims);
        let now = Utc::now().timestamp();

        let bad = [
            (
                "tampered signature",
                format!(
                    "{head}.{payload}.{}",
                    URL_SAFE_NO_PAD.encode(&tampered_signature)
                ),
            ),
            (
                "forged payload",
                format!("{head}.{forged_payload}.{signature}"),
            ),
            ("alg none", format!("{none_header}.{payload}.")),
            ("HS256 under the client secret", hmac),
            ("another key under the same kid", other_key),
            ("wrong audience", with("aud", json!("client-2"))),
            (
                "wrong issuer",
                with("iss", json!("http://evil.example.com")),
            ),
            ("expired", with("exp", json!(now - 120))),
            ("wrong nonce", with("nonce", json!("another"))),
            ("not a JWT", "not-a-jwt".to_owned()),
        ];
        for (case, token) in bad {
            let user = oauth
                .user_info(&provider, &id_tokens(token.clone()), Some(NONCE))
                .await;
            assert!(
                matches!(user, Err(OAuthError::InvalidIdToken)),
                "user_info: {case}"
            );
            let user = oauth.verify_id_token(&provider, &token, Some(NONCE)).await;
            assert!(
                matches!(user, Err(OAuthError::InvalidIdToken)),
                "verify_id_token: {case}"
            );
        }
        oauth
            .user_info(&provider, &id_tokens(good), Some(NONCE))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_the_key_set_at_most_once_per_ten_seconds() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        let old = Key::ed("old", 1);
        let new = Key::ed("new", 2);
        publish(&op, &[&old]);
        oauth
            .user_info(&provider, &id_tokens(old.sign(&op.claims())), None)
            .await
            .unwrap();
        assert_eq!(op.seen("/jwks").len(), 1);

        // The provider rotates, but the set was fetched under 10 s ago: the new kid waits.
        publish(&op, &[&old, &new]);
        let rotated = id_tokens(new.sign(&op.claims()));
        assert!(matches!(
            oauth.user_info(&provider, &rotated, None).await,
            Err(OAuthError::InvalidIdToken)
        ));
        assert_eq!(op.seen("/jwks").len(), 1);

        // Ten seconds on, one refetch finds it.
        {
            let slot = oauth.jwks.get(&op.base.join("jwks").unwrap());
            let mut slot = slot.lock().await;
            slot.fetched_at = slot.fetched_at.map(|at| at - JWKS_REFETCH);
        }
        oauth.user_info(&provider, &rotated, None).await.unwrap();
        oauth.user_info(&provider, &rotated, None).await.unwrap();
        assert_eq!(op.seen("/jwks").len(), 2);
    }

    #[tokio::test]
    async fn without_an_email_in_the_id_token_the_userinfo_endpoint_answers_for_the_same_subject() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        let key = Key::ec("ec");
        publish(&op, &[&key]);
        let mut claims = op.claims();
        claims.as_object_mut().unwrap().remove("email");
        let tokens = id_tokens(key.sign(&claims));
        op.set(|answers| {
            answers.userinfo = (200, json!({"sub": "alice", "email": "alice@example.com", "email_verified": "true",
                                            "name": "Alice OIDC", "picture": "http://op/alice.png"}))
        });

        let user = oauth
            .user_info(&provider, &tokens, Some(NONCE))
            .await
            .unwrap();
        assert_eq!(user.account_id, "alice");
        assert_eq!(user.email.as_deref(), Some("alice@example.com"));
        assert!(user.email_verified);
        assert_eq!(user.raw["image"], "http://op/alice.png");
        assert_eq!(
            op.seen("/me")[0].header("authorization"),
            Some("Bearer at-1")
        );

        op.set(|answers| {
            answers.userinfo = (200, json!({"sub": "mallory", "email": "m@example.com"}))
        });
        assert!(matches!(
            oauth.user_info(&provider, &tokens, Some(NONCE)).await,
            Err(OAuthError::UserInfo)
        ));
        op.set(|answers| answers.userinfo = (401, json!({"error": "invalid_token"})));
        assert!(matches!(
            oauth.user_info(&provider, &tokens, Some(NONCE)).await,
            Err(OAuthError::UserInfo)
        ));
        op.set(|answers| answers.userinfo = (200, json!("x".repeat(MAX_ANSWER + 1))));
        assert!(matches!(
            oauth.user_info(&provider, &tokens, Some(NONCE)).await,
            Err(OAuthError::UserInfo)
        ));
    }

    #[tokio::test]
    async fn configured_endpoints_read_userinfo_and_take_its_id() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.manual();
        op.set(|answers| {
            answers.userinfo = (
                200,
                json!({"id": 42, "email": "p@example.com", "name": "P"}),
            )
        });
        let user = oauth
            .user_info(
                &provider,
                &Tokens {
                    access_token: Some("at-1".into()),
                    ..Tokens::default()
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(user.account_id, "42");
        assert!(!user.email_verified);
        assert!(op.seen("/.well-known/openid-configuration").is_empty());

        assert_eq!(oauth.issuer(&provider).await.unwrap(), None);
        assert!(!oauth.requires_nonce(&provider).await.unwrap());
        let native = oauth.verify_id_token(&provider, "a.b.c", None).await;
        assert!(matches!(native, Err(OAuthError::IdTokenNotSupported)));
    }

    #[tokio::test]
    async fn configured_endpoints_check_an_id_tokens_claims_without_keys() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.manual();
        let key = Key::ed("ed", 3);
        let good = id_tokens(key.sign(&op.claims()));
        let user = oauth
            .user_info(&provider, &good, Some(NONCE))
            .await
            .unwrap();
        assert_eq!(user.account_id, "alice");
        assert!(op.seen("/me").is_empty());

        let mut claims = op.claims();
        claims["aud"] = json!("client-2");
        let wrong_audience = id_tokens(key.sign(&claims));
        assert!(matches!(
            oauth.user_info(&provider, &wrong_audience, None).await,
            Err(OAuthError::InvalidIdToken)
        ));
    }

    #[tokio::test]
    async fn google_verifies_its_id_token_and_binds_a_nonce() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let google = op.google();
        let key = Key::rsa("g1");
        publish(&op, &[&key]);
        assert!(oauth.requires_nonce(&google).await.unwrap());
        assert_eq!(
            oauth.issuer(&google).await.unwrap().as_deref(),
            Some(op.issuer.as_str())
        );

        let mut claims = op.claims();
        claims["sub"] = json!("109876543210987654321");
        claims.as_object_mut().unwrap().remove("name");
        let token = key.sign(&claims);
        let user = oauth
            .user_info(&google, &id_tokens(token.clone()), Some(NONCE))
            .await
            .unwrap();
        assert_eq!(user.account_id, "109876543210987654321");
        assert_eq!(user.name, "");
        assert_eq!(user.raw["iss"], op.issuer);
        let native = oauth.verify_id_token(&google, &token, None).await.unwrap();
        assert_eq!(native.email.as_deref(), Some("alice@example.com"));

        let missing = oauth
            .user_info(
                &google,
                &Tokens {
                    access_token: Some("at".into()),
                    ..Tokens::default()
                },
                None,
            )
            .await;
        assert!(matches!(missing, Err(OAuthError::UserInfo)));
    }

    #[tokio::test]
    async fn the_native_sign_in_needs_sub_and_email_from_a_generic_provider() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        let key = Key::ed("ed", 4);
        publish(&op, &[&key]);
        let user = oauth
            .verify_id_token(&provider, &key.sign(&op.claims()), None)
            .await
            .unwrap();
        assert_eq!(user.account_id, "alice");

        let mut claims = op.claims();
        claims.as_object_mut().unwrap().remove("email");
        let without_email = oauth
            .verify_id_token(&provider, &key.sign(&claims), None)
            .await;
        assert!(matches!(without_email, Err(OAuthError::UserInfo)));

        let github = oauth
            .verify_id_token(&op.github(), &key.sign(&op.claims()), None)
            .await;
        assert!(matches!(github, Err(OAuthError::IdTokenNotSupported)));
    }

    #[tokio::test]
    async fn the_callback_issuer_is_checked_against_the_discovered_one() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        assert!(oauth.requires_nonce(&provider).await.unwrap());
        oauth
            .check_issuer(&provider, Some(&op.issuer))
            .await
            .unwrap();
        oauth.check_issuer(&provider, None).await.unwrap();
        let evil = oauth
            .check_issuer(&provider, Some("http://evil.example"))
            .await;
        assert!(matches!(evil, Err(OAuthError::IssuerMismatch)));
        oauth
            .check_issuer(&op.github(), Some("http://evil.example"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_unusable_discovery_document_is_a_discovery_error() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        op.set(|answers| {
            answers.discovery["token_endpoint"] = json!("http://op.example.com/token")
        });
        let url = oauth
            .authorization_url(&provider, &request("https://app/cb", &[], &[]))
            .await;
        assert!(matches!(url, Err(OAuthError::Discovery(id)) if id == "acme"));
        let exchanged = oauth
            .exchange_code(&provider, "code", None, "https://app/cb")
            .await;
        assert!(matches!(exchanged, Err(OAuthError::Discovery(_))));
        assert!(op.seen("/token").is_empty());
    }

    #[tokio::test]
    async fn a_discovery_document_past_its_time_serves_while_the_provider_is_down() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        let sign_in = request("https://app/cb", &[], &[]);
        let ask = || oauth.authorization_url(&provider, &sign_in);
        ask().await.unwrap();
        let expire = || async {
            let url = op.base.join(".well-known/openid-configuration").unwrap();
            let slot = oauth.discovery.get(&url);
            let mut slot = slot.lock().await;
            if let Some((_, fresh_until)) = slot.document.as_mut() {
                *fresh_until = Instant::now();
            }
        };
        expire().await;
        op.set(|answers| answers.discovery = json!("down"));

        ask().await.unwrap();
        ask().await.unwrap();
        assert_eq!(
            op.seen("/.well-known/openid-configuration").len(),
            2,
            "one failed refetch, then a minute's rest"
        );
    }

    #[tokio::test]
    async fn github_reads_user_and_emails_with_the_access_token() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let github = op.github();
        op.set(|answers| {
            answers.user = (
                200,
                json!({"login": "alicegh", "id": 1234567, "avatar_url": "https://avatars/a",
                       "name": "Alice GH", "email": null}),
            );
            answers.emails = (
                200,
                json!([{"email": "alice@example.com", "primary": true, "verified": true}]),
            );
        });
        let tokens = Tokens {
            access_token: Some("gho_x".into()),
            ..Tokens::default()
        };
        let user = oauth.user_info(&github, &tokens, None).await.unwrap();
        assert_eq!(user.account_id, "1234567");
        assert_eq!(user.email.as_deref(), Some("alice@example.com"));
        assert!(user.email_verified);
        assert_eq!(user.raw["email"], "alice@example.com");
        for path in ["/user", "/user/emails"] {
            let [seen] = op.seen(path).try_into().unwrap();
            assert_eq!(seen.header("authorization"), Some("Bearer gho_x"), "{path}");
            assert_eq!(seen.header("user-agent"), Some("warden"), "{path}");
        }

        op.set(|answers| answers.emails = (403, json!({"message": "forbidden"})));
        let no_emails = oauth.user_info(&github, &tokens, None).await.unwrap();
        assert_eq!(no_emails.email, None);
        op.set(|answers| answers.user = (401, json!({"message": "Bad credentials"})));
        assert!(matches!(
            oauth.user_info(&github, &tokens, None).await,
            Err(OAuthError::UserInfo)
        ));
        assert!(!oauth.requires_nonce(&github).await.unwrap());
        assert_eq!(oauth.issuer(&github).await.unwrap(), None);
    }
}
