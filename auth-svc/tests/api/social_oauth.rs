//! `core::social::oauth` against real providers: the OpenID Connect provider (panva's oidc-provider) and the GitHub
//! stand-in of `interop/providers/`, run with node and signed in through over HTTP as a browser would (a cookie store,
//! no redirects followed, the login and consent forms posted).
//!
//! They need Node.js 20 or newer and interop's npm packages; like `interop/run`, the first test here runs `npm ci`
//! in `interop/` when `node_modules` was not installed from the current `package-lock.json`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use auth_svc::core::social::oauth::{
    AuthorizationRequest, OAuth, OAuthError, Tokens, code_challenge,
};
use auth_svc::core::social::settings::{Client, Endpoints, Kind, Provider};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{Rng, distr::Alphanumeric};
use regex::Regex;
use reqwest::{StatusCode, redirect::Policy};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

const REDIRECT_URI: &str = "http://127.0.0.1:3100/api/auth/callback/oidc";
const GITHUB_REDIRECT_URI: &str = "http://127.0.0.1:3100/api/auth/callback/github";

/// One of the harness's servers, stopped when dropped.
struct Harness {
    _process: Child,
    base: String,
}

impl Harness {
    /// `node interop/providers/<script> <args>`, once it printed `{"<field>": "<base URL>"}`.
    async fn start(script: &str, args: &[&str], field: &str) -> Self {
        npm_packages();
        let mut process = Command::new("node")
            .arg(interop().join("providers").join(script))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (Node.js 20 or newer is needed)");
        let stdout = process.stdout.take().expect("stdout is piped");
        let line = tokio::time::timeout(Duration::from_secs(30), async {
            BufReader::new(stdout).lines().next_line().await
        })
        .await
        .expect("the provider starts within 30 s")
        .expect("its stdout reads")
        .expect("it prints where it listens");
        let printed: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
        let base = printed[field].as_str().expect("the base URL").to_owned();
        Self {
            _process: process,
            base,
        }
    }

    /// The OpenID Connect provider with these `id:secret:redirect_uri` clients.
    async fn oidc(clients: &[&str]) -> Self {
        let args: Vec<&str> = clients
            .iter()
            .flat_map(|client| ["--client", client])
            .collect();
        Self::start("oidc.mjs", &args, "issuer").await
    }

    async fn github(client: &str) -> Self {
        Self::start("github.mjs", &["--client", client], "baseUrl").await
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.base)).unwrap()
    }
}

fn interop() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop")
}

/// `npm ci` in interop/ unless `node_modules` is stamped with the current lockfile's hash, as `interop/run` does.
fn npm_packages() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let interop = interop();
        let lock = std::fs::read(interop.join("package-lock.json")).unwrap();
        let stamp = hex::encode(Sha256::digest(lock));
        let stamp_file = interop.join("node_modules/.warden-stamp");
        if std::fs::read_to_string(&stamp_file).is_ok_and(|installed| installed.trim() == stamp) {
            return;
        }
        let installed = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&interop)
            .stdout(Stdio::null())
            .status()
            .expect("npm runs");
        assert!(installed.success(), "npm ci in interop/ failed");
        std::fs::write(stamp_file, format!("{stamp}\n")).unwrap();
    });
}

fn generic(harness: &Harness, client_id: &str) -> Provider {
    Provider {
        id: "oidc".into(),
        kind: Kind::Generic,
        endpoints: Endpoints::Discovery(harness.url("/.well-known/openid-configuration")),
        client: Client {
            id: client_id.into(),
            secret: format!("{client_id}-secret").into(),
        },
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        pkce: true,
    }
}

fn github(harness: &Harness, api: &str) -> Provider {
    Provider {
        id: "github".into(),
        kind: Kind::Github {
            api: harness.url(api),
        },
        endpoints: Endpoints::Manual {
            authorization: harness.url("/login/oauth/authorize"),
            token: harness.url("/login/oauth/access_token"),
            userinfo: None,
        },
        client: Client {
            id: "gh-app".into(),
            secret: "gh-app-secret".to_owned().into(),
        },
        scopes: vec!["read:user".into(), "user:email".into()],
        pkce: true,
    }
}

fn random(length: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}

/// What one sign-in round sent and got back.
struct Round {
    state: String,
    verifier: String,
    nonce: String,
    /// The redirect back to the client, with `code` (or `error`), `state` and, from OpenID providers, `iss`.
    callback: Url,
}

impl Round {
    fn param(&self, name: &str) -> Option<String> {
        self.callback
            .query_pairs()
            .find(|(own, _)| own == name)
            .map(|(_, value)| value.into_owned())
    }

    fn code(&self) -> String {
        self.param("code").expect("the provider sent a code")
    }
}

/// A sign-in through the provider's pages as `login` / `password`, up to the redirect back to `redirect_uri`.
async fn sign_in(
    oauth: &OAuth,
    provider: &Provider,
    redirect_uri: &str,
    login: &str,
    password: &str,
) -> Round {
    let (state, verifier, nonce) = (random(32), random(64), random(32));
    let authorization = oauth
        .authorization_url(
            provider,
            &AuthorizationRequest {
                state: &state,
                code_verifier: Some(&verifier),
                nonce: Some(&nonce),
                redirect_uri,
                scopes: &[],
                login_hint: None,
                additional_params: &[],
            },
        )
        .await
        .unwrap();
    assert!(
        authorization
            .as_str()
            .contains(&format!("&code_challenge={}", code_challenge(&verifier)))
    );
    let callback = walk_pages(authorization, redirect_uri, login, password).await;
    Round {
        state,
        verifier,
        nonce,
        callback,
    }
}

/// Follows the provider's redirects and posts its forms (login, consent or authorize) until it sends the browser
/// back to `redirect_uri`.
async fn walk_pages(start: Url, redirect_uri: &str, login: &str, password: &str) -> Url {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();
    let mut url = start;
    let mut form: Option<Vec<(String, String)>> = None;
    for _ in 0..20 {
        let request = match form.take() {
            Some(fields) => browser.post(url.clone()).form(&fields),
            None => browser.get(url.clone()),
        };
        let response = request.send().await.unwrap();
        if response.status().is_redirection() {
            let location = response.headers()["location"].to_str().unwrap();
            let next = url.join(location).unwrap();
            if next.as_str().starts_with(redirect_uri) {
                return next;
            }
            url = next;
            continue;
        }
        assert_eq!(response.status(), StatusCode::OK, "at {url}");
        let page = response.text().await.unwrap();
        let (action, mut fields) = form_of(&page);
        let action = url.join(&action).unwrap();
        let answer: &[(&str, &str)] = match action.path() {
            path if path.ends_with("/login") => &[("email", login), ("password", password)],
            path if path.ends_with("/consent") => &[("decision", "allow")],
            "/session" => &[("login", login), ("password", password)],
            "/login/oauth/authorize" => &[("authorize", "1")],
            other => panic!("an unexpected form posting to {other}"),
        };
        fields.extend(
            answer
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        );
        form = Some(fields);
        url = action;
    }
    panic!("no redirect back to {redirect_uri} within 20 steps");
}

/// The page's form: its action and its hidden inputs.
fn form_of(page: &str) -> (String, Vec<(String, String)>) {
    let action = Regex::new(r#"<form\b[^>]*\baction="([^"]*)""#).unwrap();
    let input = Regex::new(r"<input\b[^>]*>").unwrap();
    let attribute = |tag: &str, name: &str| {
        Regex::new(&format!(r#"\b{name}="([^"]*)""#))
            .unwrap()
            .captures(tag)
            .map(|found| unescape(&found[1]))
    };
    let action = unescape(&action.captures(page).expect("a page with a form")[1]);
    let hidden = input
        .find_iter(page)
        .map(|tag| tag.as_str())
        .filter(|tag| tag.contains(r#"type="hidden""#))
        .filter_map(|tag| {
            Some((
                attribute(tag, "name")?,
                attribute(tag, "value").unwrap_or_default(),
            ))
        })
        .collect();
    (action, hidden)
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn a_real_openid_provider_signs_in_with_pkce_and_a_verified_id_token() {
    let harness = Harness::oidc(&[&format!("warden:warden-secret:{REDIRECT_URI}")]).await;
    let oauth = OAuth::new();
    let provider = generic(&harness, "warden");
    assert!(oauth.requires_nonce(&provider).await.unwrap());
    assert_eq!(
        oauth.issuer(&provider).await.unwrap().as_deref(),
        Some(harness.base.as_str())
    );

    let round = sign_in(
        &oauth,
        &provider,
        REDIRECT_URI,
        "ada@example.com",
        "ada password",
    )
    .await;
    assert_eq!(round.param("state").as_deref(), Some(round.state.as_str()));
    oauth
        .check_issuer(&provider, round.param("iss").as_deref())
        .await
        .unwrap();
    let tokens = oauth
        .exchange_code(
            &provider,
            &round.code(),
            Some(&round.verifier),
            REDIRECT_URI,
        )
        .await
        .unwrap();
    assert!(tokens.access_token.is_some() && tokens.refresh_token.is_some());
    assert!(tokens.access_token_expires_at.is_some());
    let mut scopes: Vec<&str> = tokens.scope.split(',').collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["email", "openid", "profile"]);

    let user = oauth
        .user_info(&provider, &tokens, Some(&round.nonce))
        .await
        .unwrap();
    assert_eq!(user.account_id, "ada");
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert!(user.email_verified);
    assert_eq!(user.name, "Ada Lovelace");
    assert_eq!(
        user.image.as_deref(),
        Some("https://images.example.com/ada.png")
    );

    let id_token = tokens.id_token.clone().expect("an ID token");
    let native = oauth
        .verify_id_token(&provider, &id_token, Some(&round.nonce))
        .await
        .unwrap();
    assert_eq!(native.account_id, "ada");
    oauth
        .verify_id_token(&provider, &id_token, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_real_providers_id_token_is_refused_when_anything_is_off() {
    let harness = Harness::oidc(&[
        &format!("warden:warden-secret:{REDIRECT_URI}"),
        &format!("other:other-secret:{REDIRECT_URI}"),
    ])
    .await;
    let oauth = OAuth::new();
    let provider = generic(&harness, "warden");
    let round = sign_in(
        &oauth,
        &provider,
        REDIRECT_URI,
        "grace@example.com",
        "grace password",
    )
    .await;
    let tokens = oauth
        .exchange_code(
            &provider,
            &round.code(),
            Some(&round.verifier),
            REDIRECT_URI,
        )
        .await
        .unwrap();
    let id_token = tokens.id_token.clone().unwrap();

    let wrong_nonce = oauth
        .user_info(&provider, &tokens, Some("another-nonce"))
        .await;
    assert!(matches!(wrong_nonce, Err(OAuthError::InvalidIdToken)));

    let (head, rest) = id_token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut flipped = URL_SAFE_NO_PAD.decode(signature).unwrap();
    flipped[10] ^= 0x01;
    let tampered = format!("{head}.{payload}.{}", URL_SAFE_NO_PAD.encode(flipped));
    let refused = oauth.verify_id_token(&provider, &tampered, None).await;
    assert!(matches!(refused, Err(OAuthError::InvalidIdToken)));

    // The same provider's token for another client is not this client's.
    let other = generic(&harness, "other");
    let round = sign_in(
        &oauth,
        &other,
        REDIRECT_URI,
        "grace@example.com",
        "grace password",
    )
    .await;
    let other_tokens = oauth
        .exchange_code(&other, &round.code(), Some(&round.verifier), REDIRECT_URI)
        .await
        .unwrap();
    let foreign = other_tokens.id_token.unwrap();
    let refused = oauth.verify_id_token(&provider, &foreign, None).await;
    assert!(matches!(refused, Err(OAuthError::InvalidIdToken)));
    let refused = oauth
        .user_info(
            &provider,
            &Tokens {
                id_token: Some(foreign),
                ..tokens.clone()
            },
            None,
        )
        .await;
    assert!(matches!(refused, Err(OAuthError::InvalidIdToken)));

    let replayed = oauth
        .exchange_code(
            &provider,
            &round.code(),
            Some(&round.verifier),
            REDIRECT_URI,
        )
        .await;
    assert!(matches!(replayed, Err(OAuthError::InvalidCode)));
    let evil = oauth
        .check_issuer(&provider, Some("http://evil.example"))
        .await;
    assert!(matches!(evil, Err(OAuthError::IssuerMismatch)));
}

#[tokio::test]
async fn a_real_provider_answers_userinfo_and_refreshes() {
    let harness = Harness::oidc(&[&format!("warden:warden-secret:{REDIRECT_URI}")]).await;
    let oauth = OAuth::new();
    let provider = generic(&harness, "warden");
    let round = sign_in(
        &oauth,
        &provider,
        REDIRECT_URI,
        "mallory@example.com",
        "mallory password",
    )
    .await;
    let tokens = oauth
        .exchange_code(
            &provider,
            &round.code(),
            Some(&round.verifier),
            REDIRECT_URI,
        )
        .await
        .unwrap();

    // Without an ID token the user comes from the userinfo endpoint.
    let access_only = Tokens {
        id_token: None,
        ..tokens.clone()
    };
    let user = oauth
        .user_info(&provider, &access_only, None)
        .await
        .unwrap();
    assert_eq!(user.account_id, "mallory");
    assert_eq!(user.email.as_deref(), Some("mallory@example.com"));
    assert!(!user.email_verified);
    assert_eq!(user.raw["emailVerified"], false);

    let refresh_token = tokens.refresh_token.clone().unwrap();
    let refreshed = oauth.refresh(&provider, &refresh_token).await.unwrap();
    assert!(refreshed.access_token.is_some());
    assert_ne!(refreshed.access_token, tokens.access_token);
    let again = Tokens {
        id_token: None,
        ..refreshed
    };
    let user = oauth.user_info(&provider, &again, None).await.unwrap();
    assert_eq!(user.account_id, "mallory");

    let refused = oauth.refresh(&provider, "not-a-refresh-token").await;
    assert!(matches!(refused, Err(OAuthError::RefreshFailed)));
}

#[tokio::test]
async fn github_signs_in_and_reads_user_and_emails_on_both_api_paths() {
    let harness = Harness::github(&format!("gh-app:gh-app-secret:{GITHUB_REDIRECT_URI}")).await;
    let oauth = OAuth::new();
    let dotcom = github(&harness, "/");
    assert!(!oauth.requires_nonce(&dotcom).await.unwrap());
    assert_eq!(oauth.issuer(&dotcom).await.unwrap(), None);

    let round = sign_in(
        &oauth,
        &dotcom,
        GITHUB_REDIRECT_URI,
        "grace",
        "grace password",
    )
    .await;
    assert_eq!(round.param("state").as_deref(), Some(round.state.as_str()));
    let tokens = oauth
        .exchange_code(
            &dotcom,
            &round.code(),
            Some(&round.verifier),
            GITHUB_REDIRECT_URI,
        )
        .await
        .unwrap();
    assert_eq!(tokens.scope, "read:user,user:email");
    assert_eq!(tokens.refresh_token, None);
    assert_eq!(tokens.access_token_expires_at, None);

    // Grace keeps her address private: /user says null, /user/emails names the primary one.
    let grace = oauth.user_info(&dotcom, &tokens, None).await.unwrap();
    assert_eq!(grace.account_id, "1003");
    assert_eq!(grace.email.as_deref(), Some("grace@example.com"));
    assert!(grace.email_verified);
    assert_eq!(grace.name, "Grace Hopper");
    assert_eq!(grace.raw["email"], "grace@example.com");

    let enterprise = github(&harness, "/api/v3/");
    let round = sign_in(
        &oauth,
        &enterprise,
        GITHUB_REDIRECT_URI,
        "mallory",
        "mallory password",
    )
    .await;
    let tokens = oauth
        .exchange_code(
            &enterprise,
            &round.code(),
            Some(&round.verifier),
            GITHUB_REDIRECT_URI,
        )
        .await
        .unwrap();
    let mallory = oauth.user_info(&enterprise, &tokens, None).await.unwrap();
    assert_eq!(mallory.account_id, "1002");
    assert_eq!(mallory.email.as_deref(), Some("mallory@example.com"));
    assert!(!mallory.email_verified);
    assert_eq!(mallory.name, "mallory", "no name: the login");

    // GitHub answers a used code with 200 and {"error": "bad_verification_code"}.
    let replayed = oauth
        .exchange_code(
            &enterprise,
            &round.code(),
            Some(&round.verifier),
            GITHUB_REDIRECT_URI,
        )
        .await;
    assert!(matches!(replayed, Err(OAuthError::InvalidCode)));
    let native = oauth.verify_id_token(&dotcom, "a.b.c", None).await;
    assert!(matches!(native, Err(OAuthError::IdTokenNotSupported)));
}
