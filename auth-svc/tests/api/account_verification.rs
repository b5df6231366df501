//! SendVerificationEmail, VerifyEmail, and REQUIRE_EMAIL_VERIFICATION's sign-up and sign-in.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use tonic::Code;
use warden_proto::auth::v1 as pb;

use crate::account_support::{
    call, link, mail_to, mails_to, query, session_user, verification_token, verify_email,
};
use crate::helpers::{PASSWORD, TestApp, assert_error, timed};

fn send(email: &str) -> pb::SendVerificationEmailRequest {
    pb::SendVerificationEmailRequest {
        email: email.into(),
        callback_url: Some("/welcome".into()),
    }
}

fn secret_key() -> Vec<u8> {
    "x".repeat(32).into_bytes()
}

/// A token as Better Auth signs one: HS256 over the secret's bytes, no `userId`.
fn better_auth_token(claims: serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = None;
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret_key())).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn strict_app() -> TestApp {
    TestApp::spawn_with(|config| config.require_email_verification = true).await
}

#[tokio::test]
async fn without_a_session_an_unverified_account_is_mailed_a_link_that_verifies_it() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let response = call!(app, send_verification_email, send("Ada@example.com")).unwrap();

    assert!(response.status);
    let mail = mail_to(&app, "ada@example.com").await;
    assert_eq!(mail.subject, "Verify your email address");
    let url = link(&mail);
    assert!(
        url.starts_with("http://127.0.0.1:8080/api/auth/verify-email?token="),
        "{url}"
    );
    assert_eq!(query(&url, "callbackURL").as_deref(), Some("/welcome"));
    let jwt = query(&url, "token").unwrap();
    let verified = verify_email(&app, &jwt).await.unwrap();
    assert!(verified.status);
    assert!(verified.user.is_none());
    assert!(session_user(&app, &token).await.email_verified);
}

#[tokio::test]
async fn the_link_holds_better_auths_hs256_token_for_one_hour() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await.user.unwrap();
    call!(app, send_verification_email, send("ada@example.com")).unwrap();

    let jwt = verification_token(&app, "ada@example.com").await;

    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        &jwt,
        &DecodingKey::from_secret(&secret_key()),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["userId"], serde_json::json!(user.id));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
}

#[tokio::test]
async fn without_a_session_an_unknown_address_gets_the_same_answer_after_the_same_time() {
    let app = TestApp::spawn().await;
    app.sign_up("ada@example.com").await;

    let (unknown, took) =
        timed(async { call!(app, send_verification_email, send("nobody@example.com")) }).await;

    assert!(unknown.unwrap().status);
    assert!(took >= Duration::from_millis(500), "{took:?}");
    call!(app, send_verification_email, send("ada@example.com")).unwrap();
    mail_to(&app, "ada@example.com").await;
    assert_eq!(mails_to(&app, "nobody@example.com").await, 0);
}

#[tokio::test]
async fn with_a_session_the_address_must_be_the_callers_own_and_unverified() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let mismatch = call!(
        app,
        send_verification_email,
        send("other@example.com"),
        &token
    )
    .unwrap_err();
    assert_error(&mismatch, Code::InvalidArgument, "EMAIL_MISMATCH");
    assert!(
        call!(
            app,
            send_verification_email,
            send("ada@example.com"),
            &token
        )
        .is_ok()
    );

    let jwt = verification_token(&app, "ada@example.com").await;
    verify_email(&app, &jwt).await.unwrap();
    let verified = call!(
        app,
        send_verification_email,
        send("ada@example.com"),
        &token
    )
    .unwrap_err();
    assert_error(&verified, Code::InvalidArgument, "EMAIL_ALREADY_VERIFIED");
}

#[tokio::test]
async fn a_malformed_address_is_a_validation_error() {
    let app = TestApp::spawn().await;

    let status = call!(app, send_verification_email, send("nope")).unwrap_err();

    assert_error(&status, Code::InvalidArgument, "VALIDATION_ERROR");
    assert_eq!(status.message(), "[body.email] Invalid email address");
}

#[tokio::test]
async fn a_token_better_auth_signed_verifies() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    let jwt = better_auth_token(
        serde_json::json!({"email": "ada@example.com", "iat": now(), "exp": now() + 3600}),
    );

    verify_email(&app, &jwt).await.unwrap();

    assert!(session_user(&app, &token).await.email_verified);
}

#[tokio::test]
async fn forged_expired_and_orphaned_tokens_are_refused() {
    let app = TestApp::spawn().await;
    app.sign_up("ada@example.com").await;
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &serde_json::json!({"email": "ada@example.com", "iat": now(), "exp": now() + 3600}),
        &EncodingKey::from_secret(b"not the secret at all, not at all"),
    )
    .unwrap();
    let expired = better_auth_token(
        serde_json::json!({"email": "ada@example.com", "iat": now() - 7200, "exp": now() - 3600}),
    );
    let unknown = better_auth_token(
        serde_json::json!({"email": "ghost@example.com", "iat": now(), "exp": now() + 3600}),
    );
    let other_account = better_auth_token(
        serde_json::json!({"email": "ada@example.com", "userId": "someone-else", "iat": now(), "exp": now() + 3600}),
    );

    assert_error(
        &verify_email(&app, &forged).await.unwrap_err(),
        Code::InvalidArgument,
        "INVALID_TOKEN",
    );
    assert_error(
        &verify_email(&app, "garbage").await.unwrap_err(),
        Code::InvalidArgument,
        "INVALID_TOKEN",
    );
    assert_error(
        &verify_email(&app, &expired).await.unwrap_err(),
        Code::InvalidArgument,
        "TOKEN_EXPIRED",
    );
    assert_error(
        &verify_email(&app, &unknown).await.unwrap_err(),
        Code::NotFound,
        "USER_NOT_FOUND",
    );
    assert_error(
        &verify_email(&app, &other_account).await.unwrap_err(),
        Code::InvalidArgument,
        "INVALID_TOKEN",
    );
}

#[tokio::test]
async fn with_verification_required_sign_up_opens_no_session_and_mails_a_link() {
    let app = strict_app().await;

    let response = call!(
        app,
        sign_up_email,
        pb::SignUpEmailRequest {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            password: PASSWORD.into(),
            callback_url: Some("/dashboard".into()),
            ..Default::default()
        }
    )
    .unwrap();

    assert_eq!(response.token, None);
    assert!(response.session.is_none());
    assert!(!response.user.unwrap().email_verified);
    let sessions = app.query_strings(r#"select "id" from "session""#).await;
    assert!(sessions.is_empty());
    let mail = mail_to(&app, "ada@example.com").await;
    assert_eq!(
        query(&link(&mail), "callbackURL").as_deref(),
        Some("/dashboard")
    );
}

#[tokio::test]
async fn with_verification_required_sign_in_waits_for_the_link_and_resends_it() {
    let app = strict_app().await;
    app.sign_up("ada@example.com").await;
    mail_to(&app, "ada@example.com").await;

    let refused = app.sign_in("ada@example.com", PASSWORD).await.unwrap_err();

    assert_error(&refused, Code::PermissionDenied, "EMAIL_NOT_VERIFIED");
    assert_eq!(refused.message(), "Email not verified");
    for _ in 0..100 {
        if mails_to(&app, "ada@example.com").await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(mails_to(&app, "ada@example.com").await, 2);
    // A wrong password stays a wrong password: nothing is sent for it.
    let wrong = app
        .sign_in("ada@example.com", "wrong password!")
        .await
        .unwrap_err();
    assert_error(&wrong, Code::Unauthenticated, "INVALID_EMAIL_OR_PASSWORD");

    let jwt = verification_token(&app, "ada@example.com").await;
    verify_email(&app, &jwt).await.unwrap();

    let signed_in = app.sign_in("ada@example.com", PASSWORD).await.unwrap();
    assert!(signed_in.user.unwrap().email_verified);
}

#[tokio::test]
async fn with_verification_required_a_taken_address_signs_up_the_same_without_touching_the_account()
{
    let app = strict_app().await;
    let first = app.sign_up("ada@example.com").await.user.unwrap();

    let (second, took) = timed(async {
        call!(
            app,
            sign_up_email,
            pb::SignUpEmailRequest {
                name: "Mallory".into(),
                email: "ADA@example.com".into(),
                password: "another password".into(),
                ..Default::default()
            }
        )
    })
    .await;

    let second = second.unwrap();
    assert_eq!(second.token, None);
    let stand_in = second.user.unwrap();
    assert_ne!(stand_in.id, first.id);
    assert_eq!(stand_in.email, "ada@example.com");
    assert_eq!(stand_in.name, "Mallory");
    assert!(!stand_in.email_verified);
    assert_eq!(stand_in.role.as_deref(), Some("user"));
    assert!(took >= Duration::from_millis(500), "{took:?}");
    let users = app.query_strings(r#"select "name" from "user""#).await;
    assert_eq!(users, ["Alice"]);
}
