//! The provider tokens of the caller's accounts (Better Auth's `get-access-token`, `refresh-token` and
//! `account-info`): read back from their sealed columns, refreshed at the provider when they are about to expire,
//! and stored sealed again.

use chrono::{DateTime, TimeDelta, Utc};

use super::SocialCore;
use super::oauth::{ProviderUser, Tokens};
use super::settings::Provider;
use crate::{
    core::sealed,
    domain::{SessionToken, now},
    error::AuthError,
    store::{AccountRow, TokenColumns},
};

/// An access token is refreshed first when it expires within this (Better Auth's 5 s).
const REFRESH_MARGIN: TimeDelta = TimeDelta::seconds(5);

/// A valid access token. No `Debug`: it holds tokens.
pub struct AccessToken {
    pub access_token: String,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    pub id_token: Option<String>,
}

/// What a refresh gave. No `Debug`: it holds tokens.
pub struct Refreshed {
    pub access_token: String,
    pub refresh_token: String,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub scope: Option<String>,
    pub id_token: Option<String>,
    pub account: AccountRow,
}

/// What the provider says about an account now.
pub struct AccountInfo {
    pub user: ProviderUser,
    pub account: AccountRow,
}

impl SocialCore {
    /// A valid access token for one of the caller's accounts (by row id), refreshed first when it is about to
    /// expire and a refresh token is stored.
    pub async fn get_access_token(
        &self,
        token: Option<&SessionToken>,
        account_id: &str,
    ) -> Result<AccessToken, AuthError> {
        let account = self.own_account(token, account_id).await?;
        let provider = self
            .social
            .provider(&account.provider_id)
            .ok_or_else(|| AuthError::ProviderNotSupported(account.provider_id.clone()))?;
        self.valid_access_token(provider, &account).await
    }

    /// Refreshes the access token of one of the caller's accounts now.
    pub async fn refresh_token(
        &self,
        token: Option<&SessionToken>,
        account_id: &str,
    ) -> Result<Refreshed, AuthError> {
        let account = self.own_account(token, account_id).await?;
        let provider = self
            .social
            .provider(&account.provider_id)
            .ok_or_else(|| AuthError::ProviderNotSupported(account.provider_id.clone()))?;
        let stored = account
            .refresh_token
            .clone()
            .filter(|stored| !stored.is_empty())
            .ok_or(AuthError::RefreshTokenNotFound)?;
        let refresh_token = self
            .reveal(&stored)
            .ok_or(AuthError::FailedToRefreshAccessToken)?;
        let fresh = self
            .refreshed(provider, &account, &refresh_token)
            .await
            .ok_or(AuthError::FailedToRefreshAccessToken)?;
        Ok(Refreshed {
            access_token: fresh.access_token.clone().unwrap_or_default(),
            refresh_token: fresh.refresh_token.clone().unwrap_or(refresh_token),
            access_token_expires_at: fresh.access_token_expires_at,
            refresh_token_expires_at: fresh
                .refresh_token_expires_at
                .or(account.refresh_token_expires_at),
            scope: account.scope.clone(),
            id_token: fresh.id_token.clone().or_else(|| account.id_token.clone()),
            account,
        })
    }

    /// What the provider says about one of the caller's accounts, with a valid access token.
    pub async fn account_info(
        &self,
        token: Option<&SessionToken>,
        account_id: &str,
    ) -> Result<AccountInfo, AuthError> {
        let account = self.own_account(token, account_id).await?;
        let provider = self
            .social
            .provider(&account.provider_id)
            .ok_or(AuthError::ProviderNotConfigured)?;
        let valid = self.valid_access_token(provider, &account).await?;
        if valid.access_token.is_empty() {
            return Err(AuthError::AccessTokenNotFound);
        }
        let tokens = Tokens {
            access_token: Some(valid.access_token),
            id_token: valid.id_token,
            ..Tokens::default()
        };
        let user = self
            .oauth
            .stored_user(provider, &tokens)
            .await
            .map_err(|_| AuthError::FailedToGetUserInfo)?;
        Ok(AccountInfo { user, account })
    }

    /// The caller's account with this row id; another user's is as unknown as a missing one.
    async fn own_account(
        &self,
        token: Option<&SessionToken>,
        account_id: &str,
    ) -> Result<AccountRow, AuthError> {
        let current = self.sessions.signed_in(token).await?;
        self.store
            .find_user_account(&current.user.id, account_id)
            .await?
            .ok_or(AuthError::AccountNotFound)
    }

    /// Better Auth's `getValidAccessToken`: the stored token, or a refreshed one when it expires within
    /// [`REFRESH_MARGIN`] and a refresh token is stored. An expired token without a refresh token is answered as it
    /// is; one without an expiry (GitHub's) is never refreshed.
    async fn valid_access_token(
        &self,
        provider: &Provider,
        account: &AccountRow,
    ) -> Result<AccessToken, AuthError> {
        let scopes = parse_scopes(account.scope.as_deref());
        let expiring = account
            .access_token_expires_at
            .is_some_and(|at| at - now() < REFRESH_MARGIN);
        let stored_refresh = account
            .refresh_token
            .as_deref()
            .filter(|stored| !stored.is_empty());
        if let (true, Some(stored)) = (expiring, stored_refresh) {
            let refresh_token = self
                .reveal(stored)
                .ok_or(AuthError::FailedToGetAccessToken)?;
            let fresh = self
                .refreshed(provider, account, &refresh_token)
                .await
                .ok_or(AuthError::FailedToGetAccessToken)?;
            return Ok(AccessToken {
                access_token: fresh.access_token.unwrap_or_default(),
                access_token_expires_at: fresh
                    .access_token_expires_at
                    .or(account.access_token_expires_at),
                scopes,
                id_token: fresh.id_token.or_else(|| account.id_token.clone()),
            });
        }
        let access_token = self
            .reveal(account.access_token.as_deref().unwrap_or_default())
            .ok_or(AuthError::FailedToGetAccessToken)?;
        Ok(AccessToken {
            access_token,
            access_token_expires_at: account.access_token_expires_at,
            scopes,
            id_token: account.id_token.clone(),
        })
    }

    /// Refreshes at the provider and stores the new tokens sealed; None when the provider refuses or cannot be
    /// reached, or the store cannot take them.
    async fn refreshed(
        &self,
        provider: &Provider,
        account: &AccountRow,
        refresh_token: &str,
    ) -> Option<Tokens> {
        let fresh = self.oauth.refresh(provider, refresh_token).await.ok()?;
        let sealed = self.token_columns(&fresh);
        let columns = TokenColumns {
            access_token: sealed.access_token,
            access_token_expires_at: fresh.access_token_expires_at,
            refresh_token: sealed.refresh_token,
            refresh_token_expires_at: fresh.refresh_token_expires_at,
            id_token: fresh.id_token.clone().filter(|token| !token.is_empty()),
            scope: None,
        };
        if let Err(error) = self
            .store
            .store_refreshed_tokens(&account.id, &columns, now())
            .await
        {
            tracing::error!(%error, "refreshed provider tokens could not be stored");
            return None;
        }
        Some(fresh)
    }

    /// A stored token in plain text: opened when it has the sealed form (Better Auth's rule, so its plain rows
    /// still read), as it is otherwise. None when it looks sealed but no secret opens it.
    fn reveal(&self, stored: &str) -> Option<String> {
        if sealed::looks_sealed(stored) {
            sealed::open(&self.secret, stored)
        } else {
            Some(stored.to_owned())
        }
    }
}

/// Better Auth's `parseStoredScopes`: the comma list, trimmed, without empties.
pub fn parse_scopes(scope: Option<&str>) -> Vec<String> {
    scope
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|scope| !scope.is_empty())
        .map(str::to_owned)
        .collect()
}
