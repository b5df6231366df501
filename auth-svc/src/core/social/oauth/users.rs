//! The provider's user behind a sign-in's tokens: Google's from its ID token, GitHub's from its API, a generic
//! provider's from its ID token or its userinfo endpoint.

use serde_json::{Map, Value};
use url::Url;

use super::claims::subject_of;
use super::discovery::{Discovered, Resolved};
use super::fault::{Failure, Fault, OrFail};
use super::id_token::unverified_claims;
use super::profiles::{
    generic_user, github_user, google_user, holds_sub_and_email, profile_from_claims,
    profile_from_userinfo,
};
use super::{OAuth, OAuthError, ProviderUser, Tokens};
use crate::core::social::settings::Provider;

impl OAuth {
    /// A generic provider's user from its userinfo endpoint, named as [`Self::generic_user`] names it.
    pub(super) async fn stored_generic_user(
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

    pub(super) async fn google_user(
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

    pub(super) async fn generic_user(
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

    pub(super) async fn github_user(
        &self,
        api: &Url,
        tokens: &Tokens,
    ) -> Result<ProviderUser, Failure> {
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
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::social::oauth::fault::MAX_ANSWER;
    use crate::core::social::oauth::stand_in::*;

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
