//! Social sign-in end to end against a real OpenID Connect provider (npm `oidc-provider`, `interop/providers/`):
//! the authorization URL, the state cookie and its single use, the code exchange with PKCE, the ID token, new users,
//! returning users, Better Auth's account-linking rules, refusals as `?error=` redirects, provider tokens encrypted
//! at rest, and the ID-token sign-in of native apps.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Response;
use serde_json::{Value, json};
use warden_testkit::providers::{OidcProvider, TestClient};

use crate::helpers::{Backend, TestApp, assert_error, session_cookie, set_cookies};

pub(crate) const CLIENT_ID: &str = "warden";
pub(crate) const CLIENT_SECRET: &str = "warden secret";

/// Warden with the provider `oidc` (discovered) pointed at a fresh local provider, on PostgreSQL and Redis.
pub(crate) struct Fixture {
    pub(crate) app: TestApp,
    pub(crate) provider: OidcProvider,
    browser: reqwest::Client,
}

impl Fixture {
    pub(crate) async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    async fn start_with(adjust: impl FnOnce(&mut auth_svc::Config)) -> Self {
        Self::start_full(&[], adjust).await
    }

    /// `provider_args` are more arguments for the provider (`--access-token-ttl 5`).
    pub(crate) async fn start_full(
        provider_args: &[&str],
        adjust: impl FnOnce(&mut auth_svc::Config),
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let native = TestClient {
            id: "native-app".into(),
            secret: "native secret".into(),
            redirect_uris: vec!["http://127.0.0.1/native".into()],
        };
        let warden = TestClient {
            id: CLIENT_ID.into(),
            secret: CLIENT_SECRET.into(),
            redirect_uris: vec![format!("{base_url}/api/auth/callback/oidc")],
        };
        let provider = OidcProvider::start(&[warden, native], provider_args).await;
        let issuer = provider.issuer().to_owned();
        let app = TestApp::postgres_on(
            listener,
            |auth| {
                let env = |name: &str| match name {
                    "OAUTH_OIDC_DISCOVERY_URL" => {
                        Some(format!("{issuer}/.well-known/openid-configuration"))
                    }
                    "OAUTH_OIDC_CLIENT_ID" => Some(CLIENT_ID.into()),
                    "OAUTH_OIDC_CLIENT_SECRET" => Some(CLIENT_SECRET.into()),
                    _ => None,
                };
                let args = auth_svc::core::social::settings::SocialArgs {
                    oauth_providers: "oidc".into(),
                    google_issuer: auth_svc::core::social::settings::GOOGLE_ISSUER.into(),
                    github_base_url: auth_svc::core::social::settings::GITHUB_BASE_URL.into(),
                    ..Default::default()
                };
                auth.social = args.resolve(&env).unwrap();
                adjust(auth);
            },
            |_| {},
            |server, _| server,
        )
        .await;
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            app,
            provider,
            browser,
        }
    }

    /// `POST /sign-in/social` for `oidc` with `body`'s extra fields: the authorization URL and the state cookie pair.
    pub(crate) async fn start_sign_in(&self, body: Value) -> (String, String) {
        let mut request = json!({"provider": "oidc"});
        request
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let response = self
            .app
            .post("/api/auth/sign-in/social", request, None)
            .await;
        assert_eq!(response.status(), 200);
        let cookie = set_cookies(response.headers())
            .into_iter()
            .find(|cookie| cookie.starts_with("better-auth.state="))
            .expect("the state cookie");
        let started: Value = response.json().await.unwrap();
        (
            started["url"].as_str().unwrap().to_owned(),
            cookie.split(';').next().unwrap().to_owned(),
        )
    }

    /// The browser coming back to Warden's callback, with `cookie` when given.
    pub(crate) async fn come_back(&self, callback: &str, cookie: Option<&str>) -> Response {
        let mut request = self.browser.get(callback);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// A whole sign-in as `email`: the callback's answer.
    pub(crate) async fn sign_in_as(&self, email: &str, password: &str, body: Value) -> Response {
        let (url, state_cookie) = self.start_sign_in(body).await;
        let callback = self.provider.sign_in(&url, email, password, true).await;
        self.come_back(&callback, Some(&state_cookie)).await
    }

    pub(crate) async fn rows(&self, sql: &str) -> Vec<serde_json::Map<String, Value>> {
        use sea_orm::{ConnectionTrait, Statement};
        let Backend::Postgres { database_url, .. } = &self.app.backend else {
            unreachable!()
        };
        let db = sea_orm::Database::connect(database_url.as_str())
            .await
            .unwrap();
        let wrapped = format!("select row_to_json(t)::text as row from ({sql}) t");
        db.query_all_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            wrapped,
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            let text: String = row.try_get("", "row").unwrap();
            serde_json::from_str(&text).unwrap()
        })
        .collect()
    }
}

pub(crate) fn location(response: &Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

pub(crate) fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[tokio::test]
async fn a_new_user_signs_in_with_the_provider_and_a_returning_one_lands_on_the_callback_url() {
    let fx = Fixture::start().await;
    let (url, state_cookie) = fx
        .start_sign_in(json!({"callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"}))
        .await;

    // The authorization URL: Better Auth's parameters in its order, PKCE S256 and a nonce.
    let params = query_of(&url);
    let names: Vec<&str> = params.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "response_type",
            "client_id",
            "state",
            "scope",
            "redirect_uri",
            "nonce",
            "code_challenge_method",
            "code_challenge"
        ]
    );
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(param("client_id"), CLIENT_ID);
    assert_eq!(param("scope"), "openid email profile");
    assert_eq!(param("redirect_uri"), fx.app.url("/api/auth/callback/oidc"));
    assert_eq!(param("code_challenge_method"), "S256");
    assert_eq!(param("state").len(), 32);
    // The state cookie holds the same state, signed as Better Auth signs cookies.
    let signed = state_cookie.trim_start_matches("better-auth.state=");
    let signed = percent_encoding::percent_decode_str(signed)
        .decode_utf8()
        .unwrap();
    assert_eq!(
        crate::helpers::secret().verify_cookie(&signed).as_deref(),
        Some(param("state").as_str())
    );

    let callback = fx
        .provider
        .sign_in(&url, "ada@example.com", "ada password", true)
        .await;
    let response = fx.come_back(&callback, Some(&state_cookie)).await;

    assert_eq!(response.status(), 302);
    assert_eq!(location(&response), "/welcome");
    let cookies = set_cookies(response.headers());
    assert_eq!(
        cookies[0],
        "better-auth.state=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    let session = session_cookie(response.headers()).expect("a session cookie");
    let me = fx.app.session(&session).await;
    assert_eq!(me["user"]["email"], "ada@example.com");
    assert_eq!(me["user"]["name"], "Ada Lovelace");
    assert_eq!(me["user"]["emailVerified"], true);

    // The account row: Better Auth's columns, tokens encrypted at rest, the ID token as signed.
    let accounts = fx
        .rows(r#"select "accountId", "providerId", "accessToken", "refreshToken", "idToken", "scope", "accessTokenExpiresAt" from account"#)
        .await;
    assert_eq!(accounts.len(), 1);
    let account = &accounts[0];
    assert_eq!(account["providerId"], "oidc");
    assert_eq!(account["scope"], "openid,email,profile");
    assert!(account["accessTokenExpiresAt"].is_string());
    let access = account["accessToken"].as_str().unwrap();
    let opened = auth_svc::core::sealed::open(&crate::helpers::secret(), access)
        .expect("sealed under the secret");
    assert_ne!(opened, access);
    assert!(account["idToken"].as_str().unwrap().starts_with("eyJ"));
    // The state was used up.
    assert!(
        fx.rows(r#"select 1 from verification where identifier like 'auth-state:%'"#)
            .await
            .is_empty()
    );

    // Returning: the same account, to the callback URL, and no second user.
    let again = fx
        .sign_in_as(
            "ada@example.com",
            "ada password",
            json!({"callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"}),
        )
        .await;
    assert_eq!(location(&again), "/dashboard");
    assert_eq!(fx.rows(r#"select 1 from "user""#).await.len(), 1);
    let listed: Value = fx
        .app
        .get(
            "/api/auth/list-accounts",
            Some(&session_cookie(again.headers()).unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["providerId"], "oidc");
    assert_eq!(listed[0]["scopes"], json!(["openid", "email", "profile"]));
}

#[tokio::test]
async fn the_state_is_bound_to_the_browser_and_used_once() {
    let fx = Fixture::start().await;
    let (url, state_cookie) = fx.start_sign_in(json!({"errorCallbackURL": "/oops"})).await;
    let callback = fx
        .provider
        .sign_in(&url, "grace@example.com", "grace password", true)
        .await;

    // Another browser, without the cookie, or with a forged one: refused, and the state stays for its owner.
    let stranger = fx.come_back(&callback, None).await;
    assert_eq!(location(&stranger), "/oops?error=state_mismatch");
    assert!(set_cookies(stranger.headers()).is_empty());
    let state = query_of(&url)
        .into_iter()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1;
    let forged = format!(
        "better-auth.state={state}.{}",
        URL_SAFE_NO_PAD.encode([7u8; 32])
    );
    assert_eq!(
        location(&fx.come_back(&callback, Some(&forged)).await),
        "/oops?error=state_mismatch"
    );

    let owner = fx.come_back(&callback, Some(&state_cookie)).await;
    // No callbackURL: BASE_URL's origin, as Better Auth writes it.
    assert_eq!(location(&owner), fx.app.base_url);
    assert!(session_cookie(owner.headers()).is_some());

    // Replayed, even by its owner: the state is gone.
    let replay = fx.come_back(&callback, Some(&state_cookie)).await;
    assert_eq!(
        location(&replay),
        fx.app.url("/api/auth/error?error=state_mismatch")
    );
    assert!(session_cookie(replay.headers()).is_none());
}

#[tokio::test]
async fn a_refusal_at_the_provider_or_a_bad_code_comes_back_as_an_error_redirect() {
    let fx = Fixture::start().await;
    let (url, state_cookie) = fx.start_sign_in(json!({"errorCallbackURL": "/oops"})).await;
    let denied = fx
        .provider
        .sign_in(&url, "ada@example.com", "ada password", false)
        .await;
    let response = fx.come_back(&denied, Some(&state_cookie)).await;
    assert_eq!(
        location(&response),
        "/oops?error=access_denied&error_description=End-User+aborted+interaction"
    );
    assert_eq!(
        set_cookies(response.headers()),
        ["better-auth.state=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"]
    );

    let (url, state_cookie) = fx.start_sign_in(json!({})).await;
    let callback = fx
        .provider
        .sign_in(&url, "ada@example.com", "ada password", true)
        .await;
    let tampered = callback.replace("code=", "code=x");
    let response = fx.come_back(&tampered, Some(&state_cookie)).await;
    assert_eq!(
        location(&response),
        fx.app.url("/api/auth/error?error=invalid_code")
    );
    assert!(session_cookie(response.headers()).is_none());

    let (_, state_cookie) = fx.start_sign_in(json!({"errorCallbackURL": "/oops"})).await;
    let state = state_cookie
        .split('=')
        .nth(1)
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    let no_code = fx
        .come_back(
            &fx.app
                .url(&format!("/api/auth/callback/oidc?state={state}")),
            Some(&state_cookie),
        )
        .await;
    assert_eq!(location(&no_code), "/oops?error=no_code");
    assert!(
        fx.rows(r#"select 1 from "user""#).await.is_empty(),
        "nobody was created"
    );
}

#[tokio::test]
async fn an_address_the_provider_does_not_vouch_for_never_links_to_an_existing_user() {
    let fx = Fixture::start().await;
    // mallory@example.com has a password account here; the provider's mallory is not verified there.
    let signed_up = fx.app.sign_up("mallory@example.com").await;
    assert_eq!(signed_up.status(), 200);
    let taken_over = fx
        .sign_in_as(
            "mallory@example.com",
            "mallory password",
            json!({"errorCallbackURL": "/oops"}),
        )
        .await;
    assert_eq!(location(&taken_over), "/oops?error=account_not_linked");
    assert!(session_cookie(taken_over.headers()).is_none());
    let accounts = fx.rows(r#"select "providerId" from account"#).await;
    assert_eq!(accounts.len(), 1, "only the password account");

    // A verified provider address does not link to a local address nobody verified either (Better Auth's
    // requireLocalEmailVerified).
    assert_eq!(fx.app.sign_up("grace@example.com").await.status(), 200);
    let unverified_local = fx
        .sign_in_as("grace@example.com", "grace password", json!({}))
        .await;
    assert_eq!(
        location(&unverified_local),
        fx.app.url("/api/auth/error?error=account_not_linked")
    );

    // Once the local address is verified, the provider's verified account links and signs in as that user.
    use sea_orm::ConnectionTrait;
    let Backend::Postgres { database_url, .. } = &fx.app.backend else {
        unreachable!()
    };
    let db = sea_orm::Database::connect(database_url.as_str())
        .await
        .unwrap();
    db.execute_unprepared(
        r#"update "user" set "emailVerified" = true where email = 'grace@example.com'"#,
    )
    .await
    .unwrap();
    let linked = fx
        .sign_in_as(
            "grace@example.com",
            "grace password",
            json!({"callbackURL": "/home"}),
        )
        .await;
    assert_eq!(location(&linked), "/home");
    let cookie = session_cookie(linked.headers()).unwrap();
    let listed: Value = fx
        .app
        .get("/api/auth/list-accounts", Some(&cookie))
        .await
        .json()
        .await
        .unwrap();
    let providers: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["providerId"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["credential", "oidc"]);

    // With two accounts, one can go (given a fresh session), and the last one cannot.
    let oidc_id = listed[1]["id"].as_str().unwrap();
    let unlinked = fx
        .app
        .post(
            "/api/auth/unlink-account",
            json!({"accountId": oidc_id}),
            Some(&cookie),
        )
        .await;
    assert_eq!(unlinked.status(), 200);
    assert_eq!(
        unlinked.json::<Value>().await.unwrap(),
        json!({"status": true})
    );
    let credential_id = listed[0]["id"].as_str().unwrap();
    let last = fx
        .app
        .post(
            "/api/auth/unlink-account",
            json!({"accountId": credential_id}),
            Some(&cookie),
        )
        .await;
    assert_error(
        last,
        400,
        "FAILED_TO_UNLINK_LAST_ACCOUNT",
        "You can't unlink your last account",
    )
    .await;
}

#[tokio::test]
async fn a_banned_user_is_sent_back_with_better_auths_code_and_no_session() {
    let fx = Fixture::start().await;
    let first = fx
        .sign_in_as("ada@example.com", "ada password", json!({}))
        .await;
    assert!(session_cookie(first.headers()).is_some());
    use sea_orm::ConnectionTrait;
    let Backend::Postgres { database_url, .. } = &fx.app.backend else {
        unreachable!()
    };
    let db = sea_orm::Database::connect(database_url.as_str())
        .await
        .unwrap();
    db.execute_unprepared(r#"update "user" set banned = true where email = 'ada@example.com'"#)
        .await
        .unwrap();

    let banned = fx
        .sign_in_as(
            "ada@example.com",
            "ada password",
            json!({"errorCallbackURL": "/oops"}),
        )
        .await;
    let to = location(&banned);
    assert!(
        to.starts_with("/oops?error=BANNED_USER&error_description=You+have+been+banned"),
        "{to}"
    );
    assert!(session_cookie(banned.headers()).is_none());
}

/// A genuine ID token for `client` from the provider, through a code flow with PKCE and `nonce` (the native app's
/// own sign-in), as ada.
async fn id_token(
    fx: &Fixture,
    client_id: &str,
    secret: &str,
    redirect: &str,
    nonce: Option<&str>,
) -> String {
    id_token_of(fx, "ada", client_id, secret, redirect, nonce).await
}

/// [`id_token`] for the provider's account `name` (`ada`, `grace`, `mallory`).
pub(crate) async fn id_token_of(
    fx: &Fixture,
    name: &str,
    client_id: &str,
    secret: &str,
    redirect: &str,
    nonce: Option<&str>,
) -> String {
    fx.provider
        .id_token((client_id, secret), redirect, name, nonce)
        .await
}

#[tokio::test]
async fn a_native_app_signs_in_with_an_id_token_once_and_only_one_meant_for_warden() {
    let fx = Fixture::start().await;
    let redirect = "http://127.0.0.1/native";
    // An ID token for Warden's client id, bound to a nonce the app chose.
    let token = id_token(
        &fx,
        "warden",
        CLIENT_SECRET,
        &format!("{}/api/auth/callback/oidc", fx.app.base_url),
        Some("n-1"),
    )
    .await;
    let post = |body: Value| fx.app.post("/api/auth/sign-in/social", body, None);
    let response =
        post(json!({"provider": "oidc", "idToken": {"token": token, "nonce": "n-1"}})).await;
    assert_eq!(response.status(), 200);
    assert!(session_cookie(response.headers()).is_some());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["redirect"], false);
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert!(body.get("url").is_none());

    // The wrong nonce, or a token minted for another client (audience), does not verify.
    let wrong_nonce =
        post(json!({"provider": "oidc", "idToken": {"token": token, "nonce": "n-2"}})).await;
    assert_error(wrong_nonce, 401, "INVALID_TOKEN", "Invalid token").await;
    let foreign = id_token(&fx, "native-app", "native secret", redirect, None).await;
    let response = post(json!({"provider": "oidc", "idToken": {"token": foreign}})).await;
    assert_error(response, 401, "INVALID_TOKEN", "Invalid token").await;
    let mut forged = token.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    let response =
        post(json!({"provider": "oidc", "idToken": {"token": forged, "nonce": "n-1"}})).await;
    assert_error(response, 401, "INVALID_TOKEN", "Invalid token").await;

    // Without a nonce a token is taken once only.
    let bare = id_token(
        &fx,
        "warden",
        CLIENT_SECRET,
        &format!("{}/api/auth/callback/oidc", fx.app.base_url),
        None,
    )
    .await;
    assert_eq!(
        post(json!({"provider": "oidc", "idToken": {"token": bare}}))
            .await
            .status(),
        200
    );
    let replay = post(json!({"provider": "oidc", "idToken": {"token": bare}})).await;
    assert_error(replay, 401, "INVALID_TOKEN", "Invalid token").await;
}
