use serde_json::json;

use crate::helpers::{PASSWORD, assert_error, on_both};

on_both! {
    async fn a_cookie_request_without_origin_or_referer_is_403(app: TestApp) {
        let cookie = app.signed_up_cookie("o1@example.com").await;

        let response = app
            .http
            .post(app.url("/api/auth/sign-out"))
            .header("cookie", &cookie)
            .json(&json!({}))
            .send()
            .await
            .unwrap();

        assert_error(response, 403, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin").await;
    }

    async fn a_cookie_request_from_an_untrusted_origin_is_403(app: TestApp) {
        let cookie = app.signed_up_cookie("o2@example.com").await;

        for (header, value) in [("origin", "http://evil.example"), ("referer", "http://evil.example/page"), ("origin", "null")] {
            let response = app
                .http
                .post(app.url("/api/auth/revoke-other-sessions"))
                .header("cookie", &cookie)
                .header(header, value)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let code = if value == "null" { "MISSING_OR_NULL_ORIGIN" } else { "INVALID_ORIGIN" };
            assert_eq!(response.status(), 403, "{header}: {value}");
            assert_eq!(response.json::<serde_json::Value>().await.unwrap()["code"], code);
        }
    }

    async fn a_trusted_origin_or_referer_passes(app: TestApp) {
        let cookie = app.signed_up_cookie("o3@example.com").await;

        for (header, value) in [("origin", "http://trusted.example"), ("referer", &format!("{}/settings", app.base_url) as &str)] {
            let response = app
                .http
                .post(app.url("/api/auth/revoke-other-sessions"))
                .header("cookie", &cookie)
                .header(header, value)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{header}: {value}");
        }
    }

    async fn sign_in_from_an_untrusted_origin_is_403_even_without_a_cookie(app: TestApp) {
        app.sign_up("o4@example.com").await;

        let response = app
            .http
            .post(app.url("/api/auth/sign-in/email"))
            .header("origin", "http://evil.example")
            .json(&json!({"email": "o4@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();

        assert_error(response, 403, "INVALID_ORIGIN", "Invalid origin").await;
    }

    async fn a_cross_site_navigation_sign_in_is_blocked(app: TestApp) {
        let response = app
            .http
            .post(app.url("/api/auth/sign-in/email"))
            .header("sec-fetch-site", "cross-site")
            .header("sec-fetch-mode", "navigate")
            .header("sec-fetch-dest", "document")
            .json(&json!({"email": "o5@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();

        assert_error(
            response,
            403,
            "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
            "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
        )
        .await;
    }

    async fn a_server_client_without_origin_headers_may_sign_in(app: TestApp) {
        app.sign_up("o6@example.com").await;

        let response = app
            .http
            .post(app.url("/api/auth/sign-in/email"))
            .json(&json!({"email": "o6@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 200);
    }

    async fn an_untrusted_callback_url_is_403(app: TestApp) {
        app.sign_up("o7@example.com").await;

        let response = app
            .post(
                "/api/auth/sign-in/email",
                json!({"email": "o7@example.com", "password": PASSWORD, "callbackURL": "https://evil.example/x"}),
                None,
            )
            .await;

        assert_error(response, 403, "INVALID_CALLBACK_URL", "Invalid callbackURL").await;
    }

    async fn cors_allows_trusted_origins_with_credentials_only(app: TestApp) {
        let preflight = |origin: &'static str| {
            app.http
                .request(reqwest::Method::OPTIONS, app.url("/api/auth/get-session"))
                .header("origin", origin)
                .header("access-control-request-method", "GET")
                .send()
        };

        let trusted = preflight("http://trusted.example").await.unwrap();
        assert_eq!(trusted.headers()["access-control-allow-origin"], "http://trusted.example");
        assert_eq!(trusted.headers()["access-control-allow-credentials"], "true");
        let untrusted = preflight("http://evil.example").await.unwrap();
        assert!(untrusted.headers().get("access-control-allow-origin").is_none());
    }
}
