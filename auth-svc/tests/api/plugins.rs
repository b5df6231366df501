//! `PLUGINS` on auth-svc: a switched-off plugin's RPCs answer `UNIMPLEMENTED` and health does not report its
//! service; `jwt` off refuses only `IssueToken`, since task-svc verifies JWTs with `GetJwks`.

use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use warden_common::settings::{Plugin, Plugins};
use warden_proto::auth::v1::{self as pb, admin_service_client::AdminServiceClient};

use crate::helpers::{TestApp, bearer};

async fn admin_list(app: &TestApp, token: &str) -> Result<pb::ListUsersResponse, tonic::Status> {
    let mut admin = AdminServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    admin
        .list_users(bearer(pb::ListUsersRequest::default(), token))
        .await
        .map(tonic::Response::into_inner)
}

async fn health_of(app: &TestApp, service: &str) -> Result<i32, Code> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    health
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .map(|answer| answer.into_inner().status)
        .map_err(|status| status.code())
}

#[tokio::test]
async fn without_the_admin_plugin_the_admin_service_is_unimplemented() {
    let app =
        TestApp::spawn_with(|config| config.plugins = Plugins::all().without(Plugin::Admin)).await;
    let token = app.user_token("ada@example.com").await;
    let refused = admin_list(&app, &token).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unimplemented, "{refused:?}");
    assert_eq!(
        health_of(&app, "warden.auth.v1.AdminService").await,
        Err(Code::NotFound)
    );
    // The rest of the service is untouched.
    assert!(app.get_session(&token).await.is_ok());
    assert!(app.issue_token(&token).await.is_ok());
}

#[tokio::test]
async fn with_the_admin_plugin_the_admin_service_answers() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ada@example.com").await;
    // Not an administrator: refused by the plugin, which is there.
    let refused = admin_list(&app, &token).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert_eq!(health_of(&app, "warden.auth.v1.AdminService").await, Ok(1));
}

#[tokio::test]
async fn without_the_jwt_plugin_issue_token_is_unimplemented_and_the_jwks_stays() {
    let app =
        TestApp::spawn_with(|config| config.plugins = Plugins::all().without(Plugin::Jwt)).await;
    let token = app.user_token("ada@example.com").await;
    let refused = app.issue_token(&token).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unimplemented, "{refused:?}");
    assert!(!app.jwks().await.is_empty());
    // Session reads still carry the JWT the gateway calls task-svc with.
    let session = app.get_session(&token).await.unwrap();
    assert!(!session.jwt.is_empty());
}
