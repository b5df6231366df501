use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_error, on_both};

on_both! {
    async fn a_duplicate_email_is_422(app: TestApp) {
        app.sign_up("dup@example.com").await;

        let response = app.sign_up("DUP@example.com").await;

        assert_error(response, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.").await;
    }

    async fn short_and_long_passwords_are_400(app: TestApp) {
        let short = app
            .post("/api/auth/sign-up/email", json!({"name": "A", "email": "a@example.com", "password": "1234567"}), None)
            .await;
        assert_error(short, 400, "PASSWORD_TOO_SHORT", "Password too short").await;

        let long = app
            .post("/api/auth/sign-up/email", json!({"name": "A", "email": "a@example.com", "password": "a".repeat(129)}), None)
            .await;
        assert_error(long, 400, "PASSWORD_TOO_LONG", "Password too long").await;

        let long_sign_in = app.sign_in("a@example.com", &"a".repeat(129)).await;
        assert_error(long_sign_in, 400, "PASSWORD_TOO_LONG", "Password too long").await;
    }

    async fn wrong_password_and_unknown_email_give_identical_401s(app: TestApp) {
        app.sign_up("real@example.com").await;

        let wrong = app.sign_in("real@example.com", "wrong password").await;
        let unknown = app.sign_in("ghost@example.com", PASSWORD).await;
        let short = app.sign_in("real@example.com", "short").await;

        for response in [wrong, unknown, short] {
            assert_error(response, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password").await;
        }
    }

    async fn malformed_emails_differ_between_sign_up_and_sign_in(app: TestApp) {
        let up = app
            .post("/api/auth/sign-up/email", json!({"name": "A", "email": "nope", "password": PASSWORD}), None)
            .await;
        assert_error(up, 400, "VALIDATION_ERROR", "[body.email] Invalid email address").await;

        let response = app.sign_in("nope", PASSWORD).await;
        assert_error(response, 400, "INVALID_EMAIL", "Invalid email").await;
    }

    async fn a_nul_in_a_name_is_a_validation_error_not_a_500(app: TestApp) {
        let response = app
            .post("/api/auth/sign-up/email", json!({"name": "Ada\u{0}", "email": "a@example.com", "password": PASSWORD}), None)
            .await;

        assert_error(response, 400, "VALIDATION_ERROR", "[body.name] name cannot contain a NUL character").await;
    }

    async fn missing_fields_are_validation_errors(app: TestApp) {
        let response = app.post("/api/auth/sign-up/email", json!({"email": "a@example.com"}), None).await;

        assert_error(
            response,
            400,
            "VALIDATION_ERROR",
            "[body.name] Invalid input: expected string, received undefined; [body.password] Invalid input: expected string, received undefined",
        )
        .await;
    }

    async fn malformed_json_is_400(app: TestApp) {
        let response = app
            .http
            .post(app.url("/api/auth/sign-in/email"))
            .header("origin", &app.base_url)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();

        assert_error(response, 400, "BAD_REQUEST", "Invalid JSON in request body").await;
    }

    async fn a_wrong_content_type_is_415(app: TestApp) {
        let response = app
            .http
            .post(app.url("/api/auth/sign-out"))
            .header("origin", &app.base_url)
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 415);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "UNSUPPORTED_MEDIA_TYPE");
        assert!(body["message"].as_str().unwrap().starts_with("Content-Type \"text/plain\" is not allowed."));
    }

    async fn unknown_routes_and_wrong_methods_are_empty_404s(app: TestApp) {
        let cases = [
            app.get("/api/auth/nope", None).await,
            app.get("/api/auth/sign-out", None).await,
            app.get("/api/auth/ok/", None).await,
            app.http.delete(app.url("/api/auth/get-session")).send().await.unwrap(),
            app.get("/api/auth//ok", None).await,
        ];
        for response in cases {
            assert_eq!(response.status(), 404);
            assert!(response.headers().get("content-type").is_none());
            assert!(response.bytes().await.unwrap().is_empty());
        }
    }

    async fn post_to_get_session_is_405(app: TestApp) {
        let response = app.post("/api/auth/get-session", json!({}), None).await;

        assert_error(
            response,
            405,
            "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
            "POST method requires deferSessionRefresh to be enabled in session config",
        )
        .await;
    }

    async fn session_routes_without_a_session_are_401(app: TestApp) {
        let list = app.get("/api/auth/list-sessions", None).await;
        assert_error(list, 401, "UNAUTHORIZED", "Unauthorized").await;
        for path in ["/api/auth/revoke-sessions", "/api/auth/revoke-other-sessions"] {
            let response = app.post(path, json!({}), None).await;
            assert_error(response, 401, "UNAUTHORIZED", "Unauthorized").await;
        }
        let revoke = app.post("/api/auth/revoke-session", json!({"token": "x"}), None).await;
        assert_error(revoke, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn revoke_session_without_a_token_is_a_validation_error(app: TestApp) {
        let cookie = app.signed_up_cookie("val@example.com").await;

        let response = app.post("/api/auth/revoke-session", json!({}), Some(&cookie)).await;

        assert_error(response, 400, "VALIDATION_ERROR", "[body.token] Invalid input: expected string, received undefined").await;
    }
}
