//! Better Auth 1.7.25's wire details, as the real package answered them (`interop/scenarios/core-extras.json` plays
//! the same requests against both): the 415 wording, bodies that are not objects, and the core routes
//! update-session, verify-password, delete-user/callback (deletion confirmed by mail) and the error page.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::account::mail_to;
use crate::helpers::{
    PASSWORD, TestApp, assert_deletion_cookies, assert_error, on_both, set_cookies,
};

/// A POST with a raw body and content type, as a browser on the app's origin sends it.
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: &'static str,
    cookie: Option<&str>,
) -> Response {
    let mut request = app.request(Method::POST, path, cookie).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

/// Asserts a 400 `VALIDATION_ERROR` with `message`.
async fn assert_invalid(response: Response, message: &str) {
    assert_error(response, 400, "VALIDATION_ERROR", message).await;
}

fn no_session_cookies(response: &Response) {
    assert!(
        set_cookies(response.headers()).is_empty(),
        "{:?}",
        set_cookies(response.headers())
    );
}

on_both! {
    async fn form_routes_name_the_form_type_first_in_their_415(app: TestApp) {
        for path in ["/api/auth/sign-in/email", "/api/auth/sign-up/email"] {
            let response = post_raw(&app, path, Some("text/plain"), "x", None).await;
            assert_error(
                response,
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                r#"Content-Type "text/plain" is not allowed. Allowed types: application/x-www-form-urlencoded, application/json"#,
            )
            .await;
        }
        let response = post_raw(&app, "/api/auth/verify-password", Some("application/x-www-form-urlencoded"), "a=b", None).await;
        assert_error(
            response,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            r#"Content-Type "application/x-www-form-urlencoded" is not allowed. Allowed types: application/json"#,
        )
        .await;
    }

    async fn json_that_is_not_an_object_is_refused_as_zod_refuses_it(app: TestApp) {
        let json = Some("application/json");
        let cases = [
            ("/api/auth/sign-in/email", "[]", "[body] Invalid input: expected object, received array"),
            ("/api/auth/sign-in/email", "\"x\"", "[body] Invalid input: expected object, received string"),
            ("/api/auth/sign-in/email", "1", "[body] Invalid input: expected object, received number"),
            ("/api/auth/sign-in/email", "null", "[body] Invalid input: expected object, received null"),
            ("/api/auth/sign-in/email", "true", "[body] Invalid input: expected object, received boolean"),
            (
                "/api/auth/sign-up/email",
                "[]",
                "[body] Invalid input: expected object, received array; [body] Invalid input: expected record, received array",
            ),
            ("/api/auth/update-user", "\"x\"", "[body] Invalid input: expected record, received string"),
            ("/api/auth/update-session", "[]", "[body] Invalid input: expected record, received array"),
            ("/api/auth/sign-out", "null", "[body] Invalid input: expected object, received null"),
            ("/api/auth/verify-password", "1", "[body] Invalid input: expected object, received number"),
            ("/api/auth/admin/set-role", "[]", "[body] Invalid input: expected object, received array"),
        ];
        for (path, body, message) in cases {
            assert_invalid(post_raw(&app, path, json, body, None).await, message).await;
        }
    }

    async fn a_missing_body_is_undefined_where_the_schema_needs_one(app: TestApp) {
        for content_type in [None, Some("application/json")] {
            let response = post_raw(&app, "/api/auth/verify-password", content_type, "", None).await;
            assert_invalid(response, "[body] Invalid input: expected object, received undefined").await;
            let response = post_raw(&app, "/api/auth/update-session", content_type, "", None).await;
            assert_invalid(response, "[body] Invalid input: expected record, received undefined").await;
            // sign-out's body is optional.
            let response = post_raw(&app, "/api/auth/sign-out", content_type, "", None).await;
            assert_eq!(response.status(), 200);
        }
        // Without a content type the body is not read at all, and an empty one refuses no media type.
        let response = post_raw(&app, "/api/auth/sign-in/email", None, "{\"email\":\"a@b.c\"}", None).await;
        assert_invalid(response, "[body] Invalid input: expected object, received undefined").await;
        let response = post_raw(&app, "/api/auth/sign-in/email", Some("text/plain"), "", None).await;
        assert_invalid(response, "[body] Invalid input: expected object, received undefined").await;
        let response = post_raw(&app, "/api/auth/sign-out", None, "garbage", None).await;
        assert_eq!(response.status(), 200);
        // Blank JSON is not JSON.
        let response = post_raw(&app, "/api/auth/sign-in/email", Some("application/json"), " ", None).await;
        assert_error(response, 400, "BAD_REQUEST", "Invalid JSON in request body").await;
    }

    async fn the_origin_is_checked_before_the_shape_of_the_body(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;
        let response = app
            .http
            .post(app.url("/api/auth/update-session"))
            .header("origin", "http://evil.example")
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body("[]")
            .send()
            .await
            .unwrap();
        assert_error(response, 403, "INVALID_ORIGIN", "Invalid origin").await;
    }

    async fn routes_without_a_body_schema_take_any_json(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;
        for body in ["[]", "null", "1", "\"x\""] {
            let response = post_raw(&app, "/api/auth/revoke-other-sessions", Some("application/json"), body, Some(&cookie)).await;
            assert_eq!(response.status(), 200, "{body}");
            assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": true}));
        }
        let response = post_raw(&app, "/api/auth/get-session", Some("application/json"), "[]", None).await;
        assert_error(
            response,
            405,
            "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
            "POST method requires deferSessionRefresh to be enabled in session config",
        )
        .await;
    }

    async fn update_session_has_no_fields_to_update(app: TestApp) {
        let response = app.post("/api/auth/update-session", json!({}), None).await;
        assert_error(response, 401, "UNAUTHORIZED", "Unauthorized").await;

        let cookie = app.signed_up_cookie("ada@example.com").await;
        for body in [json!({}), json!({"foo": 1}), json!({"userId": "x", "expiresAt": "2030-01-01T00:00:00.000Z"}), json!({"impersonatedBy": null})] {
            let response = app.post("/api/auth/update-session", body.clone(), Some(&cookie)).await;
            assert_eq!(response.status(), 400, "{body}");
            no_session_cookies(&response);
            assert_eq!(response.json::<Value>().await.unwrap(), json!({"message": "No fields to update"}));
        }
        let response = app.post("/api/auth/update-session", json!({"impersonatedBy": "x"}), Some(&cookie)).await;
        assert_error(response, 400, "FIELD_NOT_ALLOWED", "impersonatedBy is not allowed to be set").await;
    }

    async fn a_session_that_is_gone_is_forgotten_by_update_session_and_verify_password(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;
        let other = app.sign_in("ada@example.com", PASSWORD).await;
        let other = crate::helpers::session_cookie(other.headers()).unwrap();
        assert_eq!(app.post("/api/auth/revoke-sessions", json!({}), Some(&other)).await.status(), 200);

        let response = app.post("/api/auth/update-session", json!({}), Some(&cookie)).await;
        assert_deletion_cookies(response.headers());
        assert_error(response, 401, "UNAUTHORIZED", "Unauthorized").await;
        let response = app.post("/api/auth/verify-password", json!({"password": PASSWORD}), Some(&cookie)).await;
        assert_deletion_cookies(response.headers());
        assert_error(response, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn verify_password_checks_the_signed_in_users_password(app: TestApp) {
        let response = app.post("/api/auth/verify-password", json!({"password": PASSWORD}), None).await;
        no_session_cookies(&response);
        assert_error(response, 401, "UNAUTHORIZED", "Unauthorized").await;
        let response = app.post("/api/auth/verify-password", json!({}), None).await;
        assert_invalid(response, "[body.password] Invalid input: expected string, received undefined").await;

        let cookie = app.signed_up_cookie("ada@example.com").await;
        let response = app.post("/api/auth/verify-password", json!({"password": PASSWORD}), Some(&cookie)).await;
        assert_eq!(response.status(), 200);
        no_session_cookies(&response);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": true}));

        let response = app.post("/api/auth/verify-password", json!({"password": "wrong horse"}), Some(&cookie)).await;
        assert_error(response, 400, "INVALID_PASSWORD", "Invalid password").await;
        let response = app.post("/api/auth/verify-password", json!({"password": "x".repeat(129)}), Some(&cookie)).await;
        assert_error(response, 400, "PASSWORD_TOO_LONG", "Password too long").await;
    }

    async fn delete_user_callback_refuses_what_the_package_refuses(app: TestApp) {
        let response = app.get("/api/auth/delete-user/callback", None).await;
        assert_invalid(response, "[query.token] Invalid input: expected string, received undefined").await;

        let response = app.get("/api/auth/delete-user/callback?token=abc", None).await;
        no_session_cookies(&response);
        assert_error(response, 404, "FAILED_TO_GET_USER_INFO", "Failed to get user info").await;

        let cookie = app.signed_up_cookie("ada@example.com").await;
        let response = app.get("/api/auth/delete-user/callback?token=abc&callbackURL=/bye", Some(&cookie)).await;
        no_session_cookies(&response);
        assert_error(response, 404, "INVALID_TOKEN", "Invalid token").await;

        let response = app
            .get("/api/auth/delete-user/callback?token=abc&callbackURL=http://evil.example/x", Some(&cookie))
            .await;
        assert_error(response, 403, "INVALID_CALLBACK_URL", "Invalid callbackURL").await;
        assert_eq!(app.session(&cookie).await["user"]["email"], "ada@example.com");
    }

    async fn the_error_page_shows_the_code_and_the_escaped_description(app: TestApp) {
        let response = app
            .get("/api/auth/error?error=INVALID_TOKEN&error_description=a%20%3Cb%3E%26amp;%26x", None)
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/html");
        let page = response.text().await.unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(page.contains("\n                INVALID_TOKEN\n"));
        assert!(page.contains("\n            a &lt;b&gt;&amp;&amp;x\n"));

        let page = app.get("/api/auth/error?error=%3Cscript%3E", None).await.text().await.unwrap();
        assert!(page.contains("\n                UNKNOWN\n"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("We encountered an unexpected error."));
    }
}

/// Both deployments with `DELETE_USER_VERIFICATION` on.
async fn confirming_deletion_by_mail(all_in_one: bool) -> TestApp {
    if all_in_one {
        TestApp::all_in_one_with(|settings| settings.account.delete_user_verification = true).await
    } else {
        TestApp::postgres_configured(|auth| auth.delete_user_verification = true, |_| {}).await
    }
}

async fn deletion_is_confirmed_from_the_mailed_link(app: TestApp) {
    let cookie = app.signed_up_cookie("ada@example.com").await;

    let response = app
        .post(
            "/api/auth/delete-user",
            json!({"callbackURL": "/bye"}),
            Some(&cookie),
        )
        .await;
    assert_eq!(response.status(), 200);
    no_session_cookies(&response);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"success": true, "message": "Verification email sent"})
    );
    assert_eq!(
        app.session(&cookie).await["user"]["email"],
        "ada@example.com"
    );

    let mail = mail_to(&app, "ada@example.com").await;
    let link = warden_testkit::smtp::first_link(mail["text"].as_str().unwrap()).unwrap();
    let prefix = format!("{}/api/auth/delete-user/callback?token=", app.base_url);
    assert!(link.starts_with(&prefix), "{link}");
    assert!(link.ends_with("&callbackURL=%2Fbye"), "{link}");

    // Signed out, the link cannot tell whose account it is for.
    let response = app.http.get(&link).send().await.unwrap();
    assert_error(
        response,
        404,
        "FAILED_TO_GET_USER_INFO",
        "Failed to get user info",
    )
    .await;

    let response = app
        .http
        .get(&link)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/bye");
    assert_deletion_cookies(response.headers());
    assert_eq!(app.session(&cookie).await, Value::Null);
    assert_eq!(app.sign_in("ada@example.com", PASSWORD).await.status(), 401);

    // Used: the link is spent, and the cookie that came with it names no session any more.
    let response = app
        .http
        .get(&link)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_deletion_cookies(response.headers());
    assert_error(
        response,
        404,
        "FAILED_TO_GET_USER_INFO",
        "Failed to get user info",
    )
    .await;
}

async fn without_a_callback_url_the_link_answers_json(app: TestApp) {
    let cookie = app.signed_up_cookie("bob@example.com").await;
    let wrong = app
        .post(
            "/api/auth/delete-user",
            json!({"password": "wrong horse"}),
            Some(&cookie),
        )
        .await;
    assert_error(wrong, 400, "INVALID_PASSWORD", "Invalid password").await;
    let sent = app
        .post("/api/auth/delete-user", json!({}), Some(&cookie))
        .await;
    assert_eq!(sent.status(), 200);
    let mail = mail_to(&app, "bob@example.com").await;
    let link = warden_testkit::smtp::first_link(mail["text"].as_str().unwrap()).unwrap();
    assert!(link.ends_with("&callbackURL=%2F"), "{link}");
    let token = url::Url::parse(&link)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap();

    let response = app
        .get(
            &format!("/api/auth/delete-user/callback?token={token}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_deletion_cookies(response.headers());
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"success": true, "message": "User deleted"})
    );
}

#[tokio::test]
async fn deletion_is_confirmed_from_the_mailed_link_on_postgres_and_redis() {
    deletion_is_confirmed_from_the_mailed_link(confirming_deletion_by_mail(false).await).await;
}

#[tokio::test]
async fn deletion_is_confirmed_from_the_mailed_link_on_the_all_in_one_with_sqlite() {
    deletion_is_confirmed_from_the_mailed_link(confirming_deletion_by_mail(true).await).await;
}

#[tokio::test]
async fn without_a_callback_url_the_link_answers_json_on_postgres_and_redis() {
    without_a_callback_url_the_link_answers_json(confirming_deletion_by_mail(false).await).await;
}

#[tokio::test]
async fn without_a_callback_url_the_link_answers_json_on_the_all_in_one_with_sqlite() {
    without_a_callback_url_the_link_answers_json(confirming_deletion_by_mail(true).await).await;
}
