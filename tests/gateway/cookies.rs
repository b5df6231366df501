use serde_json::Value;

use crate::helpers::{TestApp, on_both, secret, set_cookies, token_of};

on_both! {
    async fn a_tampered_cookie_reads_as_no_session_and_leaves_cookies_alone(app: TestApp) {
        let cookie = app.signed_up_cookie("hal@example.com").await;
        let token = token_of(&cookie);
        let forged = format!(
            "better-auth.session_token={}",
            secret().sign_cookie(&token).replace("%3D", "A%3D").replacen('A', "B", 1)
        );
        let unsigned = format!("better-auth.session_token={token}");
        let other_secret = warden_common::AuthSecret::parse("y".repeat(32).into()).unwrap();
        let wrong_key = format!("better-auth.session_token={}", other_secret.sign_cookie(&token));

        for presented in [forged, unsigned, wrong_key] {
            let response = app.get("/api/auth/get-session", Some(&presented)).await;
            assert_eq!(response.status(), 200);
            assert!(set_cookies(response.headers()).is_empty(), "{presented}");
            assert_eq!(response.json::<Value>().await.unwrap(), Value::Null);
        }
    }

    async fn a_well_signed_unknown_token_is_null_with_deletion_cookies(app: TestApp) {
        let cookie = format!("better-auth.session_token={}", secret().sign_cookie("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));

        let response = app.get("/api/auth/get-session", Some(&cookie)).await;

        assert_eq!(response.status(), 200);
        crate::helpers::assert_deletion_cookies(response.headers());
        assert_eq!(response.json::<Value>().await.unwrap(), Value::Null);
    }

    async fn a_bearer_token_signed_or_raw_takes_the_cookies_place(app: TestApp) {
        let response = app.sign_up("ian@example.com").await;
        let signed = response.headers()["set-auth-token"].to_str().unwrap().to_owned();
        let raw = signed.split_once('.').unwrap().0.to_owned();

        for value in [signed.clone(), raw, format!("{}%3D", signed.trim_end_matches('='))] {
            let body: Value = app
                .http
                .get(app.url("/api/auth/get-session"))
                .header("authorization", format!("Bearer {value}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(body["user"]["email"], "ian@example.com", "{value}");
        }
        let tampered = format!("{}x", &signed[..signed.len() - 1]);
        let body: Value = app
            .http
            .get(app.url("/api/auth/get-session"))
            .header("authorization", format!("bearer {tampered}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body, Value::Null);
    }

    async fn the_listed_hash_presented_as_a_cookie_or_bearer_authenticates_nothing(app: TestApp) {
        let cookie = app.signed_up_cookie("jo@example.com").await;
        let listed: Value = app.get("/api/auth/list-sessions", Some(&cookie)).await.json().await.unwrap();
        let hash = listed[0]["token"].as_str().unwrap().to_owned();
        assert_eq!(hash, warden_common::token::hash_token(&token_of(&cookie)));

        let as_cookie = format!("better-auth.session_token={}", secret().sign_cookie(&hash));
        assert_eq!(app.session(&as_cookie).await, Value::Null);
        let as_bearer: Value = app
            .http
            .get(app.url("/api/auth/get-session"))
            .header("authorization", format!("Bearer {hash}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(as_bearer, Value::Null);
    }
}

#[tokio::test]
async fn an_https_base_url_gives_secure_prefixed_cookies() {
    let app =
        TestApp::postgres_with(|config| config.base_url = "https://auth.example".parse().unwrap())
            .await;
    let response = app
        .http
        .post(app.url("/api/auth/sign-up/email"))
        .header("origin", "https://auth.example")
        .json(&serde_json::json!({"name": "K", "email": "k@example.com", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let cookies = set_cookies(response.headers());
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Secure-better-auth.session_token="))
        .unwrap();
    assert!(
        session.ends_with("; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax"),
        "{session}"
    );
    let pair = session.split(';').next().unwrap().replace("__Secure-", "");
    // The plain name is not read in secure mode.
    assert_eq!(app.session(&pair).await, Value::Null);
    let secure_pair = session.split(';').next().unwrap();
    assert_eq!(
        app.session(secure_pair).await["user"]["email"],
        "k@example.com"
    );
}
