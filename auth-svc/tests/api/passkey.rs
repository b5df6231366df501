//! `warden.auth.v1.PasskeyService` as a client without cookies uses it: the options as JSON with a ceremony token,
//! the authenticator's answer sent back with that token, a sign-in that opens a session, and the refusals with
//! Better Auth's reasons. The authenticator is the testkit's own.

use serde_json::Value;
use tonic::transport::Channel;
use tonic::{Code, Request};
use warden_proto::auth::v1::{self as pb, passkey_service_client::PasskeyServiceClient};
use warden_testkit::webauthn::{Algorithm, Authenticator, Lie};

use crate::helpers::{TestApp, assert_error, bearer};

/// The origin a browser on the default BASE_URL (http://127.0.0.1:8080) signs into its client data.
const ORIGIN: &str = "http://127.0.0.1:8080";

async fn client(app: &TestApp) -> PasskeyServiceClient<Channel> {
    PasskeyServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap()
}

fn options(answer: &pb::PasskeyOptions) -> Value {
    serde_json::from_str(&answer.options_json).unwrap()
}

/// Registers a new ES256 passkey for `token`'s user; the stored row.
async fn register(app: &TestApp, token: &str, authenticator: &mut Authenticator) -> pb::Passkey {
    let mut passkeys = client(app).await;
    let ceremony = passkeys
        .generate_register_options(bearer(pb::GenerateRegisterOptionsRequest::default(), token))
        .await
        .unwrap()
        .into_inner();
    let response = authenticator.register(&options(&ceremony), ORIGIN);
    passkeys
        .verify_registration(bearer(
            pb::VerifyRegistrationRequest {
                response_json: response.to_string(),
                name: Some("Laptop".into()),
                create_session: false,
                challenge: ceremony.challenge,
                without_origin: false,
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .passkey
        .unwrap()
}

async fn sign_in(
    app: &TestApp,
    authenticator: &mut Authenticator,
    lie: &Lie,
) -> Result<pb::VerifyAuthenticationResponse, tonic::Status> {
    let mut passkeys = client(app).await;
    let ceremony = passkeys
        .generate_authenticate_options(Request::new(pb::GenerateAuthenticateOptionsRequest {}))
        .await
        .unwrap()
        .into_inner();
    let assertion = authenticator.assert_lying(&options(&ceremony), ORIGIN, lie);
    passkeys
        .verify_authentication(Request::new(pb::VerifyAuthenticationRequest {
            response_json: assertion.to_string(),
            challenge: ceremony.challenge,
        }))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_client_without_cookies_registers_and_signs_in() {
    let app = TestApp::spawn().await;
    let token = app.user_token("grpc-pk@example.com").await;
    let mut authenticator = Authenticator::new(Algorithm::EdDsa);
    let passkey = register(&app, &token, &mut authenticator).await;
    assert_eq!(passkey.name.as_deref(), Some("Laptop"));
    assert_eq!(passkey.credential_id, authenticator.credential_id());
    assert_eq!(passkey.public_key, authenticator.public_key_base64());

    let signed_in = sign_in(&app, &mut authenticator, &Lie::default())
        .await
        .unwrap();
    let session = signed_in.session.unwrap();
    assert_eq!(signed_in.user.unwrap().email, "grpc-pk@example.com");
    // The raw token works as any session's.
    let resolved = app.get_session(&session.token).await.unwrap();
    assert_eq!(resolved.session.unwrap().id, session.id);

    let listed = client(&app)
        .await
        .list_user_passkeys(bearer(pb::ListUserPasskeysRequest {}, &session.token))
        .await
        .unwrap()
        .into_inner()
        .passkeys;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].counter, 1);

    // With create_session, a registration also opens a session.
    let mut passkeys = client(&app).await;
    let ceremony = passkeys
        .generate_register_options(bearer(
            pb::GenerateRegisterOptionsRequest::default(),
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut second = Authenticator::new(Algorithm::Es256);
    let response = second.register(&options(&ceremony), ORIGIN);
    let registered = passkeys
        .verify_registration(bearer(
            pb::VerifyRegistrationRequest {
                response_json: response.to_string(),
                create_session: true,
                challenge: ceremony.challenge,
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let opened = registered.session.unwrap();
    assert_ne!(opened.token, token);
    assert!(app.get_session(&opened.token).await.is_ok());
}

#[tokio::test]
async fn refusals_carry_better_auths_reasons() {
    let app = TestApp::spawn().await;
    let token = app.user_token("grpc-refused@example.com").await;
    let mut authenticator = Authenticator::new(Algorithm::Es256);
    let passkey = register(&app, &token, &mut authenticator).await;

    let unverified = Lie {
        unverified: true,
        ..Default::default()
    };
    let refused = sign_in(&app, &mut authenticator, &unverified)
        .await
        .unwrap_err();
    assert_error(&refused, Code::InvalidArgument, "AUTHENTICATION_FAILED");
    let forged = Lie {
        bad_signature: true,
        ..Default::default()
    };
    let refused = sign_in(&app, &mut authenticator, &forged)
        .await
        .unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "AUTHENTICATION_FAILED");

    let refused = client(&app)
        .await
        .verify_authentication(Request::new(pb::VerifyAuthenticationRequest {
            response_json: "{}".into(),
            challenge: "no-such-ceremony".into(),
        }))
        .await
        .unwrap_err();
    assert_error(&refused, Code::FailedPrecondition, "CHALLENGE_NOT_FOUND");

    let other = app.user_token("grpc-other@example.com").await;
    let refused = client(&app)
        .await
        .delete_passkey(bearer(
            pb::DeletePasskeyRequest {
                id: passkey.id.clone(),
            },
            &other,
        ))
        .await
        .unwrap_err();
    assert_error(&refused, Code::PermissionDenied, "FORBIDDEN");
    let refused = client(&app)
        .await
        .update_passkey(bearer(
            pb::UpdatePasskeyRequest {
                id: passkey.id.clone(),
                name: "Mine".into(),
            },
            &other,
        ))
        .await
        .unwrap_err();
    assert_error(
        &refused,
        Code::PermissionDenied,
        "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY",
    );
    let refused = client(&app)
        .await
        .list_user_passkeys(Request::new(pb::ListUserPasskeysRequest {}))
        .await
        .unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "UNAUTHORIZED");
}

#[tokio::test]
async fn adding_a_passkey_needs_a_recent_sign_in() {
    let app = TestApp::spawn().await;
    let token = app.user_token("grpc-stale@example.com").await;
    app.execute(r#"UPDATE session SET "createdAt" = "createdAt" - interval '2 days'"#)
        .await;
    app.evict(&token).await;
    let refused = client(&app)
        .await
        .generate_register_options(bearer(
            pb::GenerateRegisterOptionsRequest::default(),
            &token,
        ))
        .await
        .unwrap_err();
    assert_error(&refused, Code::PermissionDenied, "SESSION_NOT_FRESH");
    // Listing does not need one.
    let listed = client(&app)
        .await
        .list_user_passkeys(bearer(pb::ListUserPasskeysRequest {}, &token))
        .await
        .unwrap();
    assert!(listed.into_inner().passkeys.is_empty());
}

#[tokio::test]
async fn without_the_plugin_the_service_is_unimplemented() {
    let app = TestApp::spawn_with(|config| {
        config.plugins = "admin,jwt,two-factor".parse().unwrap();
    })
    .await;
    let refused = client(&app)
        .await
        .generate_authenticate_options(Request::new(pb::GenerateAuthenticateOptionsRequest {}))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unimplemented);
}
