//! UpdateUser and ChangeEmail.

use tonic::Code;
use warden_proto::auth::v1 as pb;

use crate::account_support::{
    call, mail_to, mails_to, session_user, verification_token, verify_email,
};
use crate::helpers::{TestApp, assert_error};

fn update(name: Option<&str>, image: Option<&str>, remove_image: bool) -> pb::UpdateUserRequest {
    pb::UpdateUserRequest {
        name: name.map(str::to_owned),
        image: image.map(str::to_owned),
        remove_image,
    }
}

fn change_email(new_email: &str) -> pb::ChangeEmailRequest {
    pb::ChangeEmailRequest {
        new_email: new_email.into(),
        callback_url: Some("/settings".into()),
    }
}

#[tokio::test]
async fn update_user_changes_the_name_and_image_and_the_next_session_read_sees_them() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    session_user(&app, &token).await; // cached now

    let response = call!(
        app,
        update_user,
        update(Some("Ada L."), Some("https://img.example/a.png"), false),
        &token
    )
    .unwrap();

    assert!(response.status);
    let user = session_user(&app, &token).await;
    assert_eq!(user.name, "Ada L.");
    assert_eq!(user.image.as_deref(), Some("https://img.example/a.png"));
    assert_eq!(response.user.unwrap().name, "Ada L.");
}

#[tokio::test]
async fn update_user_with_remove_image_clears_the_image_and_keeps_the_name() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    call!(
        app,
        update_user,
        update(None, Some("https://img.example/a.png"), false),
        &token
    )
    .unwrap();

    call!(app, update_user, update(None, None, true), &token).unwrap();

    let user = session_user(&app, &token).await;
    assert_eq!(user.image, None);
    assert_eq!(user.name, "Alice");
}

#[tokio::test]
async fn update_user_with_nothing_to_change_is_no_fields_to_update_without_a_code() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let status = call!(app, update_user, update(None, None, false), &token).unwrap_err();

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "No fields to update");
    assert!(tonic_types::StatusExt::get_details_error_info(&status).is_none());
}

#[tokio::test]
async fn update_user_without_a_session_is_unauthorized() {
    let app = TestApp::spawn().await;

    let status = call!(app, update_user, update(Some("Eve"), None, false)).unwrap_err();

    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
}

#[tokio::test]
async fn an_unverified_address_changes_at_once_and_the_new_one_is_mailed_a_verification_link() {
    let app = TestApp::spawn().await;
    let token = app.user_token("old@example.com").await;

    let response = call!(app, change_email, change_email("New@Example.com"), &token).unwrap();

    assert!(response.status);
    let user = session_user(&app, &token).await;
    assert_eq!(user.email, "new@example.com");
    assert!(!user.email_verified);
    let jwt = verification_token(&app, "new@example.com").await;
    verify_email(&app, &jwt).await.unwrap();
    assert!(session_user(&app, &token).await.email_verified);
}

#[tokio::test]
async fn a_verified_address_changes_only_when_the_link_mailed_to_the_new_one_is_opened() {
    let app = TestApp::spawn().await;
    let token = app.user_token("old@example.com").await;
    app.execute(r#"update "user" set "emailVerified" = true"#)
        .await;
    app.evict(&token).await;

    call!(app, change_email, change_email("new@example.com"), &token).unwrap();

    assert_eq!(session_user(&app, &token).await.email, "old@example.com");
    let mail = mail_to(&app, "new@example.com").await;
    assert_eq!(mail.subject, "Confirm your new email address");
    assert!(
        mail.text.contains("callbackURL=%2Fsettings"),
        "{}",
        mail.text
    );
    let jwt = verification_token(&app, "new@example.com").await;
    let verified = verify_email(&app, &jwt).await.unwrap();
    let changed = verified.user.unwrap();
    assert_eq!(changed.email, "new@example.com");
    assert!(changed.email_verified);
    let user = session_user(&app, &token).await;
    assert_eq!(
        (user.email.as_str(), user.email_verified),
        ("new@example.com", true)
    );
}

#[tokio::test]
async fn changing_to_the_same_address_is_refused_without_a_code() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let status = call!(app, change_email, change_email("ADA@example.com"), &token).unwrap_err();

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "Email is the same");
}

#[tokio::test]
async fn changing_to_an_address_that_has_an_account_answers_yes_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    app.sign_up("taken@example.com").await;

    let response = call!(app, change_email, change_email("taken@example.com"), &token).unwrap();

    assert!(response.status);
    assert_eq!(session_user(&app, &token).await.email, "ada@example.com");
    // A later mail proves the queue has moved past the change: none went to the taken address.
    call!(app, change_email, change_email("free@example.com"), &token).unwrap();
    mail_to(&app, "free@example.com").await;
    assert_eq!(mails_to(&app, "taken@example.com").await, 0);
}

#[tokio::test]
async fn a_malformed_new_address_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let status = call!(app, change_email, change_email("not-an-email"), &token).unwrap_err();

    assert_error(&status, Code::InvalidArgument, "VALIDATION_ERROR");
    assert_eq!(status.message(), "[body.newEmail] Invalid email address");
}

#[tokio::test]
async fn changing_the_email_without_a_session_is_unauthorized() {
    let app = TestApp::spawn().await;

    let status = call!(app, change_email, change_email("new@example.com")).unwrap_err();

    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
}
