//! ChangePassword and the reset flow: RequestPasswordReset, CheckResetToken, ResetPassword.

use std::time::Duration;

use tonic::Code;
use warden_proto::auth::v1 as pb;

use crate::account_support::{
    call, link, mail_to, mails_to, query, request_reset, reset_password, reset_token,
};
use crate::helpers::{PASSWORD, TestApp, assert_error, timed};

const NEW_PASSWORD: &str = "a much better passphrase";

fn change(current: &str, new: &str, revoke: Option<bool>) -> pb::ChangePasswordRequest {
    pb::ChangePasswordRequest {
        new_password: new.into(),
        current_password: current.into(),
        revoke_other_sessions: revoke,
    }
}

async fn check(app: &TestApp, token: &str) -> bool {
    call!(
        app,
        check_reset_token,
        pb::CheckResetTokenRequest {
            token: token.into()
        }
    )
    .unwrap()
    .valid
}

#[tokio::test]
async fn by_default_a_password_change_keeps_this_session_and_revokes_the_others() {
    let app = TestApp::spawn().await;
    let current = app.user_token("ada@example.com").await;
    let other = app
        .sign_in("ada@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    app.get_session(&other).await.unwrap(); // cached

    let response = call!(
        app,
        change_password,
        change(PASSWORD, NEW_PASSWORD, None),
        &current
    )
    .unwrap();

    assert_eq!(response.token, None);
    assert_eq!(response.user.unwrap().email, "ada@example.com");
    assert!(app.get_session(&current).await.is_ok());
    assert_error(
        &app.get_session(&other).await.unwrap_err(),
        Code::Unauthenticated,
        "UNAUTHORIZED",
    );
    assert!(app.sign_in("ada@example.com", NEW_PASSWORD).await.is_ok());
    assert_error(
        &app.sign_in("ada@example.com", PASSWORD).await.unwrap_err(),
        Code::Unauthenticated,
        "INVALID_EMAIL_OR_PASSWORD",
    );
}

#[tokio::test]
async fn revoke_other_sessions_true_replaces_every_session_with_a_new_one_as_better_auth_does() {
    let app = TestApp::spawn().await;
    let current = app.user_token("ada@example.com").await;
    let other = app
        .sign_in("ada@example.com", PASSWORD)
        .await
        .unwrap()
        .token;

    let response = call!(
        app,
        change_password,
        change(PASSWORD, NEW_PASSWORD, Some(true)),
        &current
    )
    .unwrap();

    let fresh = response.token.expect("a new session token");
    assert_eq!(response.session.unwrap().token, fresh);
    assert!(app.get_session(&fresh).await.is_ok());
    for gone in [&current, &other] {
        assert_error(
            &app.get_session(gone).await.unwrap_err(),
            Code::Unauthenticated,
            "UNAUTHORIZED",
        );
    }
}

#[tokio::test]
async fn revoke_other_sessions_false_revokes_nothing() {
    let app = TestApp::spawn().await;
    let current = app.user_token("ada@example.com").await;
    let other = app
        .sign_in("ada@example.com", PASSWORD)
        .await
        .unwrap()
        .token;

    let response = call!(
        app,
        change_password,
        change(PASSWORD, NEW_PASSWORD, Some(false)),
        &current
    )
    .unwrap();

    assert_eq!(response.token, None);
    assert!(app.get_session(&current).await.is_ok());
    assert!(app.get_session(&other).await.is_ok());
}

#[tokio::test]
async fn a_wrong_current_password_is_invalid_password_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let status = call!(
        app,
        change_password,
        change("wrong password!", NEW_PASSWORD, None),
        &token
    )
    .unwrap_err();

    assert_error(&status, Code::InvalidArgument, "INVALID_PASSWORD");
    assert_eq!(status.message(), "Invalid password");
    assert!(app.sign_in("ada@example.com", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn the_new_password_must_be_8_to_128_characters() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let short = call!(
        app,
        change_password,
        change(PASSWORD, "short", None),
        &token
    )
    .unwrap_err();
    let long = call!(
        app,
        change_password,
        change(PASSWORD, &"x".repeat(129), None),
        &token
    )
    .unwrap_err();

    assert_error(&short, Code::InvalidArgument, "PASSWORD_TOO_SHORT");
    assert_error(&long, Code::InvalidArgument, "PASSWORD_TOO_LONG");
}

#[tokio::test]
async fn a_user_without_a_credential_account_cannot_change_a_password() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    app.execute(r#"delete from "account""#).await;

    let status = call!(
        app,
        change_password,
        change(PASSWORD, NEW_PASSWORD, None),
        &token
    )
    .unwrap_err();

    assert_error(
        &status,
        Code::InvalidArgument,
        "CREDENTIAL_ACCOUNT_NOT_FOUND",
    );
}

#[tokio::test]
async fn changing_a_password_without_a_session_is_unauthorized() {
    let app = TestApp::spawn().await;

    let status = call!(app, change_password, change(PASSWORD, NEW_PASSWORD, None)).unwrap_err();

    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_revokes_every_session() {
    let app = TestApp::spawn().await;
    let first = app.user_token("ada@example.com").await;
    let second = app
        .sign_in("ada@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    app.get_session(&first).await.unwrap(); // cached

    let response = request_reset(&app, "Ada@Example.com").await;

    assert!(response.status);
    assert_eq!(
        response.message,
        "If this email exists in our system, check your email for the reset link"
    );
    let mail = mail_to(&app, "ada@example.com").await;
    assert_eq!(mail.subject, "Reset your password");
    let url = link(&mail);
    assert!(
        url.starts_with("http://127.0.0.1:8080/api/auth/reset-password/"),
        "{url}"
    );
    assert_eq!(
        query(&url, "callbackURL").as_deref(),
        Some("http://127.0.0.1:8080/reset")
    );
    let token = reset_token(&app, "ada@example.com").await;
    assert_eq!(token.len(), 24);
    assert!(check(&app, &token).await);

    reset_password(&app, &token, NEW_PASSWORD).await.unwrap();

    for gone in [&first, &second] {
        assert_error(
            &app.get_session(gone).await.unwrap_err(),
            Code::Unauthenticated,
            "UNAUTHORIZED",
        );
    }
    assert!(app.sign_in("ada@example.com", NEW_PASSWORD).await.is_ok());
    let hashes = app
        .query_strings(r#"select "password" from "account""#)
        .await;
    assert!(hashes[0].starts_with("$argon2id$"));
    assert!(!check(&app, &token).await);
    let again = reset_password(&app, &token, "yet another passphrase")
        .await
        .unwrap_err();
    assert_error(&again, Code::InvalidArgument, "INVALID_TOKEN");
}

#[tokio::test]
async fn reset_tokens_are_stored_hashed() {
    let app = TestApp::spawn().await;
    app.sign_up("ada@example.com").await;

    request_reset(&app, "ada@example.com").await;

    let token = reset_token(&app, "ada@example.com").await;
    let stored = app
        .query_strings(r#"select "identifier" from "verification""#)
        .await;
    assert_eq!(
        stored,
        [format!(
            "reset-password:{}",
            warden_common::token::hash_token(&token)
        )]
    );
    // The stored form is not a token.
    let identifier_hash = stored[0].trim_start_matches("reset-password:");
    assert!(!check(&app, identifier_hash).await);
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_answer_after_the_same_time_and_no_mail() {
    let app = TestApp::spawn().await;
    app.sign_up("ada@example.com").await;

    let (unknown, unknown_took) = timed(request_reset(&app, "nobody@example.com")).await;
    let (known, known_took) = timed(request_reset(&app, "ada@example.com")).await;

    assert_eq!(unknown, known);
    for took in [unknown_took, known_took] {
        assert!(took >= Duration::from_millis(500), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
    mail_to(&app, "ada@example.com").await;
    assert_eq!(mails_to(&app, "nobody@example.com").await, 0);
    let rows = app
        .query_strings(r#"select "value" from "verification""#)
        .await;
    assert_eq!(rows.len(), 1);
}

#[tokio::test]
async fn an_expired_reset_token_is_invalid() {
    let app = TestApp::spawn().await;
    app.sign_up("ada@example.com").await;
    request_reset(&app, "ada@example.com").await;
    let token = reset_token(&app, "ada@example.com").await;
    app.execute(r#"update "verification" set "expiresAt" = now() - interval '1 second'"#)
        .await;

    assert!(!check(&app, &token).await);
    let status = reset_password(&app, &token, NEW_PASSWORD)
        .await
        .unwrap_err();

    assert_error(&status, Code::InvalidArgument, "INVALID_TOKEN");
    assert!(app.sign_in("ada@example.com", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn a_missing_or_unknown_token_is_invalid_and_a_short_password_is_too_short() {
    let app = TestApp::spawn().await;
    app.sign_up("ada@example.com").await;
    request_reset(&app, "ada@example.com").await;
    let token = reset_token(&app, "ada@example.com").await;

    let missing = reset_password(&app, "", NEW_PASSWORD).await.unwrap_err();
    let unknown = reset_password(&app, "abcdefghijklmnopqrstuvwx", NEW_PASSWORD)
        .await
        .unwrap_err();
    let short = reset_password(&app, &token, "short").await.unwrap_err();

    assert_error(&missing, Code::InvalidArgument, "INVALID_TOKEN");
    assert_error(&unknown, Code::InvalidArgument, "INVALID_TOKEN");
    assert_error(&short, Code::InvalidArgument, "PASSWORD_TOO_SHORT");
    // A refused password leaves the token usable.
    assert!(check(&app, &token).await);
}

#[tokio::test]
async fn a_reset_gives_a_user_without_a_credential_account_one() {
    let app = TestApp::spawn().await;
    app.sign_up("ada@example.com").await;
    // Ada signs in with a provider only (a user with no account at all is a service account, which gets no reset).
    app.execute(
        r#"update "account" set "providerId" = 'github', "accountId" = '1001', password = null"#,
    )
    .await;
    request_reset(&app, "ada@example.com").await;
    let token = reset_token(&app, "ada@example.com").await;

    reset_password(&app, &token, NEW_PASSWORD).await.unwrap();

    let providers = app
        .query_strings(r#"select "providerId" from "account" order by "providerId""#)
        .await;
    assert_eq!(providers, ["credential", "github"]);
    assert!(app.sign_in("ada@example.com", NEW_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn a_reset_token_for_a_deleted_user_is_user_not_found() {
    let app = TestApp::spawn().await;
    app.sign_up("ada@example.com").await;
    request_reset(&app, "ada@example.com").await;
    let token = reset_token(&app, "ada@example.com").await;
    app.execute(r#"delete from "user""#).await;

    let status = reset_password(&app, &token, NEW_PASSWORD)
        .await
        .unwrap_err();

    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
}

#[tokio::test]
async fn wrong_current_passwords_count_against_the_accounts_sign_in_back_off() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_enabled = true;
        // Long enough that a loaded machine still makes the next attempt inside the back-off.
        config.throttle_base = Duration::from_secs(2);
    })
    .await;
    let token = app.user_token("ada@example.com").await;
    for _ in 0..5 {
        let wrong = call!(
            app,
            change_password,
            change("wrong password!", NEW_PASSWORD, None),
            &token
        )
        .unwrap_err();
        assert_error(&wrong, Code::InvalidArgument, "INVALID_PASSWORD");
    }

    let refused = call!(
        app,
        change_password,
        change(PASSWORD, NEW_PASSWORD, None),
        &token
    )
    .unwrap_err();

    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(app.sign_in("ada@example.com", PASSWORD).await.is_err());
}
