use std::time::Duration;

use auth_svc::{core::jwt::Keys, store::Store};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tonic::Code;
use warden_proto::auth::v1 as pb;

use crate::helpers::{TestApp, assert_error, secret};

const BASE_URL: &str = "https://app.example.test/";
const ISSUER: &str = "https://app.example.test";

async fn spawn() -> TestApp {
    TestApp::spawn_with(|config| {
        config.base_url = BASE_URL.parse().unwrap();
        config.key_refresh = Duration::ZERO;
    })
    .await
}

/// Verifies `token` as a client would, knowing nothing but the JWKS: EdDSA only, the key named by `kid`, the issuer
/// and audience.
fn verify(token: &str, jwks: &[pb::Jwk]) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.expect("a kid");
    let jwk = jwks
        .iter()
        .find(|jwk| jwk.kid == kid)
        .unwrap_or_else(|| panic!("kid {kid} is in the JWKS"));
    assert_eq!(
        (jwk.kty.as_str(), jwk.crv.as_str(), jwk.alg.as_str()),
        ("OKP", "Ed25519", "EdDSA")
    );
    let key = DecodingKey::from_ed_components(&jwk.x).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the token verifies against the JWKS")
        .claims
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn store(app: &TestApp) -> Store {
    Store::connect(&app.database_url, 1).await.unwrap()
}

async fn key_count(app: &TestApp) -> usize {
    app.query_strings(r#"SELECT id FROM jwks"#).await.len()
}

#[tokio::test]
async fn issuing_a_token_without_credentials_is_unauthenticated() {
    let app = spawn().await;

    let status = app
        .client
        .clone()
        .issue_token(pb::IssueTokenRequest {})
        .await
        .unwrap_err();

    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
    let status = app.issue_token("no-such-session").await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
}

#[tokio::test]
async fn an_issued_token_carries_the_user_and_verifies_with_the_jwks_alone() {
    let app = spawn().await;
    let signed_up = app.sign_up("jo@example.com").await;
    let user = signed_up.user.unwrap();

    let token = app.issue_token(&signed_up.token.unwrap()).await.unwrap();

    let claims = verify(&token, &app.jwks().await);
    assert_eq!(claims["sub"], user.id);
    assert_eq!(claims["id"], user.id);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], ISSUER);
    assert_eq!(claims["email"], "jo@example.com");
    assert_eq!(claims["name"], "Alice");
    assert_eq!(claims["emailVerified"], false);
    assert_eq!(claims["role"], "user");
    assert_eq!(claims["banned"], false);
    for null in ["image", "banReason", "banExpires"] {
        assert!(claims[null].is_null(), "{null} is present and null");
    }
    let created = claims["createdAt"].as_str().unwrap();
    assert_eq!(created.len(), "2026-11-23T11:08:21.797Z".len());
    assert!(created.ends_with('Z'));
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 900);
    assert!((iat - Utc::now().timestamp()).abs() < 60);
}

#[tokio::test]
async fn get_session_carries_a_jwt_for_the_sessions_user() {
    let app = spawn().await;
    let signed_up = app.sign_up("lou@example.com").await;

    let session = app
        .get_session(signed_up.token.as_deref().unwrap())
        .await
        .unwrap();

    let claims = verify(&session.jwt, &app.jwks().await);
    assert_eq!(claims["sub"], session.user.unwrap().id);
    assert_eq!(claims["email"], "lou@example.com");
}

#[tokio::test]
async fn every_session_read_carries_a_token_as_signed_for_that_read() {
    let app = spawn().await;
    let session = app.user_token("ria@example.com").await;

    let first = app.get_session(&session).await.unwrap().jwt;
    let first_iat = verify(&first, &app.jwks().await)["iat"].as_i64().unwrap();
    // Past the second `iat` counts in: the token must be signed anew, not handed out again.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let later = app.get_session(&session).await.unwrap().jwt;
    let later_iat = verify(&later, &app.jwks().await)["iat"].as_i64().unwrap();
    assert!(later_iat > first_iat, "{later_iat} after {first_iat}");

    app.execute(r#"UPDATE "user" SET name = 'Ria Renamed' WHERE email = 'ria@example.com'"#)
        .await;
    app.evict(&session).await;
    let renamed = app.get_session(&session).await.unwrap().jwt;
    assert_eq!(
        verify(&renamed, &app.jwks().await)["name"],
        "Ria Renamed",
        "a changed user field is never served stale"
    );

    let new_kid = auth_svc::core::jwt::rotate(&store(&app).await, &secret())
        .await
        .unwrap();
    let rotated = app.get_session(&session).await.unwrap().jwt;
    assert_eq!(kid(&rotated), new_kid, "a new key signs at once");
}

#[tokio::test]
async fn get_jwks_creates_one_key_in_better_auths_shape_when_there_is_none() {
    let app = spawn().await;
    assert_eq!(key_count(&app).await, 0);

    let keys = app.jwks().await;

    assert_eq!(keys.len(), 1);
    let row = app
        .query_strings(
            r#"SELECT json_build_object('id', id, 'publicKey', "publicKey", 'privateKey', "privateKey",
                 'alg', alg, 'crv', crv, 'expiresAt', "expiresAt")::text FROM jwks"#,
        )
        .await;
    let row: Value = serde_json::from_str(&row[0]).unwrap();
    assert_eq!(row["id"], keys[0].kid);
    assert_eq!(row["id"].as_str().unwrap().len(), 32);
    assert_eq!(row["alg"], "EdDSA");
    assert_eq!(row["crv"], "Ed25519");
    assert!(row["expiresAt"].is_null());
    let public: Value = serde_json::from_str(row["publicKey"].as_str().unwrap()).unwrap();
    assert_eq!(
        public,
        serde_json::json!({"crv": "Ed25519", "x": keys[0].x, "kty": "OKP"})
    );
    let private = row["privateKey"].as_str().unwrap();
    let hex_text: String = serde_json::from_str(private).expect("a JSON string literal");
    assert!(private.starts_with('"') && private.ends_with('"'));
    assert!(hex_text.bytes().all(|c| c.is_ascii_hexdigit()));
    // The next reads reuse the key.
    assert_eq!(app.jwks().await, keys);
    let token = app.user_token("kai@example.com").await;
    assert_eq!(kid(&app.issue_token(&token).await.unwrap()), keys[0].kid);
    assert_eq!(key_count(&app).await, 1);
}

#[tokio::test]
async fn replicas_racing_for_the_first_key_create_only_one() {
    let app = spawn().await;
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(Keys::new(
            store(&app).await,
            secret(),
            &BASE_URL.parse().unwrap(),
            Duration::ZERO,
        ));
    }

    let listed = futures::future::join_all(replicas.iter().map(Keys::jwks)).await;

    let kids: Vec<String> = listed
        .into_iter()
        .map(|keys| keys.unwrap()[0].kid.clone())
        .collect();
    assert!(kids.iter().all(|k| *k == kids[0]), "{kids:?}");
    assert_eq!(key_count(&app).await, 1);
}

#[tokio::test]
async fn after_a_rotation_new_tokens_carry_the_new_kid_and_old_ones_still_verify() {
    let app = spawn().await;
    let session = app.user_token("ann@example.com").await;
    let before = app.issue_token(&session).await.unwrap();
    let old_kid = kid(&before);

    let new_kid = auth_svc::core::jwt::rotate(&store(&app).await, &secret())
        .await
        .unwrap();

    assert_ne!(new_kid, old_kid);
    let after = app.issue_token(&session).await.unwrap();
    assert_eq!(kid(&after), new_kid);
    let from_session = app.get_session(&session).await.unwrap().jwt;
    assert_eq!(kid(&from_session), new_kid);
    let jwks = app.jwks().await;
    let kids: Vec<&str> = jwks.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);
    verify(&before, &jwks);
    verify(&after, &jwks);
    let retired = app
        .query_strings(&format!(
            r#"SELECT ("expiresAt" <= now())::text FROM jwks WHERE id = '{old_kid}'"#
        ))
        .await;
    assert_eq!(retired, ["true"]);
}

#[tokio::test]
async fn a_running_service_keeps_its_key_until_the_refresh_interval_passes() {
    let app = TestApp::spawn_with(|config| {
        config.base_url = BASE_URL.parse().unwrap();
        config.key_refresh = Duration::from_secs(3600);
    })
    .await;
    let session = app.user_token("max@example.com").await;
    let old_kid = kid(&app.issue_token(&session).await.unwrap());

    auth_svc::core::jwt::rotate(&store(&app).await, &secret())
        .await
        .unwrap();

    // Still the old key, which the JWKS keeps publishing, so the token verifies.
    let token = app.issue_token(&session).await.unwrap();
    assert_eq!(kid(&token), old_kid);
    verify(&token, &app.jwks().await);
}

#[tokio::test]
async fn a_key_better_auth_wrote_signs_the_tokens() {
    let app = spawn().await;
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/better-auth-jwks-row.json")).unwrap();
    assert_eq!(fixture["secret"].as_str().unwrap(), secret().expose());
    let text = |name: &str| fixture[name].as_str().unwrap().to_owned();
    app.execute(&format!(
        r#"INSERT INTO jwks (id, "publicKey", "privateKey", "createdAt", "expiresAt", alg, crv)
           VALUES ('{}', '{}', '{}', now(), NULL, '{}', '{}')"#,
        text("id"),
        text("publicKey"),
        text("privateKey"),
        text("alg"),
        text("crv"),
    ))
    .await;
    let session = app.user_token("eve@example.com").await;

    let token = app.issue_token(&session).await.unwrap();

    assert_eq!(kid(&token), text("id"));
    let jwks = app.jwks().await;
    assert_eq!(jwks.len(), 1);
    assert_eq!(jwks[0].x, text("x"));
    assert_eq!(verify(&token, &jwks)["email"], "eve@example.com");
    assert_eq!(key_count(&app).await, 1);
}

#[tokio::test]
async fn expired_keys_stay_in_the_jwks_for_thirty_days_and_never_sign() {
    let app = spawn().await;
    let insert = |id: &str, expired_days_ago: i64| {
        let mut row = auth_svc::core::jwt::format::generate(&secret(), Utc::now());
        row.id = id.to_owned();
        format!(
            r#"INSERT INTO jwks (id, "publicKey", "privateKey", "createdAt", "expiresAt", alg, crv)
               VALUES ('{id}', '{}', '{}', now() - interval '60 days',
                       now() - interval '{expired_days_ago} days', 'EdDSA', 'Ed25519')"#,
            row.public_key, row.private_key,
        )
    };
    app.execute(&insert("expired29daysago000000000000000a", 29))
        .await;
    app.execute(&insert("expired31daysago000000000000000b", 31))
        .await;
    let session = app.user_token("ida@example.com").await;

    let token = app.issue_token(&session).await.unwrap();

    let jwks = app.jwks().await;
    let kids: Vec<&str> = jwks.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0], kid(&token), "a new key signs, listed first");
    assert_eq!(kids[1], "expired29daysago000000000000000a");
    assert_eq!(key_count(&app).await, 3);
}

#[tokio::test]
async fn the_rotate_keys_command_prints_the_new_kid() {
    let app = spawn().await;
    let first = app.jwks().await[0].kid.clone();

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_auth-svc"))
        .arg("rotate-keys")
        .env("DATABASE_URL", &app.database_url)
        .env("AUTH_SECRET", secret().expose())
        .env_remove("BETTER_AUTH_SECRET")
        .output()
        .unwrap();

    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    let new_kid = printed.trim();
    assert_eq!(new_kid.len(), 32);
    let kids: Vec<String> = app.jwks().await.into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, [new_kid.to_owned(), first]);
}

#[tokio::test]
async fn keys_are_created_rotated_and_published_on_sqlite_too() {
    let store = Store::connect("sqlite::memory:", 1).await.unwrap();
    migrations::migrate_connection(store.connection())
        .await
        .unwrap();
    let keys = Keys::new(
        store.clone(),
        secret(),
        &BASE_URL.parse().unwrap(),
        Duration::ZERO,
    );
    let now = auth_svc::domain::now();
    let user = auth_svc::domain::UserRecord {
        id: "sqlite-user".into(),
        name: "Sam".into(),
        email: "sam@example.com".into(),
        email_verified: true,
        image: None,
        created_at: now,
        updated_at: now,
        role: Some("user".into()),
        banned: Some(false),
        ban_reason: None,
        ban_expires: None,
        two_factor_enabled: Some(false),
    };

    let first = keys.issue(&user).await.unwrap();
    let new_kid = auth_svc::core::jwt::rotate(&store, &secret())
        .await
        .unwrap();
    let second = keys.issue(&user).await.unwrap();

    assert_eq!(kid(&second), new_kid);
    let jwks: Vec<pb::Jwk> = keys
        .jwks()
        .await
        .unwrap()
        .into_iter()
        .map(|key| pb::Jwk {
            kid: key.kid,
            kty: key.kty,
            crv: key.crv,
            x: key.x,
            alg: key.alg,
        })
        .collect();
    assert_eq!(jwks.len(), 2);
    assert_eq!(jwks[0].kid, new_kid);
    assert_eq!(verify(&first, &jwks)["sub"], "sqlite-user");
    assert_eq!(verify(&second, &jwks)["emailVerified"], true);
}
