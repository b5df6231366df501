//! Better Auth's social sign-in: Google, GitHub and any OpenID Connect or OAuth 2.0 provider, and the provider
//! accounts linked to a user (`docs/reference/better-auth-social-wire.md` is the contract).
//!
//! [`settings`] is which providers a deployment offers, [`oauth`] talks to them, [`state`] carries a sign-in between
//! its two halves. [`SocialCore`] is the behaviour: it starts a sign-in, completes it (deciding between a new user,
//! a linked account and linking by email, under Better Auth's `accountLinking` rules) and opens the session through
//! [`Sessions::open`], as every other sign-in does.
//!
//! Deliberately stronger than Better Auth: provider access and refresh tokens are always stored encrypted
//! ([`crate::core::sealed`]; rows Better Auth stored in plain text still read), and an ID token is verified whenever
//! one arrives, Google's included.

mod link;
pub mod oauth;
pub mod settings;
pub mod state;
mod tokens;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use warden_common::AuthSecret;
use warden_common::settings::{PublicUrl, TrustedOrigins};

use crate::{
    core::sealed,
    core::sessions::{ClientInfo, Opened, Proof, Sessions},
    domain::{SessionToken, UserRecord, generate_id, now},
    error::{AuthError, CallbackError, UrlField, is_unique_violation},
    store::{AccountRow, Store, TokenColumns},
};

use oauth::{AuthorizationRequest, OAuth, ProviderUser, Tokens};
use settings::{Kind, Provider, Social};
use state::StateData;

pub use link::{IdTokenLink, LinkAccount, LinkStarted};
pub use tokens::{AccessToken, AccountInfo, Refreshed, parse_scopes};

/// The `verification` identifier prefix of ID tokens already used without a nonce.
pub const SPENT_ID_TOKEN: &str = "spent-id-token:";

/// OAuth parameters a request may not set through `additionalParams`.
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

/// A sign-in to start (Better Auth's `/sign-in/social` body, without the ID-token branch).
#[derive(Clone, Debug, Default)]
pub struct StartSignIn {
    pub provider: String,
    pub callback_url: Option<String>,
    pub new_user_callback_url: Option<String>,
    pub error_callback_url: Option<String>,
    pub scopes: Vec<String>,
    pub login_hint: Option<String>,
    pub request_sign_up: Option<bool>,
    pub additional_params: Vec<(String, String)>,
    pub additional_data: BTreeMap<String, serde_json::Value>,
}

/// An ID-token sign-in. No `Debug`: it holds tokens.
#[derive(Clone, Default)]
pub struct IdTokenSignIn {
    pub provider: String,
    pub id_token: String,
    pub nonce: Option<String>,
    pub access_token: Option<String>,
    pub request_sign_up: Option<bool>,
}

/// What a provider's redirect brought back, and the state the client kept. No `Debug`: it holds a code.
#[derive(Clone, Default)]
pub struct Callback {
    pub provider_id: String,
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
    pub kept_state: Option<String>,
}

/// A completed flow: a sign-in's session, or nothing more for a link.
pub struct Completed {
    pub redirect_url: String,
    pub new_user: bool,
    /// None when the flow linked an account to the user who started it.
    pub opened: Option<Opened>,
}

#[derive(Clone)]
pub struct SocialCore {
    store: Store,
    sessions: Sessions,
    oauth: OAuth,
    social: Arc<Social>,
    secret: AuthSecret,
    base_url: PublicUrl,
    origins: TrustedOrigins,
}

impl SocialCore {
    pub fn new(
        store: Store,
        sessions: Sessions,
        social: Social,
        secret: AuthSecret,
        base_url: PublicUrl,
        trusted_origins: &TrustedOrigins,
    ) -> Self {
        let origins = TrustedOrigins::for_site(&base_url, trusted_origins);
        Self {
            store,
            sessions,
            oauth: OAuth::new(),
            social: Arc::new(social),
            secret,
            base_url,
            origins,
        }
    }

    /// The providers offered, with a name to show: `(id, name)`.
    pub fn providers(&self) -> Vec<(String, String)> {
        self.social
            .providers
            .iter()
            .map(|provider| (provider.id.clone(), display_name(provider)))
            .collect()
    }

    /// Starts a sign-in: stores its state and answers the provider's authorization URL and the state.
    pub async fn start_sign_in(&self, input: StartSignIn) -> Result<(String, String), AuthError> {
        self.check_urls(&input)?;
        check_params(&input.additional_params)?;
        let provider = self
            .social
            .provider(&input.provider)
            .ok_or(AuthError::ProviderNotFound)?;
        self.start_flow(provider, input, None).await
    }

    /// Stores a flow's state and answers the provider's authorization URL and the state; `link` makes it a link.
    async fn start_flow(
        &self,
        provider: &Provider,
        input: StartSignIn,
        link: Option<state::LinkState>,
    ) -> Result<(String, String), AuthError> {
        let nonce = self
            .oauth
            .requires_nonce(provider)
            .await
            .map_err(unavailable)?
            .then(|| state::random_string(32));
        let now = now();
        let data = StateData {
            additional_data: input.additional_data,
            callback_url: input
                .callback_url
                .unwrap_or_else(|| self.base_url.origin().to_owned()),
            code_verifier: state::random_string(128),
            error_url: input.error_callback_url,
            new_user_url: input.new_user_callback_url,
            expires_at: (now + state::STATE_LIFETIME).timestamp_millis(),
            request_sign_up: input.request_sign_up,
            id_token_nonce: nonce,
            oauth_state: Some(state::random_string(32)),
            link,
        };
        let url = self
            .oauth
            .authorization_url(
                provider,
                &AuthorizationRequest {
                    state: data.oauth_state.as_deref().unwrap_or_default(),
                    code_verifier: provider.pkce.then_some(data.code_verifier.as_str()),
                    nonce: data.id_token_nonce.as_deref(),
                    redirect_uri: &self.redirect_uri(provider),
                    scopes: &input.scopes,
                    login_hint: input.login_hint.as_deref(),
                    additional_params: &input.additional_params,
                },
            )
            .await
            .map_err(unavailable)?;
        let state = state::save(&self.store, &data, now).await?;
        Ok((url.to_string(), state))
    }

    /// Completes a sign-in with what the provider sent back. Every refusal is a [`CallbackError`], carried as
    /// [`AuthError::Callback`].
    pub async fn complete_sign_in(
        &self,
        callback: Callback,
        client: ClientInfo,
    ) -> Result<Completed, AuthError> {
        let now = now();
        let data = state::take(
            &self.store,
            callback.state.as_deref(),
            callback.kept_state.as_deref(),
            now,
        )
        .await?;
        let refuse = |code: &str| {
            CallbackError::new(code)
                .to(data.error_url.clone())
                .consumed()
        };
        if let Some(error) = callback.error.filter(|error| !error.is_empty()) {
            return Err(refuse(&error).described(callback.error_description).into());
        }
        let Some(code) = callback.code.filter(|code| !code.is_empty()) else {
            return Err(refuse("no_code").into());
        };
        let Some(provider) = self.social.provider(&callback.provider_id) else {
            return Err(refuse("oauth_provider_not_found").into());
        };
        if let Some(iss) = callback.iss.as_deref() {
            let issuer = self.oauth.issuer(provider).await.map_err(|error| {
                tracing::warn!(provider = provider.id, %error, "provider discovery failed");
                refuse("invalid_code")
            })?;
            if issuer.is_some_and(|issuer| issuer != iss) {
                return Err(refuse("issuer_mismatch").into());
            }
        }
        let requires_nonce = self
            .oauth
            .requires_nonce(provider)
            .await
            .map_err(|_| refuse("invalid_code"))?;
        if requires_nonce && data.id_token_nonce.is_none() {
            return Err(refuse("nonce_binding_missing").into());
        }
        let tokens = self
            .oauth
            .exchange_code(
                provider,
                &code,
                provider.pkce.then_some(data.code_verifier.as_str()),
                &self.redirect_uri(provider),
            )
            .await
            .map_err(|error| {
                tracing::info!(provider = provider.id, %error, "code exchange refused");
                refuse("invalid_code")
            })?;
        let user = self
            .oauth
            .user_info(provider, &tokens, data.id_token_nonce.as_deref())
            .await
            .map_err(|error| {
                tracing::info!(provider = provider.id, %error, "no user from the provider");
                refuse("unable_to_get_user_info")
            })?;
        if user.account_id.is_empty() || matches!(user.account_id.as_str(), "undefined" | "null") {
            return Err(refuse("unable_to_get_user_info").into());
        }
        if let Some(link) = &data.link {
            self.link_from_callback(provider, link, &user, &tokens, now)
                .await
                .map_err(refuse)?;
            return Ok(Completed {
                redirect_url: data.callback_url,
                new_user: false,
                opened: None,
            });
        }
        let Some(email) = user.email.clone().filter(|email| !email.is_empty()) else {
            return Err(refuse("email_not_found").into());
        };
        let scope = Some(tokens.scope.clone());
        let (person, new_user) = self
            .admit(provider, &user, &email, &tokens, scope, now)
            .await
            .map_err(refuse)?;
        let opened = match self
            .sessions
            .open(person, Proof::Provider, true, client)
            .await
        {
            Ok(opened) => opened,
            // Better Auth's admin hook refuses the session; its callback passes the code and message on.
            Err(error @ AuthError::BannedUser) => {
                return Err(refuse("BANNED_USER")
                    .described(Some(error.to_string()))
                    .into());
            }
            Err(error) => return Err(error),
        };
        let redirect_url = match (new_user, data.new_user_url) {
            (true, Some(url)) => url,
            _ => data.callback_url,
        };
        Ok(Completed {
            redirect_url,
            new_user,
            opened: Some(opened),
        })
    }

    /// Signs in with an ID token the client got from the provider itself. Verified as the callback's are; one
    /// without a nonce is accepted once only, until it expires, so a token seen elsewhere cannot be replayed here.
    pub async fn sign_in_with_id_token(
        &self,
        input: IdTokenSignIn,
        client: ClientInfo,
    ) -> Result<Opened, AuthError> {
        let provider = self
            .social
            .provider(&input.provider)
            .ok_or(AuthError::ProviderNotFound)?;
        let (info, email, now) = self
            .verified_id_token(provider, &input.id_token, input.nonce.as_deref())
            .await?;
        let tokens = Tokens {
            access_token: input.access_token,
            id_token: Some(input.id_token),
            ..Tokens::default()
        };
        let (user, _) = self
            .admit(provider, &info, &email, &tokens, None, now)
            .await
            .map_err(|code| match code {
                "internal_server_error" => {
                    AuthError::Internal(anyhow::anyhow!("social sign-in could not use the store"))
                }
                code => AuthError::OauthLink(code.replace('_', " ")),
            })?;
        self.sessions
            .open(user, Proof::Provider, true, client)
            .await
    }

    /// An ID token the client got from the provider, verified as the callback's are, with the user it names and
    /// that user's address; one without a nonce is spent here, so it is accepted once only until it expires.
    async fn verified_id_token(
        &self,
        provider: &Provider,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<(ProviderUser, String, DateTime<Utc>), AuthError> {
        let info = match self.oauth.verify_id_token(provider, id_token, nonce).await {
            Ok(info) => info,
            Err(oauth::OAuthError::IdTokenNotSupported) => {
                return Err(AuthError::IdTokenNotSupported);
            }
            Err(oauth::OAuthError::UserInfo) => return Err(AuthError::FailedToGetUserInfo),
            Err(error) => {
                tracing::info!(provider = provider.id, %error, "ID token refused");
                return Err(AuthError::InvalidToken);
            }
        };
        if info.account_id.is_empty() {
            return Err(AuthError::FailedToGetUserInfo);
        }
        let email = info
            .email
            .clone()
            .filter(|email| !email.is_empty())
            .ok_or(AuthError::UserEmailNotFound)?;
        let now = now();
        if nonce.is_none() {
            self.spend_id_token(id_token, &info, now).await?;
        }
        Ok((info, email, now))
    }

    /// Records an ID token as used until it expires; a second use is refused as an invalid token.
    async fn spend_id_token(
        &self,
        id_token: &str,
        info: &ProviderUser,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        use sha2::{Digest, Sha256};
        let identifier = format!(
            "{SPENT_ID_TOKEN}{}",
            hex::encode(Sha256::digest(id_token.as_bytes()))
        );
        let expires_at = info
            .raw
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .and_then(|exp| DateTime::from_timestamp(exp, 0))
            .filter(|exp| *exp > now)
            .unwrap_or(now + chrono::TimeDelta::hours(1));
        let first = self
            .store
            .insert_verification_once(
                &crate::store::Verification {
                    identifier,
                    value: String::new(),
                    expires_at,
                },
                now,
            )
            .await?;
        if !first {
            tracing::info!("an ID token without a nonce was presented again");
            return Err(AuthError::InvalidToken);
        }
        Ok(())
    }

    /// Better Auth's `handleOAuthUserInfo`: the user this provider account signs in as, creating or linking when
    /// its rules allow. Refusals are callback codes.
    async fn admit(
        &self,
        provider: &Provider,
        info: &ProviderUser,
        email: &str,
        tokens: &Tokens,
        scope: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(UserRecord, bool), &'static str> {
        let internal = |error: sea_orm::DbErr| {
            tracing::error!(%error, "social sign-in could not read or write the store");
            "internal_server_error"
        };
        let email = email.to_lowercase();
        let columns = self.token_columns(tokens);
        if let Some(account) = self
            .store
            .find_provider_account(&provider.id, &info.account_id)
            .await
            .map_err(internal)?
        {
            let user = self
                .store
                .find_user(&account.user_id)
                .await
                .map_err(internal)?
                .ok_or("unable_to_link_account")?;
            self.store
                .update_account_tokens(&account.id, &columns, now)
                .await
                .map_err(internal)?;
            let user = self.verify_if_vouched(user, info, &email, now).await?;
            return Ok((user, false));
        }
        if let Some(user) = self
            .store
            .find_user_by_email(&email)
            .await
            .map_err(internal)?
        {
            // Implicit linking (Better Auth's accountLinking defaults): the provider must vouch for the address or be
            // trusted, and the local address must be verified, so that nobody takes over an account by registering
            // its address at a provider that does not check it.
            let vouched = info.email_verified || self.social.is_trusted(&provider.id);
            if !vouched || !user.email_verified {
                tracing::info!(provider = provider.id, "implicit account linking refused");
                return Err("account_not_linked");
            }
            // A service account (a user with no account at all, made by an administrator for a machine) signs in
            // with API keys only: no provider may take it over.
            if self
                .store
                .count_accounts(&user.id)
                .await
                .map_err(internal)?
                == 0
            {
                tracing::info!(provider = provider.id, "linking a service account refused");
                return Err("account_not_linked");
            }
            self.store
                .insert_account(&self.account_row(provider, info, &user.id, tokens, scope, now))
                .await
                .map_err(internal)?;
            let user = self.verify_if_vouched(user, info, &email, now).await?;
            return Ok((user, false));
        }
        let user = UserRecord {
            id: generate_id(),
            name: info.name.clone(),
            email,
            email_verified: info.email_verified,
            image: info.image.clone(),
            created_at: now,
            updated_at: now,
            role: Some("user".into()),
            banned: Some(false),
            ban_reason: None,
            ban_expires: None,
            two_factor_enabled: Some(false),
        };
        let row = self.account_row(provider, info, &user.id, tokens, scope, now);
        match self.store.create_user_with_account(&user, &row).await {
            Ok(()) => Ok((user, true)),
            Err(error) if is_unique_violation(&error) => Err("unable_to_create_user"),
            Err(error) => Err(internal(error)),
        }
    }

    /// Marks the user's address verified when the provider vouches for that very address.
    async fn verify_if_vouched(
        &self,
        user: UserRecord,
        info: &ProviderUser,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<UserRecord, &'static str> {
        if user.email_verified || !info.email_verified || user.email != email {
            return Ok(user);
        }
        match self.store.mark_email_verified(&user.id, now).await {
            Ok(updated) => Ok(updated.unwrap_or(user)),
            Err(error) => {
                tracing::error!(%error, "could not mark an address verified");
                Err("internal_server_error")
            }
        }
    }

    fn account_row(
        &self,
        provider: &Provider,
        info: &ProviderUser,
        user_id: &str,
        tokens: &Tokens,
        scope: Option<String>,
        now: DateTime<Utc>,
    ) -> AccountRow {
        let columns = self.token_columns(tokens);
        AccountRow {
            id: generate_id(),
            account_id: info.account_id.clone(),
            provider_id: provider.id.clone(),
            user_id: user_id.to_owned(),
            access_token: columns.access_token,
            refresh_token: columns.refresh_token,
            id_token: columns.id_token,
            access_token_expires_at: columns.access_token_expires_at,
            refresh_token_expires_at: columns.refresh_token_expires_at,
            scope,
            created_at: now,
            updated_at: now,
        }
    }

    /// The token columns to store: access and refresh tokens sealed under the secret, the ID token as it is (it is
    /// signed, and Better Auth keeps it in clear too).
    fn token_columns(&self, tokens: &Tokens) -> TokenColumns {
        let seal = |token: &Option<String>| {
            token
                .as_deref()
                .map(|token| sealed::seal(&self.secret, token))
        };
        TokenColumns {
            access_token: seal(&tokens.access_token),
            refresh_token: seal(&tokens.refresh_token),
            id_token: tokens.id_token.clone(),
            access_token_expires_at: tokens.access_token_expires_at,
            refresh_token_expires_at: tokens.refresh_token_expires_at,
            scope: None,
        }
    }

    /// The caller's accounts, oldest first.
    pub async fn list_accounts(
        &self,
        token: Option<&SessionToken>,
    ) -> Result<Vec<AccountRow>, AuthError> {
        let current = self.sessions.signed_in(token).await?;
        Ok(self.store.list_accounts(&current.user.id).await?)
    }

    /// Removes one of the caller's accounts by row id. Needs a fresh session; the last account stays.
    pub async fn unlink_account(
        &self,
        token: Option<&SessionToken>,
        account_id: &str,
    ) -> Result<(), AuthError> {
        let current = self.sessions.signed_in(token).await?;
        self.sessions.require_fresh(&current)?;
        let user_id = &current.user.id;
        // Better Auth checks the count before looking the account up.
        if self.store.count_accounts(user_id).await? <= 1 {
            return Err(AuthError::FailedToUnlinkLastAccount);
        }
        if self.store.delete_account(user_id, account_id).await? {
            return Ok(());
        }
        let mine = self.store.list_accounts(user_id).await?;
        if mine.iter().any(|account| account.id == account_id) {
            // It exists but was the last one left after a concurrent unlink.
            return Err(AuthError::FailedToUnlinkLastAccount);
        }
        Err(AuthError::AccountNotFound)
    }

    fn redirect_uri(&self, provider: &Provider) -> String {
        format!(
            "{}/api/auth/callback/{}",
            self.base_url.as_str().trim_end_matches('/'),
            provider.id
        )
    }

    /// Better Auth's origin check on the three URLs: relative, or on a trusted origin.
    fn check_urls(&self, input: &StartSignIn) -> Result<(), AuthError> {
        for (url, field) in [
            (&input.callback_url, UrlField::Callback),
            (&input.new_user_callback_url, UrlField::NewUserCallback),
            (&input.error_callback_url, UrlField::ErrorCallback),
        ] {
            if let Some(url) = url
                && !self.origins.is_trusted(url, true)
            {
                return Err(AuthError::UntrustedUrl(field));
            }
        }
        Ok(())
    }
}

/// Refuses reserved OAuth names in `additionalParams`, with Better Auth's message.
fn check_params(params: &[(String, String)]) -> Result<(), AuthError> {
    if params
        .iter()
        .any(|(name, _)| RESERVED_PARAMS.contains(&name.as_str()))
    {
        return Err(AuthError::Validation(format!(
            "[body.additionalParams] additionalParams cannot include reserved OAuth parameters: {}",
            RESERVED_PARAMS.join(", ")
        )));
    }
    Ok(())
}

fn display_name(provider: &Provider) -> String {
    match provider.kind {
        Kind::Google => "Google".into(),
        Kind::Github { .. } => "GitHub".into(),
        Kind::Generic => {
            let mut chars = provider.id.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

/// A provider that cannot be reached to start a sign-in.
fn unavailable(error: oauth::OAuthError) -> AuthError {
    AuthError::Unavailable(anyhow::anyhow!("identity provider: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_parameters_are_refused_with_better_auths_message() {
        let error = check_params(&[("nonce".into(), "x".into())]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "[body.additionalParams] additionalParams cannot include reserved OAuth parameters: state, client_id, \
             redirect_uri, response_type, code_challenge, code_challenge_method, nonce, scope"
        );
        assert!(check_params(&[("hd".into(), "example.com".into())]).is_ok());
    }
}
