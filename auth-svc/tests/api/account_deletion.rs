//! DeleteUser.

use tonic::Code;
use warden_proto::auth::v1 as pb;

use crate::account_support::call;
use crate::helpers::{PASSWORD, TestApp, assert_error};

fn delete(password: Option<&str>, token: Option<&str>) -> pb::DeleteUserRequest {
    pb::DeleteUserRequest {
        password: password.map(str::to_owned),
        token: token.map(str::to_owned),
        callback_url: None,
    }
}

async fn users(app: &TestApp) -> Vec<String> {
    app.query_strings(r#"select "email" from "user""#).await
}

#[tokio::test]
async fn with_the_password_the_account_and_every_session_go() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    let other = app
        .sign_in("ada@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    app.get_session(&other).await.unwrap(); // cached
    app.sign_up("bob@example.com").await;

    let response = call!(app, delete_user, delete(Some(PASSWORD), None), &token).unwrap();

    assert!(response.success);
    assert_eq!(response.message, "User deleted");
    assert_eq!(users(&app).await, ["bob@example.com"]);
    for gone in [&token, &other] {
        assert_error(
            &app.get_session(gone).await.unwrap_err(),
            Code::Unauthenticated,
            "UNAUTHORIZED",
        );
    }
    let accounts = app
        .query_strings(r#"select "accountId" from "account""#)
        .await;
    assert_eq!(accounts.len(), 1);
    assert_error(
        &app.sign_in("ada@example.com", PASSWORD).await.unwrap_err(),
        Code::Unauthenticated,
        "INVALID_EMAIL_OR_PASSWORD",
    );
}

#[tokio::test]
async fn a_wrong_password_is_invalid_password_and_deletes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let status = call!(
        app,
        delete_user,
        delete(Some("wrong password!"), None),
        &token
    )
    .unwrap_err();

    assert_error(&status, Code::InvalidArgument, "INVALID_PASSWORD");
    assert_eq!(users(&app).await, ["ada@example.com"]);
}

#[tokio::test]
async fn a_fresh_session_is_enough_without_a_password() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    call!(app, delete_user, delete(None, None), &token).unwrap();

    assert!(users(&app).await.is_empty());
}

#[tokio::test]
async fn a_session_older_than_a_day_needs_the_password() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    app.execute(r#"update "session" set "createdAt" = now() - interval '25 hours'"#)
        .await;
    app.evict(&token).await;

    let status = call!(app, delete_user, delete(Some(""), None), &token).unwrap_err();

    assert_error(&status, Code::FailedPrecondition, "SESSION_EXPIRED");
    assert_eq!(
        status.message(),
        "Session expired. Re-authenticate to perform this action."
    );
    assert_eq!(users(&app).await, ["ada@example.com"]);
    call!(app, delete_user, delete(Some(PASSWORD), None), &token).unwrap();
    assert!(users(&app).await.is_empty());
}

#[tokio::test]
async fn an_unknown_deletion_token_is_invalid_token() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let status = call!(app, delete_user, delete(None, Some("nope")), &token).unwrap_err();

    assert_error(&status, Code::InvalidArgument, "INVALID_TOKEN");
    assert_eq!(users(&app).await, ["ada@example.com"]);
}

#[tokio::test]
async fn a_deletion_token_better_auth_stored_deletes_its_own_account() {
    let app = TestApp::spawn().await;
    let response = app.sign_up("ada@example.com").await;
    let token = response.token.unwrap();
    let user_id = response.user.unwrap().id;
    app.execute(&format!(
        r#"insert into "verification" ("id", "identifier", "value", "expiresAt", "createdAt", "updatedAt")
           values ('v1', 'delete-account-abc123', '{user_id}', now() + interval '1 hour', now(), now())"#
    ))
    .await;

    call!(app, delete_user, delete(None, Some("abc123")), &token).unwrap();

    assert!(users(&app).await.is_empty());
    let left = app
        .query_strings(r#"select "id" from "verification""#)
        .await;
    assert!(left.is_empty());
}

#[tokio::test]
async fn deleting_without_a_session_is_unauthorized() {
    let app = TestApp::spawn().await;

    let status = call!(app, delete_user, delete(Some(PASSWORD), None)).unwrap_err();

    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
}
