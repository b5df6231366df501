//! `warden.auth.v1.SocialService` as a native or internal client uses it, over real gRPC against the real OpenID
//! Connect provider of `interop/providers/oidc.mjs`: a client that keeps the state itself instead of a cookie, signs
//! in, links, reads and refreshes the provider's tokens and unlinks, each refusal carrying Better Auth's code.

use auth_svc::core::social::settings::{GITHUB_BASE_URL, GOOGLE_ISSUER, SocialArgs};
use tonic::Code;
use tonic::transport::Channel;
use url::Url;
use warden_proto::auth::v1::{self as pb, social_service_client::SocialServiceClient};
use warden_testkit::providers::{OidcProvider, TestClient};

use crate::helpers::{TestApp, assert_error, bearer};

/// Nothing listens here: the provider's redirect back is read, never followed.
const BASE_URL: &str = "http://127.0.0.1:9";
const CLIENT: (&str, &str) = ("warden", "warden secret");
const NATIVE: (&str, &str) = ("native-app", "native secret");
const NATIVE_REDIRECT: &str = "http://127.0.0.1/native";

struct Fixture {
    app: TestApp,
    social: SocialServiceClient<Channel>,
    provider: OidcProvider,
}

impl Fixture {
    async fn start() -> Self {
        let client = |(id, secret): (&str, &str), redirect: String| TestClient {
            id: id.into(),
            secret: secret.into(),
            redirect_uris: vec![redirect],
        };
        let provider = OidcProvider::start(
            &[
                client(CLIENT, format!("{BASE_URL}/api/auth/callback/oidc")),
                client(NATIVE, NATIVE_REDIRECT.into()),
            ],
            &[],
        )
        .await;
        let issuer = provider.issuer().to_owned();
        let app = TestApp::spawn_with(|config| {
            config.base_url = BASE_URL.parse().unwrap();
            let env = |name: &str| match name {
                "OAUTH_OIDC_DISCOVERY_URL" => {
                    Some(format!("{issuer}/.well-known/openid-configuration"))
                }
                "OAUTH_OIDC_CLIENT_ID" => Some(CLIENT.0.into()),
                "OAUTH_OIDC_CLIENT_SECRET" => Some(CLIENT.1.into()),
                _ => None,
            };
            let args = SocialArgs {
                oauth_providers: "oidc".into(),
                google_issuer: GOOGLE_ISSUER.into(),
                github_base_url: GITHUB_BASE_URL.into(),
                ..Default::default()
            };
            config.social = args.resolve(&env).unwrap();
        })
        .await;
        let social = SocialServiceClient::connect(format!("http://{}", app.addr))
            .await
            .unwrap();
        Self {
            app,
            social,
            provider,
        }
    }

    /// The provider's redirect back after `name` signs in at the `url` a flow started with.
    async fn at_provider(&self, url: &str, name: &str) -> Vec<(String, String)> {
        let email = format!("{name}@example.com");
        let back = self
            .provider
            .sign_in(url, &email, &format!("{name} password"), true)
            .await;
        Url::parse(&back)
            .unwrap()
            .query_pairs()
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect()
    }

    /// CompleteSignIn with the provider's parameters and the state the client kept.
    async fn complete(
        &self,
        back: &[(String, String)],
        kept_state: &str,
    ) -> Result<pb::CompleteSignInResponse, tonic::Status> {
        let param = |name: &str| {
            back.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        self.social
            .clone()
            .complete_sign_in(pb::CompleteSignInRequest {
                provider_id: "oidc".into(),
                state: param("state"),
                code: param("code"),
                error: param("error"),
                iss: param("iss"),
                kept_state: Some(kept_state.into()),
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn accounts(&self, token: &str) -> Vec<pb::LinkedAccount> {
        self.social
            .clone()
            .list_accounts(bearer(pb::ListAccountsRequest {}, token))
            .await
            .unwrap()
            .into_inner()
            .accounts
    }
}

#[tokio::test]
async fn a_client_keeping_the_state_itself_signs_in_reads_the_providers_tokens_and_cannot_unlink_its_last_account()
 {
    let fx = Fixture::start().await;
    let mut social = fx.social.clone();
    let providers = social
        .list_providers(pb::ListProvidersRequest {})
        .await
        .unwrap()
        .into_inner()
        .providers;
    assert_eq!(
        providers.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["oidc"]
    );

    let started = social
        .start_sign_in(pb::StartSignInRequest {
            provider: "oidc".into(),
            callback_url: Some("/dashboard".into()),
            new_user_callback_url: Some("/welcome".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let authorization = Url::parse(&started.url).unwrap();
    let query: Vec<(String, String)> = authorization.query_pairs().into_owned().collect();
    let has = |name: &str, value: &str| query.iter().any(|(k, v)| k == name && v == value);
    assert!(has("code_challenge_method", "S256"), "{query:?}");
    assert!(has(
        "redirect_uri",
        &format!("{BASE_URL}/api/auth/callback/oidc")
    ));
    let back = fx.at_provider(&started.url, "ada").await;

    // Another client's state does not complete this flow, and does not use it up.
    let stolen = fx.complete(&back, "some other state").await.unwrap_err();
    assert_error(&stolen, Code::FailedPrecondition, "state_mismatch");

    let done = fx.complete(&back, &started.state).await.unwrap();
    assert!(done.new_user);
    assert_eq!(done.redirect_url, "/welcome");
    assert!(!done.linked);
    assert_eq!(done.user.as_ref().unwrap().email, "ada@example.com");
    let token = done.token;
    assert_eq!(
        fx.app
            .get_session(&token)
            .await
            .unwrap()
            .user
            .unwrap()
            .email,
        "ada@example.com"
    );
    // The state is used once.
    let replay = fx.complete(&back, &started.state).await.unwrap_err();
    assert_eq!(replay.code(), Code::FailedPrecondition);

    let accounts = fx.accounts(&token).await;
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].provider_id, "oidc");
    assert_eq!(accounts[0].scopes, ["openid", "email", "profile"]);
    let account_id = accounts[0].id.clone();

    let access = social
        .get_access_token(bearer(
            pb::GetAccessTokenRequest {
                account_id: account_id.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!access.access_token.is_empty());
    assert!(access.access_token_expires_at.is_some());
    assert!(access.id_token.is_some());

    let refreshed = social
        .refresh_token(bearer(
            pb::RefreshTokenRequest {
                account_id: account_id.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(refreshed.access_token, access.access_token);
    assert_eq!(refreshed.provider_id, "oidc");
    // The refreshed token is what get-access-token hands out next.
    let again = social
        .get_access_token(bearer(
            pb::GetAccessTokenRequest {
                account_id: account_id.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.access_token, refreshed.access_token);

    let info = social
        .get_account_info(bearer(
            pb::GetAccountInfoRequest {
                account_id: account_id.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.email.as_deref(), Some("ada@example.com"));
    assert!(info.email_verified);
    assert_eq!(info.provider_id, "oidc");
    let data: serde_json::Value = serde_json::from_str(&info.data_json).unwrap();
    assert_eq!(data["email"], "ada@example.com");

    // Without a session, nothing; and another user's token does not reach ada's account.
    let anonymous = social
        .get_access_token(pb::GetAccessTokenRequest {
            account_id: account_id.clone(),
        })
        .await
        .unwrap_err();
    assert_error(&anonymous, Code::Unauthenticated, "UNAUTHORIZED");
    let grace = fx.app.user_token("grace@example.com").await;
    let foreign = social
        .get_access_token(bearer(
            pb::GetAccessTokenRequest {
                account_id: account_id.clone(),
            },
            &grace,
        ))
        .await
        .unwrap_err();
    assert_error(&foreign, Code::InvalidArgument, "ACCOUNT_NOT_FOUND");

    // ada's only way in is the provider: it stays.
    let last = social
        .unlink_account(bearer(
            pb::UnlinkAccountRequest {
                account_id: accounts[0].account_id.clone(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_error(
        &last,
        Code::InvalidArgument,
        "FAILED_TO_UNLINK_LAST_ACCOUNT",
    );
    assert_eq!(fx.accounts(&token).await.len(), 1);
}

#[tokio::test]
async fn a_signed_in_user_links_over_grpc_by_a_flow_or_an_id_token_and_a_native_app_signs_in_with_one()
 {
    let fx = Fixture::start().await;
    let mut social = fx.social.clone();
    let grace = fx.app.user_token("grace@example.com").await;

    // A flow: no session is opened by its completion.
    let started = social
        .link_account(bearer(
            pb::LinkAccountRequest {
                provider: "oidc".into(),
                callback_url: Some("/account".into()),
                ..Default::default()
            },
            &grace,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!started.linked);
    let back = fx.at_provider(&started.url, "grace").await;
    let done = fx.complete(&back, &started.state).await.unwrap();
    assert!(done.linked);
    assert!(done.token.is_empty());
    assert_eq!(done.redirect_url, "/account");
    let providers = |accounts: Vec<pb::LinkedAccount>| {
        accounts
            .into_iter()
            .map(|account| account.provider_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(providers(fx.accounts(&grace).await), ["credential", "oidc"]);

    // An ID token: grace's provider account is hers already; ada's address is not grace's.
    let ada = fx.app.user_token("ada@example.com").await;
    let redirect = format!("{BASE_URL}/api/auth/callback/oidc");
    let graces = fx
        .provider
        .id_token(CLIENT, &redirect, "grace", Some("n-1"))
        .await;
    let adas = fx
        .provider
        .id_token(CLIENT, &redirect, "ada", Some("n-2"))
        .await;
    let link_with = |token: &str, id_token: &str, nonce: &str| {
        bearer(
            pb::LinkAccountRequest {
                provider: "oidc".into(),
                id_token: Some(pb::IdTokenCredential {
                    token: id_token.into(),
                    nonce: Some(nonce.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            token,
        )
    };
    let owned = social
        .link_account(link_with(&ada, &graces, "n-1"))
        .await
        .unwrap_err();
    assert_error(&owned, Code::AlreadyExists, "SOCIAL_ACCOUNT_ALREADY_LINKED");
    let other = social
        .link_account(link_with(&grace, &adas, "n-2"))
        .await
        .unwrap_err();
    assert_error(
        &other,
        Code::PermissionDenied,
        "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED",
    );
    let linked = social
        .link_account(link_with(&ada, &adas, "n-2"))
        .await
        .unwrap()
        .into_inner();
    assert!(linked.linked && linked.url.is_empty());
    assert_eq!(providers(fx.accounts(&ada).await), ["credential", "oidc"]);
    assert_eq!(providers(fx.accounts(&grace).await), ["credential", "oidc"]);

    // A native app's token is for another audience: refused; Warden's own client's token signs ada in.
    let sign_in = |id_token: String, nonce: Option<&str>| pb::SignInWithIdTokenRequest {
        provider: "oidc".into(),
        id_token,
        nonce: nonce.map(Into::into),
        ..Default::default()
    };
    let foreign = fx
        .provider
        .id_token(NATIVE, NATIVE_REDIRECT, "ada", None)
        .await;
    let refused = social
        .sign_in_with_id_token(sign_in(foreign, None))
        .await
        .unwrap_err();
    assert_error(&refused, Code::InvalidArgument, "INVALID_TOKEN");
    let signed_in = social
        .sign_in_with_id_token(sign_in(adas.clone(), Some("n-2")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        fx.app
            .get_session(&signed_in.token)
            .await
            .unwrap()
            .user
            .unwrap()
            .email,
        "ada@example.com"
    );
}

#[tokio::test]
async fn an_id_token_without_a_nonce_signs_in_once_even_when_presented_many_times_at_once() {
    let fx = Fixture::start().await;
    let redirect = format!("{BASE_URL}/api/auth/callback/oidc");
    let token = fx.provider.id_token(CLIENT, &redirect, "ada", None).await;
    let attempts = (0..8).map(|_| {
        let mut social = fx.social.clone();
        let id_token = token.clone();
        tokio::spawn(async move {
            social
                .sign_in_with_id_token(pb::SignInWithIdTokenRequest {
                    provider: "oidc".into(),
                    id_token,
                    ..Default::default()
                })
                .await
        })
    });
    let mut opened = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        match attempt.await.unwrap() {
            Ok(_) => opened += 1,
            Err(status) => assert_error(&status, Code::InvalidArgument, "INVALID_TOKEN"),
        }
    }
    assert_eq!(opened, 1, "one session from one ID token");
    let sessions = fx.app.query_strings(r#"select id from session"#).await;
    assert_eq!(sessions.len(), 1);
}

#[tokio::test]
async fn a_provider_sign_in_skips_the_second_factor_as_in_better_auth() {
    let fx = Fixture::start().await;
    let redirect = format!("{BASE_URL}/api/auth/callback/oidc");
    let sign_in = |id_token: String| pb::SignInWithIdTokenRequest {
        provider: "oidc".into(),
        id_token,
        ..Default::default()
    };
    let first = fx
        .provider
        .id_token(CLIENT, &redirect, "ada", Some("n-a"))
        .await;
    let mut request = sign_in(first);
    request.nonce = Some("n-a".into());
    fx.social
        .clone()
        .sign_in_with_id_token(request)
        .await
        .unwrap();
    // The user turns a second factor on (as Better Auth would have stored it); the provider still signs them in.
    fx.app
        .execute(r#"UPDATE "user" SET "twoFactorEnabled" = true"#)
        .await;
    let again = fx
        .provider
        .id_token(CLIENT, &redirect, "ada", Some("n-b"))
        .await;
    let mut request = sign_in(again);
    request.nonce = Some("n-b".into());
    let opened = fx
        .social
        .clone()
        .sign_in_with_id_token(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(opened.user.unwrap().two_factor_enabled, Some(true));
    fx.app.get_session(&opened.token).await.unwrap();
}
