use serde_json::{Value, json};

use crate::helpers::{PASSWORD, on_both, secret, session_cookie, set_cookies, token_of};

fn assert_iso_millis(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a date string"));
    // toISOString(): 2026-11-23T11:08:21.797Z
    assert_eq!(text.len(), 24, "{text}");
    assert!(text.ends_with('Z') && text.as_bytes()[19] == b'.', "{text}");
}

fn assert_user_shape(user: &Value, email: &str) {
    let keys: Vec<_> = user.as_object().unwrap().keys().cloned().collect();
    for key in [
        "id",
        "name",
        "email",
        "emailVerified",
        "image",
        "createdAt",
        "updatedAt",
        "role",
        "banned",
        "banReason",
        "banExpires",
    ] {
        assert!(keys.contains(&key.to_owned()), "user lacks {key}: {user}");
    }
    assert_eq!(user["email"], email);
    assert_eq!(user["emailVerified"], false);
    assert_eq!(user["image"], Value::Null);
    assert_eq!(user["role"], "user");
    assert_eq!(user["banned"], false);
    assert_eq!(user["banReason"], Value::Null);
    assert_eq!(user["banExpires"], Value::Null);
    assert_iso_millis(&user["createdAt"]);
    assert_iso_millis(&user["updatedAt"]);
}

on_both! {
    async fn ok_answers_true(app: TestApp) {
        let response = app.get("/api/auth/ok", None).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"ok": true}));
    }

    async fn sign_up_returns_token_and_user_and_sets_the_signed_cookie(app: TestApp) {
        let response = app.sign_up("Ada@Example.com").await;

        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        let body: Value = response.json().await.unwrap();
        let token = body["token"].as_str().unwrap().to_owned();
        assert_eq!(token.len(), 32);
        assert_user_shape(&body["user"], "ada@example.com");
        let cookie = set_cookies(&headers)
            .into_iter()
            .find(|c| c.starts_with("better-auth.session_token="))
            .unwrap();
        assert_eq!(
            cookie,
            format!(
                "better-auth.session_token={}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax",
                secret().sign_cookie(&token)
            )
        );
        assert_eq!(headers["set-auth-token"], secret().sign(&token).as_str());
        let exposed = headers["access-control-expose-headers"].to_str().unwrap().to_lowercase();
        assert!(exposed.contains("set-auth-token"), "{exposed}");
    }

    async fn sign_in_returns_redirect_false_token_and_user(app: TestApp) {
        app.sign_up("bea@example.com").await;

        let response = app.sign_in("BEA@example.com", PASSWORD).await;

        assert_eq!(response.status(), 200);
        let cookie = session_cookie(response.headers()).unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["redirect"], false);
        assert_eq!(body["token"].as_str().unwrap(), token_of(&cookie));
        assert_user_shape(&body["user"], "bea@example.com");
        assert!(body.get("url").is_none());
    }

    async fn sign_in_with_a_callback_url_redirects_in_the_body_and_location(app: TestApp) {
        app.sign_up("cy@example.com").await;

        let response = app
            .post(
                "/api/auth/sign-in/email",
                json!({"email": "cy@example.com", "password": PASSWORD, "callbackURL": "/dashboard"}),
                None,
            )
            .await;

        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["location"], "/dashboard");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["redirect"], true);
        assert_eq!(body["url"], "/dashboard");
    }

    async fn sign_in_and_sign_up_accept_form_bodies(app: TestApp) {
        let up = app
            .http
            .post(app.url("/api/auth/sign-up/email"))
            .header("origin", &app.base_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=Dee&email=dee%40example.com&password=correct+horse+battery")
            .send()
            .await
            .unwrap();
        assert_eq!(up.status(), 200);

        let response = app
            .http
            .post(app.url("/api/auth/sign-in/email"))
            .header("origin", &app.base_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=dee%40example.com&password=correct+horse+battery")
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 200);
        assert!(session_cookie(response.headers()).is_some());
    }

    async fn remember_me_false_sets_a_session_cookie_and_dont_remember(app: TestApp) {
        app.sign_up("eve@example.com").await;

        let response = app
            .post(
                "/api/auth/sign-in/email",
                json!({"email": "eve@example.com", "password": PASSWORD, "rememberMe": false}),
                None,
            )
            .await;

        assert_eq!(response.status(), 200);
        let cookies = set_cookies(response.headers());
        let session = cookies.iter().find(|c| c.starts_with("better-auth.session_token=")).unwrap();
        assert!(!session.contains("Max-Age"), "{session}");
        let dont_remember = cookies.iter().find(|c| c.starts_with("better-auth.dont_remember=")).unwrap();
        assert!(dont_remember.starts_with(&format!("better-auth.dont_remember={};", secret().sign_cookie("true"))));
        assert!(!dont_remember.contains("Max-Age"));
    }

    async fn get_session_returns_session_and_user_and_is_not_cached(app: TestApp) {
        let cookie = app.signed_up_cookie("fin@example.com").await;

        let response = app.get("/api/auth/get-session", Some(&cookie)).await;

        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["pragma"], "no-cache");
        let body: Value = response.json().await.unwrap();
        let session = &body["session"];
        assert_eq!(session["token"].as_str().unwrap(), token_of(&cookie));
        assert_eq!(session["userId"], body["user"]["id"]);
        for key in ["id", "expiresAt", "ipAddress", "userAgent", "createdAt", "updatedAt", "impersonatedBy"] {
            assert!(session.get(key).is_some(), "session lacks {key}: {session}");
        }
        assert_eq!(session["impersonatedBy"], Value::Null);
        assert_eq!(session["ipAddress"], "127.0.0.1");
        assert_iso_millis(&session["expiresAt"]);
        assert_user_shape(&body["user"], "fin@example.com");
    }

    async fn get_session_without_a_cookie_is_null(app: TestApp) {
        let response = app.get("/api/auth/get-session", None).await;

        assert_eq!(response.status(), 200);
        assert!(set_cookies(response.headers()).is_empty());
        assert_eq!(response.text().await.unwrap(), "null");
    }

    async fn sign_out_deletes_the_cookies_and_ends_the_session(app: TestApp) {
        let cookie = app.signed_up_cookie("gil@example.com").await;
        app.session(&cookie).await;

        let response = app.post("/api/auth/sign-out", json!({}), Some(&cookie)).await;

        assert_eq!(response.status(), 200);
        crate::helpers::assert_deletion_cookies(response.headers());
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"success": true}));
        assert_eq!(app.session(&cookie).await, Value::Null);
    }

    async fn sign_out_without_a_session_still_succeeds(app: TestApp) {
        let response = app.post("/api/auth/sign-out", json!({}), None).await;

        assert_eq!(response.status(), 200);
        crate::helpers::assert_deletion_cookies(response.headers());
    }
}
