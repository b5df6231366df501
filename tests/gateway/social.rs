//! Social sign-in and linked accounts over REST, as Better Auth 1.7.25 answers
//! (`docs/reference/better-auth-social-wire.md`). These cases need no provider; the flows against real ones are in
//! `social_flow.rs`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{assert_error, on_both};

on_both! {
    async fn a_password_user_lists_the_credential_account_in_better_auths_shape(app: TestApp) {
        let cookie = app.signed_up_cookie("accounts@example.com").await;
        let user_id = app.user_id(&cookie).await;

        let response = app.get("/api/auth/list-accounts", Some(&cookie)).await;

        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("{key} in {text}"));
        let order = ["accountId", "providerId", "userId", "createdAt", "updatedAt", "id", "scopes"].map(at);
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "Better Auth's key order: {text}");
        let accounts: Value = serde_json::from_str(&text).unwrap();
        let accounts = accounts.as_array().unwrap();
        assert_eq!(accounts.len(), 1);
        let account = accounts[0].as_object().unwrap();
        assert_eq!(account.len(), 7);
        assert_eq!(account["providerId"], "credential");
        assert_eq!(account["accountId"], user_id.as_str());
        assert_eq!(account["userId"], user_id.as_str());
        assert_eq!(account["scopes"], json!([]));
        assert!(account.get("password").is_none() && account.get("accessToken").is_none());

        assert_error(app.get("/api/auth/list-accounts", None).await, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn the_last_account_cannot_be_unlinked_and_a_missing_one_is_not_found(app: TestApp) {
        let cookie = app.signed_up_cookie("last@example.com").await;
        let accounts: Value = app.get("/api/auth/list-accounts", Some(&cookie)).await.json().await.unwrap();
        let id = accounts[0]["id"].as_str().unwrap().to_owned();

        for account_id in [id.as_str(), "no-such-account"] {
            let response = app.post("/api/auth/unlink-account", json!({"accountId": account_id}), Some(&cookie)).await;
            assert_error(response, 400, "FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account").await;
        }
        let old_body = app.post("/api/auth/unlink-account", json!({"providerId": "google"}), Some(&cookie)).await;
        assert_error(
            old_body,
            400,
            "VALIDATION_ERROR",
            "[body.accountId] Invalid input: expected string, received undefined",
        )
        .await;
        let listed: Value = app.get("/api/auth/list-accounts", Some(&cookie)).await.json().await.unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1, "nothing was removed");
        let anonymous = app.post("/api/auth/unlink-account", json!({"accountId": id}), None).await;
        assert_error(anonymous, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn sign_in_social_refuses_what_better_auth_refuses_before_any_provider(app: TestApp) {
        let post = |body: Value| app.post("/api/auth/sign-in/social", body, None);
        assert_error(post(json!({})).await, 400, "VALIDATION_ERROR", "[body.provider] Invalid input").await;
        assert_error(post(json!({"provider": 5})).await, 400, "VALIDATION_ERROR", "[body.provider] Invalid input").await;
        assert_error(
            post(json!({"provider": "google", "scopes": "email"})).await,
            400,
            "VALIDATION_ERROR",
            "[body.scopes] Invalid input: expected array, received string",
        )
        .await;
        assert_error(
            post(json!({"provider": "google", "disableRedirect": "true"})).await,
            400,
            "VALIDATION_ERROR",
            "[body.disableRedirect] Invalid input: expected boolean, received string",
        )
        .await;
        assert_error(
            post(json!({"provider": "google", "additionalParams": {"a": 1}})).await,
            400,
            "VALIDATION_ERROR",
            "[body.additionalParams.a] Invalid input: expected string, received number",
        )
        .await;
        assert_error(
            post(json!({"provider": "google", "callbackURL": "https://evil.example/"})).await,
            403,
            "INVALID_CALLBACK_URL",
            "Invalid callbackURL",
        )
        .await;
        assert_error(
            post(json!({"provider": "google", "errorCallbackURL": "https://evil.example/"})).await,
            403,
            "INVALID_ERROR_CALLBACK_URL",
            "Invalid errorCallbackURL",
        )
        .await;
        assert_error(
            post(json!({"provider": "google", "newUserCallbackURL": "//evil.example/"})).await,
            403,
            "INVALID_NEW_USER_CALLBACK_URL",
            "Invalid newUserCallbackURL",
        )
        .await;
        // No provider is configured here.
        assert_error(post(json!({"provider": "google"})).await, 404, "PROVIDER_NOT_FOUND", "Provider not found").await;
        let get = app.request(Method::GET, "/api/auth/sign-in/social", None).send().await.unwrap();
        assert_eq!(get.status(), 404);
    }

    async fn a_callback_without_a_state_goes_to_the_error_page(app: TestApp) {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for query in ["", "?code=abc"] {
            let response = client.get(app.url(&format!("/api/auth/callback/google{query}"))).send().await.unwrap();
            assert_eq!(response.status(), 302);
            assert_eq!(
                response.headers()["location"],
                app.url("/api/auth/error?error=state_not_found").as_str()
            );
            assert!(response.headers().get("set-cookie").is_none());
        }
        let unknown = client.get(app.url("/api/auth/callback/google?state=unknown&code=abc")).send().await.unwrap();
        assert_eq!(unknown.status(), 302);
        assert_eq!(unknown.headers()["location"], app.url("/api/auth/error?error=state_mismatch").as_str());
        let twice = client.get(app.url("/api/auth/callback/google?state=a&state=b")).send().await.unwrap();
        assert_error(twice, 400, "VALIDATION_ERROR", "[query.state] Invalid input: expected string, received array").await;
    }

    async fn a_form_post_callback_is_sent_to_the_get_form_with_its_parameters_in_order(app: TestApp) {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = client
            .post(app.url("/api/auth/callback/oidc?iss=q"))
            .form(&[("state", "st"), ("code", "cd"), ("extra", "zz")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        assert_eq!(response.headers()["location"], app.url("/api/auth/callback/oidc?code=cd&state=st&iss=q").as_str());
    }
}

on_both! {
    async fn an_id_token_sign_in_is_validated_before_any_provider(app: TestApp) {
        let post = |body: Value| app.post("/api/auth/sign-in/social", body, None);
        assert_error(
            post(json!({"provider": "google", "idToken": {}})).await,
            400,
            "VALIDATION_ERROR",
            "[body.idToken.token] Invalid input: expected string, received undefined",
        )
        .await;
        assert_error(
            post(json!({"provider": "google", "idToken": "eyJ"})).await,
            400,
            "VALIDATION_ERROR",
            "[body.idToken] Invalid input: expected object, received string",
        )
        .await;
        assert_error(
            post(json!({"provider": "google", "idToken": {"token": "eyJ.a.b"}})).await,
            404,
            "PROVIDER_NOT_FOUND",
            "Provider not found",
        )
        .await;
    }
}
