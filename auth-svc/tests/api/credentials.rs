use tonic::{Code, Request};
use warden_proto::auth::v1 as pb;

use crate::helpers::{TestApp, assert_error, secret};

#[tokio::test]
async fn a_raw_or_signed_token_authenticates() {
    let app = TestApp::spawn().await;
    let token = app.user_token("hank@example.com").await;

    let raw = app.get_session(&token).await.unwrap();
    let signed = app.get_session(&secret().sign(&token)).await.unwrap();
    let encoded = app
        .get_session(&secret().sign_cookie(&token))
        .await
        .unwrap();

    for response in [raw, signed, encoded] {
        assert_eq!(response.user.unwrap().email, "hank@example.com");
        assert_eq!(response.session.unwrap().token, token);
    }
}

#[tokio::test]
async fn a_tampered_signature_or_a_stored_hash_authenticates_nothing() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ivy@example.com").await;
    let listed = app.list_sessions(&token).await.unwrap();
    let stored_hash = listed[0].token.clone();
    assert_eq!(stored_hash, warden_common::token::hash_token(&token));
    let signed = secret().sign(&token);
    let tampered = format!("{}{}", &signed[..signed.len() - 3], "AA=");

    for presented in [
        tampered,
        stored_hash.clone(),
        secret().sign(&stored_hash),
        "nonsense".into(),
    ] {
        let status = app.get_session(&presented).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn every_session_rpc_without_credentials_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let mut client = app.client.clone();

    let statuses = [
        client
            .get_session(Request::new(pb::GetSessionRequest::default()))
            .await
            .unwrap_err(),
        client
            .list_sessions(Request::new(pb::ListSessionsRequest {}))
            .await
            .unwrap_err(),
        client
            .revoke_session(Request::new(pb::RevokeSessionRequest { token: "x".into() }))
            .await
            .unwrap_err(),
        client
            .revoke_sessions(Request::new(pb::RevokeSessionsRequest {}))
            .await
            .unwrap_err(),
        client
            .revoke_other_sessions(Request::new(pb::RevokeOtherSessionsRequest {}))
            .await
            .unwrap_err(),
    ];

    for status in statuses {
        assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
        assert_eq!(status.message(), "Unauthorized");
    }
}

#[tokio::test]
async fn sign_out_succeeds_without_credentials() {
    let app = TestApp::spawn().await;

    let response = app
        .client
        .clone()
        .sign_out(Request::new(pb::SignOutRequest {}))
        .await
        .unwrap();

    assert!(response.into_inner().success);
}

#[tokio::test]
async fn a_header_naming_a_user_has_no_effect() {
    let app = TestApp::spawn().await;
    let user_id = app.sign_up("jay@example.com").await.user.unwrap().id;
    let mut request = Request::new(pb::GetSessionRequest::default());
    request
        .metadata_mut()
        .insert("x-user-id", user_id.parse().unwrap());

    let status = app.client.clone().get_session(request).await.unwrap_err();

    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
}
