//! `GET /api/warden/providers`: the social providers a deployment offers, as the web UI reads them for its
//! "Continue with …" buttons. The gateway learns them from auth-svc alone; nothing secret is in the answer.

use auth_svc::core::social::settings::{GITHUB_BASE_URL, GOOGLE_ISSUER, Social, SocialArgs};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both};

const SECRETS: [&str; 3] = ["google-secret", "github-secret", "keycloak-secret"];
const CLIENT_IDS: [&str; 3] = ["google-client", "github-client", "keycloak-client"];

/// Google, GitHub and two generic providers, as their variables configure them. None of them is contacted: the
/// list needs no provider to answer.
fn configured() -> Social {
    let env = |name: &str| match name {
        "OAUTH_KEYCLOAK_DISCOVERY_URL" => {
            Some("http://127.0.0.1:1/realms/main/.well-known/openid-configuration".into())
        }
        "OAUTH_KEYCLOAK_CLIENT_ID" => Some(CLIENT_IDS[2].into()),
        "OAUTH_KEYCLOAK_CLIENT_SECRET" => Some(SECRETS[2].into()),
        "OAUTH_CORP_SSO_AUTHORIZATION_URL" => Some("http://127.0.0.1:1/authorize".into()),
        "OAUTH_CORP_SSO_TOKEN_URL" => Some("http://127.0.0.1:1/token".into()),
        "OAUTH_CORP_SSO_CLIENT_ID" => Some("corp-client".into()),
        "OAUTH_CORP_SSO_CLIENT_SECRET" => Some("corp-secret".into()),
        _ => None,
    };
    let args = SocialArgs {
        google_client_id: Some(CLIENT_IDS[0].into()),
        google_client_secret: Some(SECRETS[0].into()),
        google_issuer: "http://127.0.0.1:1".into(),
        github_client_id: Some(CLIENT_IDS[1].into()),
        github_client_secret: Some(SECRETS[1].into()),
        github_base_url: GITHUB_BASE_URL.into(),
        // Listed before Google and GitHub on purpose: those two always come first.
        oauth_providers: "keycloak,corp-sso".into(),
        trusted_providers: String::new(),
    };
    args.resolve(&env).unwrap()
}

async fn providers_of(app: &TestApp) -> (String, Value) {
    let response = app.get("/api/warden/providers", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap();
    (text, body)
}

fn assert_all_listed(text: &str, body: &Value) {
    assert_eq!(
        body,
        &json!({"providers": [
            {"id": "google", "name": "Google"},
            {"id": "github", "name": "GitHub"},
            {"id": "keycloak", "name": "Keycloak"},
            {"id": "corp-sso", "name": "Corp-sso"},
        ]})
    );
    for secret in SECRETS
        .iter()
        .chain(&CLIENT_IDS)
        .chain(&["corp-secret", "corp-client"])
    {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

on_both! {
    async fn a_deployment_without_providers_lists_none(app: TestApp) {
        let (_, body) = providers_of(&app).await;

        assert_eq!(body, json!({"providers": []}));
    }
}

#[tokio::test]
async fn configured_providers_are_listed_in_a_stable_order_without_their_secrets() {
    let app = TestApp::postgres_configured(|auth| auth.social = configured(), |_| {}).await;

    let (first_text, first) = providers_of(&app).await;
    let (_, again) = providers_of(&app).await;

    assert_all_listed(&first_text, &first);
    assert_eq!(first, again, "the same order every time");
}

#[tokio::test]
async fn the_all_in_one_lists_the_providers_it_was_configured_with() {
    let app = TestApp::all_in_one_with(|settings| settings.account.social = configured()).await;

    let (text, body) = providers_of(&app).await;

    assert_all_listed(&text, &body);
}

#[tokio::test]
async fn google_alone_is_listed_alone() {
    let app = TestApp::postgres_configured(
        |auth| {
            let args = SocialArgs {
                google_client_id: Some("only-google".into()),
                google_client_secret: Some("only-google-secret".into()),
                google_issuer: GOOGLE_ISSUER.into(),
                github_base_url: GITHUB_BASE_URL.into(),
                ..Default::default()
            };
            auth.social = args.resolve(&|_: &str| -> Option<String> { None }).unwrap();
        },
        |_| {},
    )
    .await;

    let (_, body) = providers_of(&app).await;

    assert_eq!(
        body,
        json!({"providers": [{"id": "google", "name": "Google"}]})
    );
}
