use tonic::Code;
use warden_proto::auth::v1 as pb;

use crate::helpers::{PASSWORD, TestApp, assert_error};

fn request(email: &str, password: &str) -> pb::SignUpEmailRequest {
    pb::SignUpEmailRequest {
        name: "Alice".into(),
        email: email.into(),
        password: password.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn sign_up_creates_a_user_with_an_argon2id_credential_and_a_session() {
    let app = TestApp::spawn().await;

    let response = app.sign_up("Alice@Example.com").await;

    let user = response.user.unwrap();
    assert_eq!(user.email, "alice@example.com");
    assert_eq!(user.name, "Alice");
    assert!(!user.email_verified);
    assert_eq!(user.role.as_deref(), Some("user"));
    assert_eq!(user.banned, Some(false));
    let token = response.token.unwrap();
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));
    let session = response.session.unwrap();
    assert_eq!(session.user_id, user.id);
    let expires = session.expires_at.unwrap().seconds - session.created_at.unwrap().seconds;
    assert_eq!(expires, 7 * 24 * 3600);
    let hashes = app
        .query_strings(r#"select "password" from "account""#)
        .await;
    assert_eq!(hashes.len(), 1);
    assert!(
        hashes[0].starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        hashes[0]
    );
    let stored = app.query_strings(r#"select "token" from "session""#).await;
    assert_eq!(stored, vec![warden_common::token::hash_token(&token)]);
}

#[tokio::test]
async fn a_taken_email_is_already_exists_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.sign_up("bob@example.com").await;

    let status = app
        .client
        .clone()
        .sign_up_email(request("BOB@example.com", PASSWORD))
        .await
        .unwrap_err();

    assert_error(
        &status,
        Code::AlreadyExists,
        "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    );
    assert_eq!(status.message(), "User already exists. Use another email.");
}

#[tokio::test]
async fn password_length_is_checked_in_utf16_units_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "short1@example.com",
            "1234567".to_owned(),
            "PASSWORD_TOO_SHORT",
            "Password too short",
        ),
        (
            "long1@example.com",
            "a".repeat(129),
            "PASSWORD_TOO_LONG",
            "Password too long",
        ),
        // 65 emoji are 130 UTF-16 units, though only 65 characters.
        (
            "long2@example.com",
            "😀".repeat(65),
            "PASSWORD_TOO_LONG",
            "Password too long",
        ),
    ];
    for (email, password, reason, message) in cases {
        let status = app
            .client
            .clone()
            .sign_up_email(request(email, &password))
            .await
            .unwrap_err();
        assert_error(&status, Code::InvalidArgument, reason);
        assert_eq!(status.message(), message);
    }
    // Four emoji are eight units: long enough.
    app.client
        .clone()
        .sign_up_email(request("emoji@example.com", "😀😀😀😀"))
        .await
        .unwrap();
    let users = app.query_strings(r#"select "email" from "user""#).await;
    assert_eq!(users, vec!["emoji@example.com".to_owned()]);
}

#[tokio::test]
async fn a_malformed_email_is_a_validation_error() {
    let app = TestApp::spawn().await;

    let status = app
        .client
        .clone()
        .sign_up_email(request("not-an-email", PASSWORD))
        .await
        .unwrap_err();

    assert_error(&status, Code::InvalidArgument, "VALIDATION_ERROR");
    assert_eq!(status.message(), "[body.email] Invalid email address");
}

#[tokio::test]
async fn remember_me_false_gives_a_one_day_session() {
    let app = TestApp::spawn().await;
    let mut req = request("short@example.com", PASSWORD);
    req.remember_me = Some(false);

    let session = app
        .client
        .clone()
        .sign_up_email(req)
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();

    let lifetime = session.expires_at.unwrap().seconds - session.created_at.unwrap().seconds;
    assert_eq!(lifetime, 24 * 3600);
}
