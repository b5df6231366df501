//! UpdateSession, VerifyPassword and DeleteUserCallback (with DeleteUser's confirmation mail), the RPCs behind
//! Better Auth's remaining core routes.

use std::time::Duration;

use prost_types::{Struct, Value, value::Kind};
use tonic::Code;
use warden_proto::auth::v1 as pb;

use crate::account_support::{call, link, mail_to, mails_to, query};
use crate::helpers::{PASSWORD, TestApp, assert_error, timed};

fn fields(list: &[(&str, Kind)]) -> pb::UpdateSessionRequest {
    pb::UpdateSessionRequest {
        fields: Some(Struct {
            fields: list
                .iter()
                .map(|(name, kind)| {
                    (
                        (*name).to_owned(),
                        Value {
                            kind: Some(kind.clone()),
                        },
                    )
                })
                .collect(),
        }),
    }
}

fn verify(password: &str) -> pb::VerifyPasswordRequest {
    pb::VerifyPasswordRequest {
        password: password.into(),
    }
}

fn callback(token: &str) -> pb::DeleteUserCallbackRequest {
    pb::DeleteUserCallbackRequest {
        token: token.into(),
        callback_url: None,
    }
}

async fn users(app: &TestApp) -> Vec<String> {
    app.query_strings(r#"select "email" from "user" order by "email""#)
        .await
}

#[tokio::test]
async fn update_session_without_additional_fields_has_nothing_to_update() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    for request in [
        fields(&[]),
        fields(&[("foo", Kind::NumberValue(1.0))]),
        fields(&[("userId", Kind::StringValue("someone".into()))]),
        fields(&[("impersonatedBy", Kind::NullValue(0))]),
    ] {
        let status = call!(app, update_session, request, &token).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "No fields to update");
    }
}

#[tokio::test]
async fn update_session_refuses_a_server_only_field() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let request = fields(&[("impersonatedBy", Kind::StringValue("admin".into()))]);
    let status = call!(app, update_session, request, &token).unwrap_err();

    assert_error(&status, Code::InvalidArgument, "FIELD_NOT_ALLOWED");
    assert_eq!(status.message(), "impersonatedBy is not allowed to be set");
}

#[tokio::test]
async fn update_session_without_a_session_is_unauthorized() {
    let app = TestApp::spawn().await;

    let status = call!(app, update_session, fields(&[])).unwrap_err();

    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
}

#[tokio::test]
async fn verify_password_is_true_for_the_right_password_only() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let ok = call!(app, verify_password, verify(PASSWORD), &token).unwrap();
    assert!(ok.status);

    let wrong = call!(app, verify_password, verify("not the password"), &token).unwrap_err();
    assert_error(&wrong, Code::InvalidArgument, "INVALID_PASSWORD");
    assert_eq!(wrong.message(), "Invalid password");

    let long = call!(app, verify_password, verify(&"x".repeat(129)), &token).unwrap_err();
    assert_error(&long, Code::InvalidArgument, "PASSWORD_TOO_LONG");

    let anonymous = call!(app, verify_password, verify(PASSWORD)).unwrap_err();
    assert_error(&anonymous, Code::Unauthenticated, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_user_without_a_password_gets_invalid_password_as_slowly_as_a_wrong_one() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    let no_password = app.user_token("bob@example.com").await;
    app.execute(
        r#"delete from "account" where "userId" = (select "id" from "user" where "email" = 'bob@example.com')"#,
    )
    .await;

    let (wrong, wrong_time) =
        timed(async { call!(app, verify_password, verify("not the password"), &token) }).await;
    let (none, none_time) = timed(async {
        call!(
            app,
            verify_password,
            verify("not the password"),
            &no_password
        )
    })
    .await;

    assert_error(
        &wrong.unwrap_err(),
        Code::InvalidArgument,
        "INVALID_PASSWORD",
    );
    assert_error(
        &none.unwrap_err(),
        Code::InvalidArgument,
        "INVALID_PASSWORD",
    );
    // Both pay for one argon2 verify (over 20 ms even unloaded); a skipped hash answers in a millisecond or two.
    // A floor rather than a ratio: a loaded machine slows either answer, never speeds one up.
    let floor = std::time::Duration::from_millis(12);
    assert!(
        none_time > floor && wrong_time > floor,
        "no credential: {none_time:?}, wrong password: {wrong_time:?}"
    );
}

#[tokio::test]
async fn wrong_passwords_at_verify_password_count_toward_the_sign_in_back_off() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_enabled = true;
        config.throttle_base = Duration::from_secs(2);
    })
    .await;
    let token = app.user_token("ada@example.com").await;

    for _ in 0..5 {
        let wrong = call!(app, verify_password, verify("not the password"), &token).unwrap_err();
        assert_error(&wrong, Code::InvalidArgument, "INVALID_PASSWORD");
    }

    let refused = app.sign_in("ada@example.com", PASSWORD).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    let refused = call!(app, verify_password, verify(PASSWORD), &token).unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
}

async fn mail_confirming_app() -> TestApp {
    TestApp::spawn_with(|config| {
        config.delete_user_verification = true;
        config.base_url = "http://app.example".parse().unwrap();
    })
    .await
}

fn delete_user(password: Option<&str>, callback_url: Option<&str>) -> pb::DeleteUserRequest {
    pb::DeleteUserRequest {
        password: password.map(str::to_owned),
        token: None,
        callback_url: callback_url.map(str::to_owned),
    }
}

#[tokio::test]
async fn with_delete_user_verification_the_account_goes_only_from_the_mailed_link() {
    let app = mail_confirming_app().await;
    let token = app.user_token("ada@example.com").await;
    let other = app
        .sign_in("ada@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    app.sign_up("bob@example.com").await;

    let sent = call!(app, delete_user, delete_user(None, Some("/bye")), &token).unwrap();
    assert!(sent.success);
    assert_eq!(sent.message, "Verification email sent");
    assert_eq!(users(&app).await, ["ada@example.com", "bob@example.com"]);

    let link = link(&mail_to(&app, "ada@example.com").await);
    assert!(
        link.starts_with("http://app.example/api/auth/delete-user/callback?token="),
        "{link}"
    );
    assert_eq!(query(&link, "callbackURL").as_deref(), Some("/bye"));
    let deletion_token = query(&link, "token").unwrap();
    assert_eq!(deletion_token.len(), 32);

    let deleted = call!(app, delete_user_callback, callback(&deletion_token), &token).unwrap();
    assert!(deleted.success);
    assert_eq!(deleted.message, "User deleted");
    assert_eq!(users(&app).await, ["bob@example.com"]);
    for gone in [&token, &other] {
        assert_error(
            &app.get_session(gone).await.unwrap_err(),
            Code::Unauthenticated,
            "UNAUTHORIZED",
        );
    }
}

#[tokio::test]
async fn the_confirmation_mail_needs_the_right_password_when_one_is_given() {
    let app = mail_confirming_app().await;
    let token = app.user_token("ada@example.com").await;

    let wrong = call!(app, delete_user, delete_user(Some("not it"), None), &token).unwrap_err();
    assert_error(&wrong, Code::InvalidArgument, "INVALID_PASSWORD");
    assert_eq!(mails_to(&app, "ada@example.com").await, 0);

    let sent = call!(app, delete_user, delete_user(Some(PASSWORD), None), &token).unwrap();
    assert_eq!(sent.message, "Verification email sent");
    let link = link(&mail_to(&app, "ada@example.com").await);
    assert_eq!(query(&link, "callbackURL").as_deref(), Some("/"));
}

#[tokio::test]
async fn a_deletion_link_works_once_and_only_for_its_user() {
    let app = mail_confirming_app().await;
    let ada = app.user_token("ada@example.com").await;
    let bob = app.user_token("bob@example.com").await;
    call!(app, delete_user, delete_user(None, None), &ada).unwrap();
    let deletion_token = query(&link(&mail_to(&app, "ada@example.com").await), "token").unwrap();

    let anonymous = call!(app, delete_user_callback, callback(&deletion_token)).unwrap_err();
    assert_error(&anonymous, Code::NotFound, "FAILED_TO_GET_USER_INFO");
    assert_eq!(anonymous.message(), "Failed to get user info");

    // Another user's session spends the token without deleting anyone.
    let stranger = call!(app, delete_user_callback, callback(&deletion_token), &bob).unwrap_err();
    assert_error(&stranger, Code::InvalidArgument, "INVALID_TOKEN");
    let spent = call!(app, delete_user_callback, callback(&deletion_token), &ada).unwrap_err();
    assert_error(&spent, Code::InvalidArgument, "INVALID_TOKEN");
    assert_eq!(users(&app).await, ["ada@example.com", "bob@example.com"]);
}

#[tokio::test]
async fn without_the_setting_delete_user_deletes_at_once() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;

    let deleted = call!(app, delete_user, delete_user(None, None), &token).unwrap();

    assert_eq!(deleted.message, "User deleted");
    assert!(users(&app).await.is_empty());
    assert_eq!(mails_to(&app, "ada@example.com").await, 0);
}
