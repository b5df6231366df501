//! Linking a provider account to the signed-in user (Better Auth's `link-social`): a flow like a sign-in whose
//! callback adds the account instead of opening a session, or at once with the provider's ID token.
//!
//! Either way the provider must vouch for the address (or be trusted) and the address must be the user's: linking
//! someone else's provider account, or one whose address nobody checked, would let that account sign in as this user.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::oauth::{ProviderUser, Tokens};
use super::settings::Provider;
use super::state::{LINK_SESSION_PURPOSE, LinkState};
use super::{SocialCore, StartSignIn, check_params};
use crate::{core::sealed, domain::SessionToken, error::AuthError, store::TokenColumns};

/// A link to start (Better Auth's `/link-social` body).
#[derive(Clone, Default)]
pub struct LinkAccount {
    pub provider: String,
    pub callback_url: Option<String>,
    pub error_callback_url: Option<String>,
    pub scopes: Vec<String>,
    pub login_hint: Option<String>,
    pub additional_params: Vec<(String, String)>,
    pub additional_data: BTreeMap<String, serde_json::Value>,
    /// Links at once with this ID token instead of starting a flow.
    pub id_token: Option<IdTokenLink>,
}

/// The ID-token form's credentials. No `Debug`: it holds tokens.
#[derive(Clone, Default)]
pub struct IdTokenLink {
    pub token: String,
    pub nonce: Option<String>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// What a link answers: a flow to send the user through, or the account linked already.
pub enum LinkStarted {
    Redirect { url: String, state: String },
    Linked,
}

impl SocialCore {
    /// Starts linking a provider account to the caller, or links it at once with an ID token.
    pub async fn link_account(
        &self,
        token: Option<&SessionToken>,
        input: LinkAccount,
    ) -> Result<LinkStarted, AuthError> {
        let current = self.sessions.signed_in(token).await?;
        let start = StartSignIn {
            provider: input.provider,
            callback_url: input.callback_url,
            new_user_callback_url: None,
            error_callback_url: input.error_callback_url,
            scopes: input.scopes,
            login_hint: input.login_hint,
            request_sign_up: None,
            additional_params: input.additional_params,
            additional_data: input.additional_data,
        };
        self.check_urls(&start)?;
        check_params(&start.additional_params)?;
        let provider = self
            .social
            .provider(&start.provider)
            .ok_or(AuthError::ProviderNotFound)?;
        if let Some(id_token) = input.id_token {
            self.link_id_token(provider, &current.user.id, &current.user.email, id_token)
                .await?;
            return Ok(LinkStarted::Linked);
        }
        let token = token.expect("a resolved session was presented");
        let link = LinkState {
            user_id: current.user.id,
            email: current.user.email,
            encrypted_session_token: sealed::seal_for(
                &self.secret,
                LINK_SESSION_PURPOSE,
                token.expose(),
            ),
        };
        let (url, state) = self.start_flow(provider, start, Some(link)).await?;
        Ok(LinkStarted::Redirect { url, state })
    }

    /// The ID-token form: verified as an ID-token sign-in is, then Better Auth's checks in its order.
    async fn link_id_token(
        &self,
        provider: &Provider,
        user_id: &str,
        user_email: &str,
        input: IdTokenLink,
    ) -> Result<(), AuthError> {
        let (info, email, now) = self
            .verified_id_token(provider, &input.token, input.nonce.as_deref())
            .await?;
        let tokens = Tokens {
            access_token: input.access_token,
            refresh_token: input.refresh_token,
            id_token: Some(input.token),
            ..Tokens::default()
        };
        if let Some(account) = self
            .store
            .find_provider_account(&provider.id, &info.account_id)
            .await?
        {
            if account.user_id != user_id {
                return Err(AuthError::SocialAccountAlreadyLinked);
            }
            self.store
                .update_account_tokens(&account.id, &self.token_columns(&tokens), now)
                .await?;
            return Ok(());
        }
        if !self.vouched(provider, &info) {
            return Err(AuthError::LinkingNotAllowed);
        }
        if !email.eq_ignore_ascii_case(user_email) {
            return Err(AuthError::LinkingDifferentEmailsNotAllowed);
        }
        let row = self.account_row(provider, &info, user_id, &tokens, None, now);
        self.store.insert_account(&row).await.map_err(|error| {
            tracing::warn!(%error, "a linked account could not be stored");
            AuthError::LinkingFailed
        })
    }

    /// The callback of a link flow (Better Auth's `linkOAuthAccount`): refusals are callback codes.
    pub(super) async fn link_from_callback(
        &self,
        provider: &Provider,
        link: &LinkState,
        info: &ProviderUser,
        tokens: &Tokens,
        now: DateTime<Utc>,
    ) -> Result<(), &'static str> {
        let internal = |error: sea_orm::DbErr| {
            tracing::error!(%error, "an account link could not read or write the store");
            "internal_server_error"
        };
        if !self.link_session_is_live(link).await {
            return Err("unable_to_link_account");
        }
        if !self.vouched(provider, info) {
            tracing::info!(
                provider = provider.id,
                "linking an unvouched address refused"
            );
            return Err("unable_to_link_account");
        }
        let same_email = info
            .email
            .as_deref()
            .is_some_and(|email| email.to_lowercase() == link.email.to_lowercase());
        if !same_email {
            return Err("email_does_not_match");
        }
        match self
            .store
            .find_provider_account(&provider.id, &info.account_id)
            .await
            .map_err(internal)?
        {
            Some(existing) if existing.user_id != link.user_id => {
                Err("account_already_linked_to_different_user")
            }
            Some(existing) => {
                let columns = TokenColumns {
                    scope: merge_scopes(existing.scope.as_deref(), &tokens.scope),
                    ..self.token_columns(tokens)
                };
                self.store
                    .update_account_tokens(&existing.id, &columns, now)
                    .await
                    .map_err(internal)
            }
            None => {
                let scope = Some(tokens.scope.clone());
                let row = self.account_row(provider, info, &link.user_id, tokens, scope, now);
                self.store.insert_account(&row).await.map_err(|error| {
                    tracing::warn!(%error, "a linked account could not be stored");
                    "unable_to_link_account"
                })
            }
        }
    }

    /// The session that started a link still exists, is the same user's and has not expired: signing out between
    /// the two halves abandons the link.
    async fn link_session_is_live(&self, link: &LinkState) -> bool {
        let Some(raw) = sealed::open_for(
            &self.secret,
            LINK_SESSION_PURPOSE,
            &link.encrypted_session_token,
        ) else {
            return false;
        };
        match self
            .sessions
            .resolve(&SessionToken::from_presented(raw), true)
            .await
        {
            Ok(Some(resolved)) => resolved.user.id == link.user_id,
            _ => false,
        }
    }

    /// Better Auth's linking trust: the provider is trusted, or it says it checked the address.
    fn vouched(&self, provider: &Provider, info: &ProviderUser) -> bool {
        info.email_verified || self.social.is_trusted(&provider.id)
    }
}

/// Better Auth's `mergeScopes`: the stored scopes, then the new ones not among them, comma-joined; None when both
/// are empty (the column is then left as it is).
fn merge_scopes(stored: Option<&str>, new: &str) -> Option<String> {
    let mut merged: Vec<&str> = Vec::new();
    for scope in stored.unwrap_or_default().split(',').chain(new.split(',')) {
        let scope = scope.trim();
        if !scope.is_empty() && !merged.contains(&scope) {
            merged.push(scope);
        }
    }
    (!merged.is_empty()).then(|| merged.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_merge_as_better_auth_merges_them() {
        assert_eq!(
            merge_scopes(Some("openid,email"), "email,profile").as_deref(),
            Some("openid,email,profile")
        );
        assert_eq!(
            merge_scopes(None, "read:user").as_deref(),
            Some("read:user")
        );
        assert_eq!(merge_scopes(Some(""), ""), None);
        assert_eq!(merge_scopes(Some("a, b"), "b,c").as_deref(), Some("a,b,c"));
    }
}
