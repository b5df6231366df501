//! `SocialService.ListProviders`: what a client (the gateway's web UI) may show as sign-in buttons.

use auth_svc::core::social::settings::{GITHUB_BASE_URL, SocialArgs};
use tonic::transport::Channel;
use warden_proto::auth::v1::{self as pb, social_service_client::SocialServiceClient};

use crate::helpers::TestApp;

async fn list(app: &TestApp) -> Vec<(String, String)> {
    let channel = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    SocialServiceClient::new(channel)
        .list_providers(pb::ListProvidersRequest {})
        .await
        .unwrap()
        .into_inner()
        .providers
        .into_iter()
        .map(|provider| (provider.id, provider.name))
        .collect()
}

#[tokio::test]
async fn no_provider_configured_lists_none() {
    let app = TestApp::spawn().await;

    assert!(list(&app).await.is_empty());
}

#[tokio::test]
async fn providers_are_listed_google_github_then_generic_in_their_configured_order() {
    let env = |name: &str| match name {
        "OAUTH_ZITADEL_DISCOVERY_URL" => {
            Some("http://127.0.0.1:1/.well-known/openid-configuration".to_owned())
        }
        "OAUTH_ZITADEL_CLIENT_ID" | "OAUTH_AUTH0_CLIENT_ID" => Some("client".to_owned()),
        "OAUTH_ZITADEL_CLIENT_SECRET" | "OAUTH_AUTH0_CLIENT_SECRET" => Some("secret".to_owned()),
        "OAUTH_AUTH0_AUTHORIZATION_URL" => Some("http://127.0.0.1:1/authorize".to_owned()),
        "OAUTH_AUTH0_TOKEN_URL" => Some("http://127.0.0.1:1/oauth/token".to_owned()),
        _ => None,
    };
    let social = SocialArgs {
        github_client_id: Some("github-client".into()),
        github_client_secret: Some("github-secret".into()),
        github_base_url: GITHUB_BASE_URL.into(),
        google_client_id: Some("google-client".into()),
        google_client_secret: Some("google-secret".into()),
        google_issuer: "http://127.0.0.1:1".into(),
        oauth_providers: "zitadel,auth0".into(),
        trusted_providers: String::new(),
    }
    .resolve(&env)
    .unwrap();
    let app = TestApp::spawn_with(|config| config.social = social).await;

    let listed = list(&app).await;

    let expected = [
        ("google", "Google"),
        ("github", "GitHub"),
        ("zitadel", "Zitadel"),
        ("auth0", "Auth0"),
    ];
    assert_eq!(
        listed,
        expected.map(|(id, name)| (id.to_owned(), name.to_owned()))
    );
}
