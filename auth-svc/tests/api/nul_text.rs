//! A NUL (U+0000) in text a client sends: PostgreSQL's `text` cannot hold one, so auth-svc refuses it before any
//! query, as a validation error, or as an unknown token where the text is a link's token. Each of these once reached
//! the database and answered `INTERNAL`.

use tonic::{Code, Status};
use warden_proto::auth::v1::{self as pb, admin_service_client::AdminServiceClient};

use crate::account_support::call;
use crate::helpers::{PASSWORD, TestApp, assert_error, bearer};

fn assert_refused(status: &Status, message: &str) {
    assert_error(status, Code::InvalidArgument, "VALIDATION_ERROR");
    assert_eq!(status.message(), message);
}

async fn users(app: &TestApp) -> Vec<String> {
    app.query_strings(r#"select "email" from "user" order by "email""#)
        .await
}

#[tokio::test]
async fn sign_up_refuses_a_nul_in_the_name_or_image_and_creates_no_one() {
    let app = TestApp::spawn().await;
    let sign_up = |name: &str, image: Option<&str>| pb::SignUpEmailRequest {
        name: name.into(),
        email: "ada@example.com".into(),
        password: PASSWORD.into(),
        image: image.map(str::to_owned),
        ..Default::default()
    };

    let name = call!(app, sign_up_email, sign_up("Ada\0", None)).unwrap_err();
    let image = call!(app, sign_up_email, sign_up("Ada", Some("https://img/\0"))).unwrap_err();

    assert_refused(&name, "[body.name] name cannot contain a NUL character");
    assert_refused(&image, "[body.image] image cannot contain a NUL character");
    assert!(users(&app).await.is_empty());
    // A NUL in the password is fine: it is only ever hashed.
    let with_nul = pb::SignUpEmailRequest {
        password: "correct\0horse battery".into(),
        ..sign_up("Ada", None)
    };
    call!(app, sign_up_email, with_nul).expect("a NUL in a password is accepted");
}

#[tokio::test]
async fn update_user_refuses_a_nul_and_keeps_the_profile() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    let update = |name: Option<&str>, image: Option<&str>| pb::UpdateUserRequest {
        name: name.map(str::to_owned),
        image: image.map(str::to_owned),
        remove_image: false,
    };

    let name = call!(app, update_user, update(Some("\0"), None), &token).unwrap_err();
    let image = call!(app, update_user, update(None, Some("a\0b")), &token).unwrap_err();

    assert_refused(&name, "[body.name] name cannot contain a NUL character");
    assert_refused(&image, "[body.image] image cannot contain a NUL character");
    let user = app.get_session(&token).await.unwrap().user.unwrap();
    assert_eq!(user.name, "Alice");
    assert_eq!(user.image, None);
}

#[tokio::test]
async fn a_link_token_with_a_nul_is_an_unknown_token() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    let with_nul = "abc\0def".to_owned();

    let callback = call!(
        app,
        delete_user_callback,
        pb::DeleteUserCallbackRequest {
            token: with_nul.clone(),
            callback_url: None,
        },
        &token
    )
    .unwrap_err();
    let delete = call!(
        app,
        delete_user,
        pb::DeleteUserRequest {
            token: Some(with_nul.clone()),
            ..Default::default()
        },
        &token
    )
    .unwrap_err();
    let reset = call!(
        app,
        reset_password,
        pb::ResetPasswordRequest {
            new_password: "a brand new passphrase".into(),
            token: with_nul.clone(),
        }
    )
    .unwrap_err();
    let check = call!(
        app,
        check_reset_token,
        pb::CheckResetTokenRequest { token: with_nul }
    )
    .unwrap();

    assert_error(&callback, Code::InvalidArgument, "INVALID_TOKEN");
    assert_error(&delete, Code::InvalidArgument, "INVALID_TOKEN");
    assert_error(&reset, Code::InvalidArgument, "INVALID_TOKEN");
    assert!(!check.valid);
    // The account is still there: a bad token never counts as no token.
    assert_eq!(users(&app).await, ["ada@example.com"]);
}

#[tokio::test]
async fn admin_requests_refuse_a_nul_in_ids_and_search_values() {
    let app = TestApp::spawn().await;
    let response = app.sign_up("root@example.com").await;
    let (token, id) = (response.token.unwrap(), response.user.unwrap().id);
    app.execute(&format!(
        r#"UPDATE "user" SET "role" = 'admin' WHERE "id" = '{id}'"#
    ))
    .await;
    let mut admin = AdminServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();

    let get_user = admin
        .get_user(bearer(pb::GetUserRequest { id: "u\0".into() }, &token))
        .await
        .unwrap_err();
    let list_users = admin
        .list_users(bearer(
            pb::ListUsersRequest {
                search_value: Some("ro\0".into()),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    let ban = admin
        .ban_user(bearer(
            pb::BanUserRequest {
                user_id: id.clone(),
                ban_reason: Some("spam\0".into()),
                ban_expires_in: None,
            },
            &token,
        ))
        .await
        .unwrap_err();

    assert_refused(&get_user, "[query.id] id cannot contain a NUL character");
    assert_refused(
        &list_users,
        "[query.searchValue] searchValue cannot contain a NUL character",
    );
    assert_refused(
        &ban,
        "[body.banReason] banReason cannot contain a NUL character",
    );
}
