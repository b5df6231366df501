use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use warden_proto::task::v1 as pb;

use crate::helpers::{BASE_URL, TestApp, TestKey, assert_unauthenticated, claims, kid_of};

#[tokio::test]
async fn a_call_without_credentials_is_unauthenticated() {
    let app = TestApp::spawn().await;

    let result = app
        .tasks
        .clone()
        .list_tasks(pb::ListTasksRequest::default())
        .await;

    assert_unauthenticated(result);
}

#[tokio::test]
async fn malformed_and_unknown_bearers_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;

    for token in [
        "not-a-session",
        "a.b.c",
        "x".repeat(32).as_str(),
        &format!("{}.forged", user.session_token),
        // A stored token hash is not a credential.
        &warden_common::token::hash_token(&user.session_token),
    ] {
        assert_unauthenticated(app.list(token, pb::ListTasksRequest::default()).await);
    }
    let mut request = tonic::Request::new(pb::ListTasksRequest::default());
    request.metadata_mut().insert(
        "authorization",
        format!("Basic {}", user.session_token).parse().unwrap(),
    );
    assert_unauthenticated(app.tasks.clone().list_tasks(request).await);
}

#[tokio::test]
async fn after_sign_out_the_session_token_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    app.create(&user.session_token, "Before").await.unwrap();

    app.sign_out(&user.session_token).await;

    assert_unauthenticated(app.create(&user.session_token, "After").await);
    assert_unauthenticated(
        app.list(&user.session_token, pb::ListTasksRequest::default())
            .await,
    );
}

#[tokio::test]
async fn a_token_signed_by_a_trusted_key_with_good_claims_is_accepted() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let key = app.trusted_test_key().await;

    let created = app
        .create(&key.sign(&claims(&user.id)), "Signed by the test")
        .await
        .expect("accepted");

    assert_eq!(created.owner_id, user.id);
}

#[tokio::test]
async fn expired_tokens_and_wrong_issuers_or_audiences_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let key = app.trusted_test_key().await;
    let now = chrono::Utc::now().timestamp();
    let with = |field: &str, value: serde_json::Value| {
        let mut claims = claims(&user.id);
        claims[field] = value;
        key.sign(&claims)
    };

    let refused = [
        with("exp", json!(now - 120)),
        with("iss", json!("http://evil.example")),
        with("aud", json!("http://evil.example")),
        with("iss", json!(format!("{BASE_URL}/"))),
        with("aud", json!(["http://evil.example"])),
        with("sub", json!("")),
    ];
    for token in &refused {
        assert_unauthenticated(app.create(token, "Refused").await);
    }
    let mut no_exp = claims(&user.id);
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_unauthenticated(app.create(&key.sign(&no_exp), "Refused").await);
    assert!(app.list_all(&user.jwt).await.is_empty());
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_refused_under_the_real_kid_or_a_new_one() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let real_kid = kid_of(&user.jwt);

    for kid in [real_kid.as_str(), "a-kid-nobody-published"] {
        let forged = TestKey::generate(kid).sign(&claims(&user.id));
        assert_unauthenticated(app.create(&forged, "Forged").await);
    }
    assert!(app.list_all(&user.jwt).await.is_empty());
}

#[tokio::test]
async fn alg_none_and_hs256_with_the_public_key_as_secret_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let kid = kid_of(&user.jwt);
    let jwk = app
        .jwks()
        .await
        .into_iter()
        .find(|jwk| jwk.kid == kid)
        .expect("the signing key is published");
    let payload = URL_SAFE_NO_PAD.encode(claims(&user.id).to_string());

    let mut forged = Vec::new();
    for header in [
        json!({"alg": "none", "kid": kid, "typ": "JWT"}),
        json!({"alg": "None", "kid": kid}),
        json!({"alg": "EdDSA", "kid": kid}),
    ] {
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        forged.push(format!("{header}.{payload}."));
    }
    let raw_public_key = URL_SAFE_NO_PAD.decode(&jwk.x).unwrap();
    for secret in [raw_public_key.as_slice(), jwk.x.as_bytes()] {
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.clone());
        let token = jsonwebtoken::encode(
            &header,
            &claims(&user.id),
            &EncodingKey::from_secret(secret),
        )
        .unwrap();
        forged.push(token);
    }
    // The genuine token's signature under a header that claims HS256.
    let genuine_signature = user.jwt.rsplit('.').next().unwrap();
    let hs_header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "kid": kid}).to_string());
    forged.push(format!("{hs_header}.{payload}.{genuine_signature}"));

    for token in &forged {
        assert_unauthenticated(app.create(token, "Forged").await);
    }
    assert!(app.list_all(&user.jwt).await.is_empty());
}

#[tokio::test]
async fn a_genuine_token_with_its_payload_changed_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let task = app.create(&ada.jwt, "Ada's").await.unwrap();
    let mut parts: Vec<&str> = ada.jwt.split('.').collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!(bob.id);
    let swapped = URL_SAFE_NO_PAD.encode(payload.to_string());
    parts[1] = &swapped;

    let result = app.get(&parts.join("."), &task.id).await;

    assert_unauthenticated(result);
}
