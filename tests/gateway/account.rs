//! The account lifecycle endpoints as Better Auth's client sees them: update-user, change-password, change-email,
//! delete-user, send-verification-email, verify-email, request-password-reset, reset-password (GET link and POST),
//! and the development outbox that holds the mails while no SMTP server is configured.

use std::time::Duration;

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, SESSION_COOKIE, TestApp, assert_deletion_cookies, assert_error, on_both,
    session_cookie, set_cookies,
};

const NEW_PASSWORD: &str = "a much better passphrase";

/// Every mail in the development outbox, newest first.
pub async fn outbox(app: &TestApp) -> Vec<Value> {
    let response = app.get("/api/dev/outbox", None).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The newest mail to `to`, waiting for it: mail leaves off the request path.
pub async fn mail_to(app: &TestApp, to: &str) -> Value {
    for _ in 0..100 {
        if let Some(mail) = outbox(app).await.into_iter().find(|mail| mail["to"] == to) {
            return mail;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail to {to} in the outbox");
}

async fn mails_to(app: &TestApp, to: &str) -> usize {
    outbox(app)
        .await
        .iter()
        .filter(|mail| mail["to"] == to)
        .count()
}

fn link(mail: &Value) -> String {
    warden_testkit::smtp::first_link(mail["text"].as_str().unwrap()).expect("a link in the mail")
}

fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn location(response: &Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// A GET of a full URL (a link from a mail), cookie optional, redirects not followed.
async fn open(app: &TestApp, url: &str, cookie: Option<&str>) -> Response {
    let mut request = app.http.get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

/// The reset token in the newest reset mail to `to`.
pub(crate) async fn reset_token(app: &TestApp, to: &str) -> String {
    let url = url::Url::parse(&link(&mail_to(app, to).await)).unwrap();
    url.path_segments().unwrap().next_back().unwrap().to_owned()
}

pub(crate) async fn request_reset(app: &TestApp, email: &str) -> Response {
    app.post(
        "/api/auth/request-password-reset",
        json!({"email": email, "redirectTo": "/reset"}),
        None,
    )
    .await
}

on_both! {
    async fn update_user_changes_the_name_resends_the_cookie_and_clears_the_image(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;

        let response = app
            .post("/api/auth/update-user", json!({"name": "Ada L.", "image": "https://img.example/a.png"}), Some(&cookie))
            .await;

        assert_eq!(response.status(), 200);
        assert_eq!(session_cookie(response.headers()), Some(cookie.clone()));
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": true}));
        let user = app.session(&cookie).await["user"].clone();
        assert_eq!(user["name"], "Ada L.");
        assert_eq!(user["image"], "https://img.example/a.png");

        let cleared = app.post("/api/auth/update-user", json!({"image": null}), Some(&cookie)).await;
        assert_eq!(cleared.status(), 200);
        assert_eq!(app.session(&cookie).await["user"]["image"], Value::Null);
    }

    async fn update_user_refuses_the_email_server_fields_and_an_empty_change(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;

        let email = app.post("/api/auth/update-user", json!({"email": "x@example.com"}), Some(&cookie)).await;
        assert_error(email, 400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated").await;
        let role = app.post("/api/auth/update-user", json!({"name": "A", "role": "admin"}), Some(&cookie)).await;
        assert_error(role, 400, "FIELD_NOT_ALLOWED", "role is not allowed to be set").await;
        let empty = app.post("/api/auth/update-user", json!({}), Some(&cookie)).await;
        assert_eq!(empty.status(), 400);
        assert_eq!(empty.json::<Value>().await.unwrap(), json!({"message": "No fields to update"}));
        assert_eq!(app.session(&cookie).await["user"]["role"], "user");
    }

    async fn update_user_without_a_session_is_401_before_anything_else(app: TestApp) {
        let response = app.post("/api/auth/update-user", json!({"email": "x@example.com"}), None).await;

        assert_error(response, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn change_password_keeps_this_session_revokes_the_others_and_answers_token_null(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;
        let other = session_cookie(app.sign_in("ada@example.com", PASSWORD).await.headers()).unwrap();

        let response = app
            .post("/api/auth/change-password", json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}), Some(&cookie))
            .await;

        assert_eq!(response.status(), 200);
        assert!(set_cookies(response.headers()).is_empty());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token"], Value::Null);
        assert_eq!(body["user"]["email"], "ada@example.com");
        assert_eq!(app.session(&cookie).await["user"]["email"], "ada@example.com");
        assert_eq!(app.session(&other).await, Value::Null);
        assert_eq!(app.sign_in("ada@example.com", NEW_PASSWORD).await.status(), 200);
    }

    async fn change_password_with_revoke_other_sessions_gives_a_new_session_and_cookie(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;

        let response = app
            .post(
                "/api/auth/change-password",
                json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "revokeOtherSessions": true}),
                Some(&cookie),
            )
            .await;

        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("set-auth-token"));
        let fresh = session_cookie(response.headers()).expect("a new session cookie");
        assert!(set_cookies(response.headers())[0].contains("Max-Age=604800"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token"].as_str().unwrap(), crate::helpers::token_of(&fresh));
        assert_eq!(app.session(&cookie).await, Value::Null);
        assert_eq!(app.session(&fresh).await["user"]["email"], "ada@example.com");
    }

    async fn change_password_errors_are_better_auths(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;

        let wrong = app
            .post("/api/auth/change-password", json!({"currentPassword": "wrong password!", "newPassword": NEW_PASSWORD}), Some(&cookie))
            .await;
        assert_error(wrong, 400, "INVALID_PASSWORD", "Invalid password").await;
        let short = app
            .post("/api/auth/change-password", json!({"currentPassword": PASSWORD, "newPassword": "short"}), Some(&cookie))
            .await;
        assert_error(short, 400, "PASSWORD_TOO_SHORT", "Password too short").await;
        let missing = app.post("/api/auth/change-password", json!({"newPassword": NEW_PASSWORD}), Some(&cookie)).await;
        assert_error(
            missing,
            400,
            "VALIDATION_ERROR",
            "[body.currentPassword] Invalid input: expected string, received undefined",
        )
        .await;
        let anonymous = app
            .post("/api/auth/change-password", json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}), None)
            .await;
        assert_error(anonymous, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn change_email_moves_an_unverified_address_at_once_and_mails_the_new_one(app: TestApp) {
        let cookie = app.signed_up_cookie("old@example.com").await;

        let response = app.post("/api/auth/change-email", json!({"newEmail": "new@example.com"}), Some(&cookie)).await;

        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": true}));
        assert_eq!(app.session(&cookie).await["user"]["email"], "new@example.com");
        let verify = link(&mail_to(&app, "new@example.com").await);
        assert_eq!(open(&app, &verify, None).await.status(), 302);
        assert_eq!(app.session(&cookie).await["user"]["emailVerified"], true);
    }

    async fn change_email_errors_and_the_silent_answer_for_a_taken_address(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;
        app.sign_up("taken@example.com").await;

        let same = app.post("/api/auth/change-email", json!({"newEmail": "ADA@example.com"}), Some(&cookie)).await;
        assert_eq!(same.status(), 400);
        assert_eq!(same.json::<Value>().await.unwrap(), json!({"message": "Email is the same"}));
        let invalid = app.post("/api/auth/change-email", json!({"newEmail": "nope"}), Some(&cookie)).await;
        assert_error(invalid, 400, "VALIDATION_ERROR", "[body.newEmail] Invalid email address").await;
        let taken = app.post("/api/auth/change-email", json!({"newEmail": "taken@example.com"}), Some(&cookie)).await;
        assert_eq!(taken.status(), 200);
        assert_eq!(taken.json::<Value>().await.unwrap(), json!({"status": true}));
        assert_eq!(app.session(&cookie).await["user"]["email"], "ada@example.com");
        let anonymous = app.post("/api/auth/change-email", json!({"newEmail": "new@example.com"}), None).await;
        assert_error(anonymous, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn delete_user_with_the_password_deletes_and_sends_deletion_cookies(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;

        let response = app.post("/api/auth/delete-user", json!({"password": PASSWORD}), Some(&cookie)).await;

        assert_eq!(response.status(), 200);
        assert_deletion_cookies(response.headers());
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"success": true, "message": "User deleted"})
        );
        assert_eq!(app.session(&cookie).await, Value::Null);
        assert_eq!(app.sign_in("ada@example.com", PASSWORD).await.status(), 401);
    }

    async fn delete_user_with_a_fresh_session_needs_no_password(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;

        let response = app.post("/api/auth/delete-user", json!({}), Some(&cookie)).await;

        assert_eq!(response.status(), 200);
        assert_eq!(app.sign_in("ada@example.com", PASSWORD).await.status(), 401);
    }

    async fn delete_user_errors_are_better_auths(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;

        let wrong = app.post("/api/auth/delete-user", json!({"password": "wrong password!"}), Some(&cookie)).await;
        assert_error(wrong, 400, "INVALID_PASSWORD", "Invalid password").await;
        let token = app.post("/api/auth/delete-user", json!({"token": "nope"}), Some(&cookie)).await;
        assert_error(token, 404, "INVALID_TOKEN", "Invalid token").await;
        let anonymous = app.post("/api/auth/delete-user", json!({"password": PASSWORD}), None).await;
        assert_error(anonymous, 401, "UNAUTHORIZED", "Unauthorized").await;
        assert_eq!(app.session(&cookie).await["user"]["email"], "ada@example.com");
    }

    async fn a_verification_link_verifies_the_address_as_json_or_as_a_redirect(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;

        let sent = app
            .post("/api/auth/send-verification-email", json!({"email": "ada@example.com", "callbackURL": "/welcome"}), None)
            .await;

        assert_eq!(sent.status(), 200);
        assert_eq!(sent.json::<Value>().await.unwrap(), json!({"status": true}));
        let mail = mail_to(&app, "ada@example.com").await;
        assert_eq!(mail["subject"], "Verify your email address");
        let url = link(&mail);
        assert!(url.starts_with(&format!("{}/api/auth/verify-email?token=", app.base_url)), "{url}");
        assert_eq!(query(&url, "callbackURL").as_deref(), Some("/welcome"));
        let redirected = open(&app, &url, None).await;
        assert_eq!(redirected.status(), 302);
        assert_eq!(location(&redirected), "/welcome");
        assert_eq!(app.session(&cookie).await["user"]["emailVerified"], true);
        let token = query(&url, "token").unwrap();
        let as_json = app.get(&format!("/api/auth/verify-email?token={token}"), None).await;
        assert_eq!(as_json.status(), 200);
        assert_eq!(as_json.json::<Value>().await.unwrap(), json!({"status": true, "user": null}));
    }

    async fn a_bad_verification_link_is_401_or_a_redirect_with_the_code(app: TestApp) {
        let bad = app.get("/api/auth/verify-email?token=garbage", None).await;
        assert_error(bad, 401, "INVALID_TOKEN", "Invalid token").await;

        let redirected = app.get("/api/auth/verify-email?token=garbage&callbackURL=%2Fdone", None).await;
        assert_eq!(redirected.status(), 302);
        assert_eq!(location(&redirected), "/done?error=INVALID_TOKEN");
        let with_query = app.get("/api/auth/verify-email?token=garbage&callbackURL=%2Fdone%3Fx%3D1", None).await;
        assert_eq!(location(&with_query), "/done?x=1&error=INVALID_TOKEN");

        let untrusted = app.get("/api/auth/verify-email?token=garbage&callbackURL=https%3A%2F%2Fevil.example", None).await;
        assert_error(untrusted, 403, "INVALID_CALLBACK_URL", "Invalid callbackURL").await;
        let missing = app.get("/api/auth/verify-email", None).await;
        assert_error(
            missing,
            400,
            "VALIDATION_ERROR",
            "[query.token] Invalid input: expected string, received undefined",
        )
        .await;
    }

    async fn send_verification_email_with_a_session_checks_the_address(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;

        let mismatch = app
            .post("/api/auth/send-verification-email", json!({"email": "other@example.com"}), Some(&cookie))
            .await;
        assert_error(mismatch, 400, "EMAIL_MISMATCH", "Email mismatch").await;
        let own = app
            .post("/api/auth/send-verification-email", json!({"email": "ada@example.com"}), Some(&cookie))
            .await;
        assert_eq!(own.status(), 200);
        assert_eq!(open(&app, &link(&mail_to(&app, "ada@example.com").await), None).await.status(), 302);
        let verified = app
            .post("/api/auth/send-verification-email", json!({"email": "ada@example.com"}), Some(&cookie))
            .await;
        assert_error(verified, 400, "EMAIL_ALREADY_VERIFIED", "Email is already verified").await;
        let invalid = app.post("/api/auth/send-verification-email", json!({"email": "nope"}), None).await;
        assert_error(invalid, 400, "VALIDATION_ERROR", "[body.email] Invalid email address").await;
    }

    async fn request_password_reset_answers_the_same_for_known_and_unknown_addresses(app: TestApp) {
        app.sign_up("ada@example.com").await;

        let unknown = request_reset(&app, "nobody@example.com").await;
        let known = request_reset(&app, "ada@example.com").await;

        let expected = json!({
            "status": true,
            "message": "If this email exists in our system, check your email for the reset link"
        });
        assert_eq!(unknown.status(), 200);
        assert_eq!(known.status(), 200);
        assert_eq!(unknown.json::<Value>().await.unwrap(), expected);
        assert_eq!(known.json::<Value>().await.unwrap(), expected);
        mail_to(&app, "ada@example.com").await;
        assert_eq!(mails_to(&app, "nobody@example.com").await, 0);

        let invalid = app.post("/api/auth/request-password-reset", json!({"email": "nope"}), None).await;
        assert_error(invalid, 400, "VALIDATION_ERROR", "[body.email] Invalid email address").await;
        let untrusted = app
            .post("/api/auth/request-password-reset", json!({"email": "ada@example.com", "redirectTo": "https://evil.example"}), None)
            .await;
        assert_error(untrusted, 403, "INVALID_REDIRECT_URL", "Invalid redirectURL").await;
    }

    async fn the_reset_link_redirects_with_the_token_or_with_invalid_token(app: TestApp) {
        app.sign_up("ada@example.com").await;
        request_reset(&app, "ada@example.com").await;
        let mail = mail_to(&app, "ada@example.com").await;
        let url = link(&mail);
        assert_eq!(query(&url, "callbackURL").as_deref(), Some("/reset"));
        let token = reset_token(&app, "ada@example.com").await;

        let valid = open(&app, &url, None).await;
        assert_eq!(valid.status(), 302);
        assert_eq!(location(&valid), format!("{}/reset?token={token}", app.base_url));

        let invalid = app.get("/api/auth/reset-password/nope?callbackURL=%2Freset", None).await;
        assert_eq!(invalid.status(), 302);
        assert_eq!(location(&invalid), format!("{}/reset?error=INVALID_TOKEN", app.base_url));

        let missing = app.get(&format!("/api/auth/reset-password/{token}"), None).await;
        assert_error(
            missing,
            400,
            "VALIDATION_ERROR",
            "[query.callbackURL] Invalid input: expected string, received undefined",
        )
        .await;
        let untrusted = app
            .get(&format!("/api/auth/reset-password/{token}?callbackURL=https%3A%2F%2Fevil.example"), None)
            .await;
        assert_error(untrusted, 403, "INVALID_CALLBACK_URL", "Invalid callbackURL").await;
    }

    async fn reset_password_sets_the_password_once_and_ends_every_session(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;
        request_reset(&app, "ada@example.com").await;
        let token = reset_token(&app, "ada@example.com").await;

        let short = app.post("/api/auth/reset-password", json!({"newPassword": "short", "token": token}), None).await;
        assert_error(short, 400, "PASSWORD_TOO_SHORT", "Password too short").await;
        let response = app.post("/api/auth/reset-password", json!({"newPassword": NEW_PASSWORD, "token": token}), None).await;

        assert_eq!(response.status(), 200);
        assert!(set_cookies(response.headers()).is_empty());
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": true}));
        assert_eq!(app.session(&cookie).await, Value::Null);
        assert_eq!(app.sign_in("ada@example.com", NEW_PASSWORD).await.status(), 200);
        let again = app.post("/api/auth/reset-password", json!({"newPassword": NEW_PASSWORD, "token": token}), None).await;
        assert_error(again, 400, "INVALID_TOKEN", "Invalid token").await;
    }

    async fn reset_password_takes_the_token_from_the_query_too(app: TestApp) {
        app.sign_up("ada@example.com").await;
        request_reset(&app, "ada@example.com").await;
        let token = reset_token(&app, "ada@example.com").await;

        let missing = app.post("/api/auth/reset-password", json!({"newPassword": NEW_PASSWORD}), None).await;
        assert_error(missing, 400, "INVALID_TOKEN", "Invalid token").await;
        let response = app
            .post(&format!("/api/auth/reset-password?token={token}"), json!({"newPassword": NEW_PASSWORD}), None)
            .await;

        assert_eq!(response.status(), 200);
        assert_eq!(app.sign_in("ada@example.com", NEW_PASSWORD).await.status(), 200);
    }

    async fn the_dev_outbox_lists_mails_with_recipient_subject_text_and_time(app: TestApp) {
        app.sign_up("ada@example.com").await;
        request_reset(&app, "ada@example.com").await;

        let mail = mail_to(&app, "ada@example.com").await;

        assert_eq!(mail["subject"], "Reset your password");
        assert!(mail["text"].as_str().unwrap().contains("/api/auth/reset-password/"));
        let sent_at = mail["sent_at"].as_str().unwrap();
        assert!(sent_at.ends_with('Z') && sent_at.len() == 24, "{sent_at}");
    }
}

#[tokio::test]
async fn the_dev_outbox_is_not_shown_to_a_client_on_another_machine() {
    let app = TestApp::postgres_with(|config| {
        config.limits.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()].into();
    })
    .await;

    let remote = app
        .http
        .get(app.url("/api/dev/outbox"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    let local = app.get("/api/dev/outbox", None).await;

    assert_eq!(remote.status(), 404);
    assert_eq!(local.status(), 200);
}

#[tokio::test]
async fn a_stale_session_needs_the_password_to_delete_the_account() {
    let app = TestApp::postgres().await;
    let cookie = app.signed_up_cookie("ada@example.com").await;
    let crate::helpers::Backend::Postgres {
        database_url,
        redis_prefix,
        ..
    } = &app.backend
    else {
        unreachable!()
    };
    let db = sea_orm::Database::connect(database_url.as_str())
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        r#"update "session" set "createdAt" = now() - interval '2 days'"#,
    )
    .await
    .unwrap();
    let redis = redis::Client::open(warden_testkit::redis_url()).unwrap();
    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
    let key = format!(
        "{redis_prefix}session:{}",
        warden_common::token::hash_token(&crate::helpers::token_of(&cookie))
    );
    let _: () = redis::cmd("DEL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap();

    let stale = app
        .post("/api/auth/delete-user", json!({}), Some(&cookie))
        .await;

    assert_error(
        stale,
        400,
        "SESSION_EXPIRED",
        "Session expired. Re-authenticate to perform this action.",
    )
    .await;
    let with_password = app
        .post(
            "/api/auth/delete-user",
            json!({"password": PASSWORD}),
            Some(&cookie),
        )
        .await;
    assert_eq!(with_password.status(), 200);
}

#[tokio::test]
async fn with_verification_required_a_taken_address_signs_up_with_the_same_answer() {
    let app =
        TestApp::postgres_configured(|auth| auth.require_email_verification = true, |_| {}).await;
    let first = app.sign_up("ada@example.com").await;
    assert_eq!(first.status(), 200);
    assert!(session_cookie(first.headers()).is_none());
    let first: Value = first.json().await.unwrap();

    let second = app.sign_up("ada@example.com").await;

    assert_eq!(second.status(), 200);
    assert!(
        set_cookies(second.headers())
            .iter()
            .all(|c| !c.starts_with(SESSION_COOKIE))
    );
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["token"], Value::Null);
    assert_eq!(first["token"], Value::Null);
    assert_ne!(second["user"]["id"], first["user"]["id"]);
    let keys = |value: &Value| {
        let mut keys: Vec<String> = value["user"].as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&first), keys(&second));
}
