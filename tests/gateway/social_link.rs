//! Linking a provider account to a signed-in user (`link-social`, both forms) and the provider tokens of linked
//! accounts (`get-access-token`, `refresh-token`, `account-info`), against the real OpenID Connect provider of
//! `social_flow`.

use serde_json::{Value, json};

use crate::helpers::{Backend, assert_error, session_cookie, set_cookies};
use crate::social_flow::{CLIENT_SECRET, Fixture, id_token_of, location};

impl Fixture {
    /// `POST /link-social` for `oidc` as the holder of `cookie`: the authorization URL and the state cookie pair.
    async fn start_link(&self, cookie: &str, body: Value) -> (String, String) {
        let mut request = json!({"provider": "oidc"});
        request
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let response = self
            .app
            .post("/api/auth/link-social", request, Some(cookie))
            .await;
        assert_eq!(response.status(), 200);
        let state = set_cookies(response.headers())
            .into_iter()
            .find(|cookie| cookie.starts_with("better-auth.state="))
            .expect("the state cookie");
        let started: Value = response.json().await.unwrap();
        assert_eq!(started["redirect"], true);
        (
            started["url"].as_str().unwrap().to_owned(),
            state.split(';').next().unwrap().to_owned(),
        )
    }

    /// A whole link flow: the holder of `cookie` links the provider's account `name`; the callback's answer.
    async fn link_as(&self, cookie: &str, name: &str, body: Value) -> reqwest::Response {
        let (url, state) = self.start_link(cookie, body).await;
        let back = self
            .provider
            .sign_in(
                &url,
                &format!("{name}@example.com"),
                &format!("{name} password"),
                true,
            )
            .await;
        self.come_back(&back, Some(&format!("{state}; {cookie}")))
            .await
    }

    async fn providers_of(&self, cookie: &str) -> Vec<String> {
        let listed: Value = self
            .app
            .get("/api/auth/list-accounts", Some(cookie))
            .await
            .json()
            .await
            .unwrap();
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|account| account["providerId"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn execute(&self, sql: &str) {
        use sea_orm::ConnectionTrait;
        let Backend::Postgres { database_url, .. } = &self.app.backend else {
            unreachable!()
        };
        let db = sea_orm::Database::connect(database_url.as_str())
            .await
            .unwrap();
        db.execute_unprepared(sql).await.unwrap();
    }

    /// An ID token for Warden's client, issued to the provider's account `name`.
    async fn id_token_for(&self, name: &str, nonce: Option<&str>) -> String {
        let redirect = self.app.url("/api/auth/callback/oidc");
        id_token_of(self, name, "warden", CLIENT_SECRET, &redirect, nonce).await
    }
}

#[tokio::test]
async fn a_signed_in_user_links_their_provider_account_and_no_session_is_opened() {
    let fx = Fixture::start().await;
    let ada = fx.app.signed_up_cookie("ada@example.com").await;

    // Without a session there is nothing to link to.
    let anonymous = fx
        .app
        .post("/api/auth/link-social", json!({"provider": "oidc"}), None)
        .await;
    assert_error(anonymous, 401, "UNAUTHORIZED", "Unauthorized").await;
    // Nor does a link send the browser anywhere but to a trusted origin afterwards.
    for (field, code, message) in [
        ("callbackURL", "INVALID_CALLBACK_URL", "Invalid callbackURL"),
        (
            "errorCallbackURL",
            "INVALID_ERROR_CALLBACK_URL",
            "Invalid errorCallbackURL",
        ),
    ] {
        let elsewhere = fx
            .app
            .post(
                "/api/auth/link-social",
                json!({"provider": "oidc", field: "https://evil.example/"}),
                Some(&ada),
            )
            .await;
        assert_error(elsewhere, 403, code, message).await;
    }
    assert_eq!(
        fx.rows(r#"select 1 from verification"#).await.len(),
        0,
        "no state stored for a refused link"
    );

    // The state row carries the user and the session, encrypted, as Better Auth's does.
    let (url, state) = fx
        .start_link(&ada, json!({"callbackURL": "/settings"}))
        .await;
    let rows = fx
        .rows(r#"select value from verification where identifier like 'auth-state:%'"#)
        .await;
    let value: Value = serde_json::from_str(rows[0]["value"].as_str().unwrap()).unwrap();
    assert_eq!(value["link"]["email"], "ada@example.com");
    let sealed = value["link"]["encryptedSessionToken"].as_str().unwrap();
    let raw = ada.split_once('=').unwrap().1;
    assert!(!sealed.contains(raw.split('.').next().unwrap()));

    let back = fx
        .provider
        .sign_in(&url, "ada@example.com", "ada password", true)
        .await;
    let linked = fx.come_back(&back, Some(&format!("{state}; {ada}"))).await;
    assert_eq!(linked.status(), 302);
    assert_eq!(location(&linked), "/settings");
    assert_eq!(
        set_cookies(linked.headers()),
        ["better-auth.state=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"],
        "a link sets no session cookie"
    );
    assert_eq!(fx.providers_of(&ada).await, ["credential", "oidc"]);
    assert_eq!(fx.rows(r#"select 1 from session"#).await.len(), 1);
    let accounts = fx
        .rows(r#"select "accessToken", scope from account where "providerId" = 'oidc'"#)
        .await;
    assert_eq!(accounts[0]["scope"], "openid,email,profile");
    let sealed = accounts[0]["accessToken"].as_str().unwrap();
    assert!(auth_svc::core::sealed::open(&crate::helpers::secret(), sealed).is_some());

    // Linking the same account again updates it and still succeeds.
    let again = fx
        .link_as(&ada, "ada", json!({"callbackURL": "/settings"}))
        .await;
    assert_eq!(location(&again), "/settings");
    assert_eq!(fx.providers_of(&ada).await, ["credential", "oidc"]);

    // And the linked account signs in as ada.
    let signed_in = fx
        .sign_in_as("ada@example.com", "ada password", json!({}))
        .await;
    let cookie = session_cookie(signed_in.headers()).expect("signed in");
    assert_eq!(
        fx.app.session(&cookie).await["user"]["email"],
        "ada@example.com"
    );
}

#[tokio::test]
async fn a_link_is_refused_for_another_address_an_unvouched_one_another_owner_or_a_gone_session() {
    let fx = Fixture::start().await;
    let ada = fx.app.signed_up_cookie("ada@example.com").await;
    let errors = json!({"callbackURL": "/settings", "errorCallbackURL": "/link-error"});

    // grace's provider account is not ada's address.
    let other = fx.link_as(&ada, "grace", errors.clone()).await;
    assert_eq!(location(&other), "/link-error?error=email_does_not_match");
    // mallory's address is not verified at the provider: never linked, whoever asks.
    let mallory = fx.app.signed_up_cookie("mallory@example.com").await;
    let unvouched = fx.link_as(&mallory, "mallory", errors.clone()).await;
    assert_eq!(
        location(&unvouched),
        "/link-error?error=unable_to_link_account"
    );

    // Signing out between the two halves abandons the link.
    let (url, state) = fx.start_link(&ada, errors.clone()).await;
    let back = fx
        .provider
        .sign_in(&url, "ada@example.com", "ada password", true)
        .await;
    let signed_out = fx
        .app
        .post("/api/auth/sign-out", json!({}), Some(&ada))
        .await;
    assert_eq!(signed_out.status(), 200);
    let gone = fx.come_back(&back, Some(&format!("{state}; {ada}"))).await;
    assert_eq!(location(&gone), "/link-error?error=unable_to_link_account");

    // The provider account belongs to a user who has since changed address; the new holder of the address cannot
    // take it over.
    fx.execute(
        r#"update "user" set email = 'ada-first@example.com' where email = 'ada@example.com'"#,
    )
    .await;
    let ada = fx.app.signed_up_cookie("ada2@example.com").await;
    fx.execute(r#"update "user" set email = 'ada@example.com' where email = 'ada2@example.com'"#)
        .await;
    let linked = fx
        .link_as(&ada, "ada", json!({"callbackURL": "/settings"}))
        .await;
    assert_eq!(location(&linked), "/settings");
    fx.execute(
        r#"update "user" set email = 'ada-old@example.com' where email = 'ada@example.com'"#,
    )
    .await;
    let newcomer = fx
        .app
        .post(
            "/api/auth/sign-up/email",
            json!({"name": "Ada", "email": "ada@example.com", "password": "another password"}),
            None,
        )
        .await;
    let newcomer = session_cookie(newcomer.headers()).unwrap();
    let taken = fx.link_as(&newcomer, "ada", errors).await;
    assert_eq!(
        location(&taken),
        "/link-error?error=account_already_linked_to_different_user"
    );
    assert_eq!(fx.providers_of(&newcomer).await, ["credential"]);
    assert_eq!(
        fx.rows(r#"select 1 from account where "providerId" = 'oidc'"#)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_native_app_links_with_an_id_token_under_better_auths_rules() {
    let fx = Fixture::start().await;
    let ada = fx.app.signed_up_cookie("ada@example.com").await;
    let link = |cookie: &str, token: &str, nonce: Option<&str>| {
        let mut id_token = json!({"token": token});
        if let Some(nonce) = nonce {
            id_token["nonce"] = json!(nonce);
        }
        let (app, cookie) = (&fx.app, cookie.to_owned());
        async move {
            app.post(
                "/api/auth/link-social",
                json!({"provider": "oidc", "idToken": id_token}),
                Some(&cookie),
            )
            .await
        }
    };
    let token = fx.id_token_for("ada", Some("n-1")).await;
    let linked = link(&ada, &token, Some("n-1")).await;
    assert_eq!(linked.status(), 200);
    assert!(session_cookie(linked.headers()).is_none());
    assert_eq!(
        linked.json::<Value>().await.unwrap(),
        json!({"url": "", "status": true, "redirect": false})
    );
    assert_eq!(fx.providers_of(&ada).await, ["credential", "oidc"]);
    // The same account again: updated, not doubled.
    assert_eq!(link(&ada, &token, Some("n-1")).await.status(), 200);
    assert_eq!(fx.providers_of(&ada).await, ["credential", "oidc"]);

    // Another user cannot take the account; a wrong nonce does not verify.
    let grace = fx.app.signed_up_cookie("grace@example.com").await;
    assert_error(
        link(&grace, &token, Some("n-1")).await,
        409,
        "SOCIAL_ACCOUNT_ALREADY_LINKED",
        "Social account already linked",
    )
    .await;
    assert_error(
        link(&ada, &token, Some("n-2")).await,
        401,
        "INVALID_TOKEN",
        "Invalid token",
    )
    .await;
    // Another address, and an address the provider did not verify.
    let graces = fx.id_token_for("grace", Some("n-3")).await;
    let someone = fx.app.signed_up_cookie("someone@example.com").await;
    assert_error(
        link(&someone, &graces, Some("n-3")).await,
        401,
        "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED",
        "Account not linked - different emails not allowed",
    )
    .await;
    let mallory = fx.app.signed_up_cookie("mallory@example.com").await;
    let malloys = fx.id_token_for("mallory", None).await;
    assert_error(
        link(&mallory, &malloys, None).await,
        401,
        "LINKING_NOT_ALLOWED",
        "Account not linked - linking not allowed",
    )
    .await;
    assert_eq!(fx.providers_of(&mallory).await, ["credential"]);

    // grace links her own token once; without a nonce it is not taken twice.
    let graces = fx.id_token_for("grace", None).await;
    assert_eq!(link(&grace, &graces, None).await.status(), 200);
    assert_error(
        link(&grace, &graces, None).await,
        401,
        "INVALID_TOKEN",
        "Invalid token",
    )
    .await;
}

#[tokio::test]
async fn provider_tokens_are_handed_out_refreshed_when_expiring_and_read_back_from_better_auths_rows()
 {
    let fx = Fixture::start().await;
    let signed_in = fx
        .sign_in_as("ada@example.com", "ada password", json!({}))
        .await;
    let ada = session_cookie(signed_in.headers()).unwrap();
    let rows = fx
        .rows(r#"select id, "accessToken", "refreshToken", "idToken" from account"#)
        .await;
    let account_id = rows[0]["id"].as_str().unwrap().to_owned();
    let secret = crate::helpers::secret();
    let open =
        |text: &Value| auth_svc::core::sealed::open(&secret, text.as_str().unwrap()).unwrap();
    let stored_access = open(&rows[0]["accessToken"]);
    let stored_refresh = open(&rows[0]["refreshToken"]);
    let post = |path: &'static str, body: Value, cookie: Option<String>| {
        let fx = &fx;
        async move { fx.app.post(path, body, cookie.as_deref()).await }
    };

    // A token that is still valid comes back as stored, and works at the provider.
    let answer = post(
        "/api/auth/get-access-token",
        json!({"accountId": account_id}),
        Some(ada.clone()),
    )
    .await;
    assert_eq!(answer.status(), 200);
    let text = answer.text().await.unwrap();
    assert_keys_in_order(
        &text,
        &["accessToken", "accessTokenExpiresAt", "scopes", "idToken"],
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["accessToken"], stored_access.as_str());
    assert_eq!(body["scopes"], json!(["openid", "email", "profile"]));
    assert_eq!(body["idToken"], rows[0]["idToken"]);
    let userinfo = |token: String| {
        let issuer = fx.provider.issuer().to_owned();
        async move {
            reqwest::Client::new()
                .get(format!("{issuer}/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(userinfo(stored_access.clone()).await, 200);

    // About to expire: refreshed at the provider first, and the new tokens stored sealed.
    fx.execute(r#"update account set "accessTokenExpiresAt" = now() + interval '2 seconds'"#)
        .await;
    let answer: Value = post(
        "/api/auth/get-access-token",
        json!({"accountId": account_id}),
        Some(ada.clone()),
    )
    .await
    .json()
    .await
    .unwrap();
    let fresh = answer["accessToken"].as_str().unwrap().to_owned();
    assert_ne!(fresh, stored_access);
    assert_eq!(userinfo(fresh.clone()).await, 200);
    let rows_now = fx
        .rows(r#"select "accessToken", "accessTokenExpiresAt" > now() + interval '1 minute' as later from account"#)
        .await;
    assert_eq!(open(&rows_now[0]["accessToken"]), fresh);
    assert_eq!(rows_now[0]["later"], true);

    // refresh-token always refreshes, and answers Better Auth's shape.
    let refreshed = post(
        "/api/auth/refresh-token",
        json!({"accountId": account_id}),
        Some(ada.clone()),
    )
    .await;
    assert_eq!(refreshed.status(), 200);
    let text = refreshed.text().await.unwrap();
    assert_keys_in_order(
        &text,
        &[
            "accessToken",
            "refreshToken",
            "accessTokenExpiresAt",
            "refreshTokenExpiresAt",
            "scope",
            "idToken",
            "providerId",
            "accountId",
        ],
    );
    let refreshed: Value = serde_json::from_str(&text).unwrap();
    assert_ne!(refreshed["accessToken"], fresh.as_str());
    assert_eq!(refreshed["refreshToken"], stored_refresh.as_str());
    assert_eq!(refreshed["refreshTokenExpiresAt"], Value::Null);
    assert_eq!(refreshed["scope"], "openid,email,profile");
    assert_eq!(refreshed["providerId"], "oidc");
    assert_eq!(refreshed["accountId"], account_id.as_str());

    // account-info asks the provider (here: the ID token's claims).
    let info = fx
        .app
        .get(
            &format!("/api/auth/account-info?accountId={account_id}"),
            Some(&ada),
        )
        .await;
    assert_eq!(info.status(), 200);
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["user"]["email"], "ada@example.com");
    assert_eq!(info["user"]["emailVerified"], true);
    assert_eq!(info["user"]["name"], "Ada Lovelace");
    assert_eq!(info["data"]["sub"], "ada");
    assert_eq!(
        info["account"],
        json!({"id": account_id, "providerId": "oidc", "accountId": "ada"})
    );

    // Rows Better Auth stored in plain text read back as they are.
    fx.execute(r#"update account set "accessToken" = 'plain-access-token-XYZ', "accessTokenExpiresAt" = null"#)
        .await;
    let plain: Value = post(
        "/api/auth/get-access-token",
        json!({"accountId": account_id}),
        Some(ada.clone()),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(plain["accessToken"], "plain-access-token-XYZ");
    assert!(plain.get("accessTokenExpiresAt").is_none());
}

#[tokio::test]
async fn provider_token_routes_refuse_as_better_auth_does() {
    let fx = Fixture::start().await;
    let signed_in = fx
        .sign_in_as("ada@example.com", "ada password", json!({}))
        .await;
    let ada = session_cookie(signed_in.headers()).unwrap();
    let account_id = fx.rows(r#"select id from account"#).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for path in ["/api/auth/get-access-token", "/api/auth/refresh-token"] {
        // No session: a bare 401.
        let anonymous = fx
            .app
            .post(path, json!({"accountId": account_id}), None)
            .await;
        assert_eq!(anonymous.status(), 401);
        assert_eq!(anonymous.text().await.unwrap(), "");
        for (body, message) in [
            (json!({}), "[body] Invalid input"),
            (json!({"providerId": "oidc"}), "[body] Invalid input"),
            (
                json!({"accountId": account_id, "extra": 1}),
                "[body] Unrecognized key: \"extra\"",
            ),
        ] {
            assert_error(
                fx.app.post(path, body, Some(&ada)).await,
                400,
                "VALIDATION_ERROR",
                message,
            )
            .await;
        }
        for body in [
            json!({"accountId": "ada"}),
            json!({"accountId": "nope"}),
            // No row has an id PostgreSQL cannot even compare.
            json!({"accountId": "no\u{0}pe"}),
            json!({"useAccountCookie": true}),
        ] {
            assert_error(
                fx.app.post(path, body, Some(&ada)).await,
                400,
                "ACCOUNT_NOT_FOUND",
                "Account not found",
            )
            .await;
        }
    }
    // Another user's account is as unknown as a missing one.
    let grace = fx.app.signed_up_cookie("grace@example.com").await;
    assert_error(
        fx.app
            .post(
                "/api/auth/get-access-token",
                json!({"accountId": account_id}),
                Some(&grace),
            )
            .await,
        400,
        "ACCOUNT_NOT_FOUND",
        "Account not found",
    )
    .await;
    // A password account has no provider.
    let credential = fx.rows(r#"select a.id from account a join "user" u on u.id = a."userId" where u.email = 'grace@example.com'"#).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        fx.app
            .post(
                "/api/auth/get-access-token",
                json!({"accountId": credential}),
                Some(&grace),
            )
            .await,
        400,
        "PROVIDER_NOT_SUPPORTED",
        "Provider credential is not supported.",
    )
    .await;
    assert_error(
        fx.app
            .get(
                &format!("/api/auth/account-info?accountId={credential}"),
                Some(&grace),
            )
            .await,
        400,
        "PROVIDER_NOT_CONFIGURED",
        "Account is not associated with a configured social provider.",
    )
    .await;

    // A refresh token the provider refuses, and none at all.
    fx.execute(r#"update account set "refreshToken" = 'not-a-refresh-token', "accessTokenExpiresAt" = now() - interval '1 minute' where "providerId" = 'oidc'"#)
        .await;
    assert_error(
        fx.app
            .post(
                "/api/auth/get-access-token",
                json!({"accountId": account_id}),
                Some(&ada),
            )
            .await,
        400,
        "FAILED_TO_GET_ACCESS_TOKEN",
        "Failed to get a valid access token",
    )
    .await;
    assert_error(
        fx.app
            .post(
                "/api/auth/refresh-token",
                json!({"accountId": account_id}),
                Some(&ada),
            )
            .await,
        400,
        "FAILED_TO_REFRESH_ACCESS_TOKEN",
        "Failed to refresh access token",
    )
    .await;
    fx.execute(r#"update account set "refreshToken" = null where "providerId" = 'oidc'"#)
        .await;
    assert_error(
        fx.app
            .post(
                "/api/auth/refresh-token",
                json!({"accountId": account_id}),
                Some(&ada),
            )
            .await,
        400,
        "REFRESH_TOKEN_NOT_FOUND",
        "Refresh token not found",
    )
    .await;
    // Expired without a refresh token: handed out as it is.
    let expired = fx
        .app
        .post(
            "/api/auth/get-access-token",
            json!({"accountId": account_id}),
            Some(&ada),
        )
        .await;
    assert_eq!(expired.status(), 200);

    // account-info: the query is Better Auth's selection too.
    assert_error(
        fx.app.get("/api/auth/account-info", Some(&ada)).await,
        400,
        "VALIDATION_ERROR",
        "[query] Invalid input",
    )
    .await;
    let anonymous = fx
        .app
        .get(
            &format!("/api/auth/account-info?accountId={account_id}"),
            None,
        )
        .await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.text().await.unwrap(), "");
    assert_error(
        fx.app
            .get("/api/auth/account-info?accountId=no%00pe", Some(&ada))
            .await,
        400,
        "ACCOUNT_NOT_FOUND",
        "Account not found",
    )
    .await;
    let unlink = fx
        .app
        .post(
            "/api/auth/unlink-account",
            json!({"providerId": "oidc", "accountId": "no\u{0}pe"}),
            Some(&ada),
        )
        .await;
    assert!(unlink.status().is_client_error(), "{}", unlink.status());
}

/// Better Auth's JSON keeps its keys in the order its handlers write them; clients that print or hash the body see it.
fn assert_keys_in_order(text: &str, keys: &[&str]) {
    let at: Vec<usize> = keys
        .iter()
        .map(|key| {
            text.find(&format!("\"{key}\":"))
                .unwrap_or_else(|| panic!("{key} missing in {text}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|pair| pair[0] < pair[1]),
        "keys out of order in {text}"
    );
}
