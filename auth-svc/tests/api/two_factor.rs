//! `warden.auth.v1.TwoFactorService` as a client without cookies uses it: enrolment with the caller's bearer token,
//! a password sign-in that answers a challenge instead of a session, the challenge sent back with a code, trusted
//! devices as tokens, backup codes, and each refusal with Better Auth's reason. Codes come from the testkit's own
//! authenticator.

use tonic::Code;
use tonic::transport::Channel;
use warden_proto::auth::v1::{self as pb, two_factor_service_client::TwoFactorServiceClient};
use warden_testkit::totp;

use crate::helpers::{PASSWORD, TestApp, assert_error, bearer};

struct Enrolled {
    token: String,
    uri: String,
    backup_codes: Vec<String>,
}

async fn client(app: &TestApp) -> TwoFactorServiceClient<Channel> {
    TwoFactorServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap()
}

async fn enrol(app: &TestApp, email: &str) -> Enrolled {
    let token = app.user_token(email).await;
    let mut two_factor = client(app).await;
    let enabled = two_factor
        .enable(bearer(
            pb::EnableTwoFactorRequest {
                password: PASSWORD.into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(enabled.method, "totp");
    assert_eq!(
        enabled.token, None,
        "enrolment keeps the session until a code is shown"
    );
    let uri = enabled.totp_uri.unwrap();
    let verified = two_factor
        .verify_totp(bearer(
            pb::VerifyCodeRequest {
                code: totp::code(&uri, 0),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(verified.session_opened && !verified.challenge_completed);
    assert_eq!(verified.user.unwrap().two_factor_enabled, Some(true));
    // The session was replaced: the old token is dead, the new one lives.
    assert_error(
        &app.get_session(&token).await.unwrap_err(),
        Code::Unauthenticated,
        "UNAUTHORIZED",
    );
    app.get_session(&verified.token).await.unwrap();
    Enrolled {
        token: verified.token,
        uri,
        backup_codes: enabled.backup_codes,
    }
}

fn challenge_of(answer: &pb::SignInEmailResponse) -> String {
    let challenge = answer.two_factor.as_ref().expect("a challenge");
    assert_eq!(challenge.methods, ["totp", "otp"]);
    assert!(answer.token.is_empty() && answer.session.is_none() && answer.user.is_none());
    challenge.challenge.clone()
}

#[tokio::test]
async fn a_client_without_cookies_completes_the_challenge_and_keeps_a_trusted_device() {
    let app = TestApp::spawn().await;
    let user = enrol(&app, "nia@example.com").await;
    let mut two_factor = client(&app).await;

    let answer = app.sign_in("nia@example.com", PASSWORD).await.unwrap();
    let challenge = challenge_of(&answer);
    let wrong = two_factor
        .verify_totp(pb::VerifyCodeRequest {
            code: "000000".into(),
            challenge: Some(challenge.clone()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&wrong, Code::Unauthenticated, "INVALID_CODE");
    let done = two_factor
        .verify_totp(pb::VerifyCodeRequest {
            code: totp::code(&user.uri, 1),
            challenge: Some(challenge.clone()),
            trust_device: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(done.session_opened && done.challenge_completed && done.remember);
    let session = app.get_session(&done.token).await.unwrap();
    assert_eq!(session.user.unwrap().email, "nia@example.com");
    let trusted = done.trust_device.expect("a trusted-device token");
    // No other row of the user's passes for a challenge: the trusted device's names the user too.
    let row = trusted.split('!').nth(1).unwrap().to_owned();
    let refused = two_factor
        .send_otp(pb::SendOtpRequest {
            challenge: Some(row),
        })
        .await
        .unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "INVALID_TWO_FACTOR_COOKIE");

    let answer = app
        .client
        .clone()
        .sign_in_email(pb::SignInEmailRequest {
            email: "nia@example.com".into(),
            password: PASSWORD.into(),
            trust_device: Some(trusted.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.two_factor.is_none());
    app.get_session(&answer.token).await.unwrap();
    let renewed = answer.trust_device.expect("the device's token is renewed");
    assert_ne!(renewed, trusted);
    // The spent token no longer spares the second factor, and the client is told to drop it.
    let answer = app
        .client
        .clone()
        .sign_in_email(pb::SignInEmailRequest {
            email: "nia@example.com".into(),
            password: PASSWORD.into(),
            trust_device: Some(trusted),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.trust_device_refused);
    challenge_of(&answer);
    // The completed challenge cannot be used twice.
    let again = two_factor
        .verify_totp(pb::VerifyCodeRequest {
            code: totp::code(&user.uri, -1),
            challenge: Some(challenge),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&again, Code::Unauthenticated, "INVALID_TWO_FACTOR_COOKIE");
    // A signed-in caller's check opens nothing.
    let checked = two_factor
        .verify_backup_code(bearer(
            pb::VerifyBackupCodeRequest {
                code: user.backup_codes[0].clone(),
                ..Default::default()
            },
            &user.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!checked.session_opened && !checked.challenge_completed);
    assert_eq!(checked.token, user.token);
}

#[tokio::test]
async fn a_backup_code_can_be_checked_without_opening_a_session() {
    let app = TestApp::spawn().await;
    let user = enrol(&app, "oda@example.com").await;
    let mut two_factor = client(&app).await;
    let challenge = challenge_of(&app.sign_in("oda@example.com", PASSWORD).await.unwrap());
    let checked = two_factor
        .verify_backup_code(pb::VerifyBackupCodeRequest {
            code: user.backup_codes[1].clone(),
            challenge: Some(challenge.clone()),
            disable_session: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(checked.token.is_empty() && !checked.session_opened);
    // As in Better Auth, that used the challenge's last try: it takes no more codes.
    let again = two_factor
        .verify_backup_code(pb::VerifyBackupCodeRequest {
            code: user.backup_codes[2].clone(),
            challenge: Some(challenge),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&again, Code::Unauthenticated, "INVALID_TWO_FACTOR_COOKIE");
    // The code is gone; another one completes a new challenge.
    let challenge = challenge_of(&app.sign_in("oda@example.com", PASSWORD).await.unwrap());
    let again = two_factor
        .verify_backup_code(pb::VerifyBackupCodeRequest {
            code: user.backup_codes[1].clone(),
            challenge: Some(challenge.clone()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&again, Code::Unauthenticated, "INVALID_BACKUP_CODE");
    let done = two_factor
        .verify_backup_code(pb::VerifyBackupCodeRequest {
            code: user.backup_codes[2].clone(),
            challenge: Some(challenge),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(done.session_opened);
}

#[tokio::test]
async fn a_user_banned_during_the_challenge_gets_no_session() {
    let app = TestApp::spawn().await;
    let user = enrol(&app, "pam@example.com").await;
    let challenge = challenge_of(&app.sign_in("pam@example.com", PASSWORD).await.unwrap());
    app.execute(r#"UPDATE "user" SET banned = true WHERE email = 'pam@example.com'"#)
        .await;
    let refused = client(&app)
        .await
        .verify_totp(pb::VerifyCodeRequest {
            code: totp::code(&user.uri, 1),
            challenge: Some(challenge),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&refused, Code::PermissionDenied, "BANNED_USER");
    // And a banned user's password sign-in is refused before any challenge is made.
    let refused = app.sign_in("pam@example.com", PASSWORD).await.unwrap_err();
    assert_error(&refused, Code::PermissionDenied, "BANNED_USER");
}

#[tokio::test]
async fn the_stored_secret_and_codes_are_sealed_and_the_columns_are_better_auths() {
    let app = TestApp::spawn().await;
    let user = enrol(&app, "quin@example.com").await;
    let secret = totp::secret_of(&user.uri);
    let rows = app
        .query_strings(
            r#"SELECT t.secret || '|' || t."backupCodes" || '|' || t.verified::text || '|'
                   || t."failedVerificationCount"::text || '|' || u."twoFactorEnabled"::text AS v
               FROM "twoFactor" t JOIN "user" u ON u.id = t."userId""#,
        )
        .await;
    assert_eq!(rows.len(), 1);
    let parts: Vec<&str> = rows[0].split('|').collect();
    assert!(
        parts[0].bytes().all(|b| b.is_ascii_hexdigit()),
        "sealed secret: {}",
        parts[0]
    );
    assert!(!parts[0].contains(std::str::from_utf8(&secret).unwrap()));
    assert!(
        parts[1].bytes().all(|b| b.is_ascii_hexdigit()),
        "sealed codes"
    );
    assert!(!parts[1].contains(&user.backup_codes[0]));
    assert_eq!(&parts[2..], ["true", "0", "true"]);
}

#[tokio::test]
async fn without_the_plugin_the_service_is_unimplemented_and_sign_in_asks_nothing_more() {
    let app = TestApp::spawn_with(|config| {
        config.plugins = "admin,jwt".parse().unwrap();
    })
    .await;
    let token = app.user_token("rue@example.com").await;
    let refused = client(&app)
        .await
        .enable(bearer(
            pb::EnableTwoFactorRequest {
                password: PASSWORD.into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unimplemented);
    // A user Better Auth had enrolled signs in with the password alone, as Better Auth without the plugin does.
    app.execute(r#"UPDATE "user" SET "twoFactorEnabled" = true"#)
        .await;
    let answer = app.sign_in("rue@example.com", PASSWORD).await.unwrap();
    assert!(answer.two_factor.is_none() && !answer.token.is_empty());
}

#[tokio::test]
async fn two_factor_calls_are_rate_limited_as_better_auth_limits_them() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_enabled = true;
        config.trusted_proxies = Default::default();
    })
    .await;
    let mut two_factor = client(&app).await;
    for _ in 0..3 {
        let refused = two_factor
            .send_otp(pb::SendOtpRequest { challenge: None })
            .await
            .unwrap_err();
        assert_error(&refused, Code::Unauthenticated, "INVALID_TWO_FACTOR_COOKIE");
    }
    let limited = two_factor
        .send_otp(pb::SendOtpRequest { challenge: None })
        .await
        .unwrap_err();
    assert_error(&limited, Code::ResourceExhausted, "RATE_LIMITED");
}

#[tokio::test]
async fn the_jwt_carries_the_flag_as_better_auths_jwt_plugin_signs_the_whole_user() {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let payload = |jwt: &str| -> serde_json::Value {
        let part = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let app = TestApp::spawn().await;
    let fresh = app.user_token("sal@example.com").await;
    assert_eq!(
        payload(&app.issue_token(&fresh).await.unwrap())["twoFactorEnabled"],
        false
    );
    let user = enrol(&app, "ty@example.com").await;
    assert_eq!(
        payload(&app.issue_token(&user.token).await.unwrap())["twoFactorEnabled"],
        true
    );

    let without = TestApp::spawn_with(|config| config.plugins = "admin,jwt".parse().unwrap()).await;
    let token = without.user_token("uma@example.com").await;
    let claims = payload(&without.issue_token(&token).await.unwrap());
    assert!(claims.get("twoFactorEnabled").is_none(), "{claims}");
}
