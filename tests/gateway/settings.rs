//! The settings a team coming from Better Auth changes: cookie prefix and domain, session lifetimes, secret rotation.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use warden_common::AuthSecret;

use crate::helpers::{Backend, PASSWORD, TestApp, secret, set_cookies};

const NEWEST: &str = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn";

/// `2:<newest>,1:<the helpers' secret>`: the secret the deployment had, rotated out but still verifying.
fn rotated() -> AuthSecret {
    let list = format!("2:{NEWEST},1:{}", secret().expose());
    AuthSecret::from_settings(Some(&list.into()), None).unwrap()
}

/// The `name=value` pair a response sets for `name`, unless it deletes it.
fn cookie_named(response: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(response.headers())
        .into_iter()
        .find(|cookie| cookie.starts_with(&format!("{name}=")) && !cookie.contains("Max-Age=0"))
        .map(|cookie| cookie.split(';').next().unwrap().to_owned())
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

async fn user_email(app: &TestApp, cookie: &str) -> Option<String> {
    let session = app.session(cookie).await;
    session["user"]["email"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_custom_prefix_names_the_cookies_and_only_that_name_is_read() {
    let app = TestApp::postgres_with(|config| config.cookies.prefix = "my-app".into()).await;

    let response = app.sign_up("prefix@example.com").await;

    assert_eq!(response.status(), 200);
    let cookies = set_cookies(response.headers());
    assert!(
        cookies.iter().all(|c| c.starts_with("my-app.")),
        "{cookies:?}"
    );
    let cookie = cookie_named(&response, "my-app.session_token").expect("my-app.session_token set");
    let value = cookie.split_once('=').unwrap().1;
    assert_eq!(
        user_email(&app, &cookie).await.as_deref(),
        Some("prefix@example.com")
    );
    let default_name = format!("better-auth.session_token={value}");
    assert_eq!(app.session(&default_name).await, Value::Null);

    let signed_out = app
        .post("/api/auth/sign-out", json!({}), Some(&cookie))
        .await;
    let deleted = set_cookies(signed_out.headers());
    for name in [
        "my-app.session_token",
        "my-app.session_data",
        "my-app.dont_remember",
    ] {
        let expected = format!("{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
        assert!(deleted.contains(&expected), "{expected} not in {deleted:?}");
    }
}

#[tokio::test]
async fn a_cookie_domain_is_set_on_every_cookie_and_every_deletion() {
    let app =
        TestApp::postgres_with(|config| config.cookies.domain = Some("example.com".into())).await;

    let response = app
        .post(
            "/api/auth/sign-up/email",
            json!({
                "name": "Ada",
                "email": "domain@example.com",
                "password": PASSWORD,
                "rememberMe": false,
            }),
            None,
        )
        .await;

    let cookies = set_cookies(response.headers());
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for cookie in &cookies {
        assert!(cookie.contains("; Domain=example.com; Path=/;"), "{cookie}");
    }
    let session = cookie_named(&response, "better-auth.session_token").unwrap();
    let signed_out = app
        .post("/api/auth/sign-out", json!({}), Some(&session))
        .await;
    let deleted = set_cookies(signed_out.headers());
    assert_eq!(deleted.len(), 3, "{deleted:?}");
    for cookie in &deleted {
        assert!(
            cookie.ends_with("=; Max-Age=0; Domain=example.com; Path=/; HttpOnly; SameSite=Lax"),
            "{cookie}"
        );
    }
}

#[tokio::test]
async fn a_short_update_age_refreshes_sooner_and_expires_in_sets_the_lifetime() {
    let app = TestApp::postgres_configured(
        |auth| {
            auth.sessions.expires_in = chrono::TimeDelta::hours(1);
            auth.sessions.update_age = chrono::TimeDelta::seconds(3);
        },
        |gateway| gateway.cookies.session_max_age = 3600,
    )
    .await;
    let signed_up = app.sign_up("refresh@example.com").await;
    assert!(
        set_cookies(signed_up.headers())[0].contains("; Max-Age=3600;"),
        "{:?}",
        set_cookies(signed_up.headers())
    );
    let cookie = cookie_named(&signed_up, "better-auth.session_token").unwrap();
    let first = app.get("/api/auth/get-session", Some(&cookie)).await;
    assert!(set_cookies(first.headers()).is_empty(), "not due yet");
    let first: Value = first.json().await.unwrap();
    let created = timestamp(&first["session"]["createdAt"]);
    let expires = timestamp(&first["session"]["expiresAt"]);
    assert_eq!((expires - created).num_seconds(), 3600);

    tokio::time::sleep(Duration::from_millis(3500)).await;
    let refreshed = app.get("/api/auth/get-session", Some(&cookie)).await;

    let again = set_cookies(refreshed.headers());
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(again[0].starts_with(&format!("{cookie};")));
    assert!(again[0].contains("; Max-Age=3600;"), "{again:?}");
    let refreshed: Value = refreshed.json().await.unwrap();
    let later = timestamp(&refreshed["session"]["expiresAt"]);
    assert!(
        later - expires >= chrono::TimeDelta::seconds(3),
        "{expires} → {later}"
    );
    assert!(later - Utc::now() <= chrono::TimeDelta::hours(1));
}

#[tokio::test]
async fn a_session_ends_after_a_short_expires_in() {
    let app = TestApp::postgres_configured(
        |auth| auth.sessions.expires_in = chrono::TimeDelta::seconds(2),
        |gateway| gateway.cookies.session_max_age = 2,
    )
    .await;
    let cookie = app.signed_up_cookie("expiry@example.com").await;
    assert!(user_email(&app, &cookie).await.is_some());

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let response = app.get("/api/auth/get-session", Some(&cookie)).await;

    crate::helpers::assert_deletion_cookies(response.headers());
    assert_eq!(response.json::<Value>().await.unwrap(), Value::Null);
}

#[tokio::test]
async fn a_short_fresh_age_asks_for_a_recent_sign_in_and_zero_turns_it_off() {
    let strict = TestApp::postgres_configured(
        |auth| auth.sessions.fresh_age = chrono::TimeDelta::seconds(1),
        |_| {},
    )
    .await;
    let relaxed = TestApp::postgres_configured(
        |auth| auth.sessions.fresh_age = chrono::TimeDelta::zero(),
        |_| {},
    )
    .await;
    let strict_cookie = strict.signed_up_cookie("fresh@example.com").await;
    let relaxed_cookie = relaxed.signed_up_cookie("fresh@example.com").await;

    tokio::time::sleep(Duration::from_millis(1500)).await;

    let stale = strict
        .get("/api/auth/list-sessions", Some(&strict_cookie))
        .await;
    crate::helpers::assert_error(stale, 403, "SESSION_NOT_FRESH", "Session is not fresh").await;
    let unchecked = relaxed
        .get("/api/auth/list-sessions", Some(&relaxed_cookie))
        .await;
    assert_eq!(unchecked.status(), 200);
}

#[tokio::test]
async fn after_a_secret_rotation_old_cookies_authenticate_and_new_ones_use_the_newest_secret() {
    let app = TestApp::postgres_configured(
        |auth| auth.secret = rotated(),
        |gateway| gateway.secret = rotated(),
    )
    .await;
    let newest = AuthSecret::parse(NEWEST.into()).unwrap();

    let response = app.sign_up("rotate@example.com").await;

    let cookie = cookie_named(&response, "better-auth.session_token").unwrap();
    let wire = cookie.split_once('=').unwrap().1;
    let token = newest
        .verify_cookie(wire)
        .expect("signed with the newest secret");
    assert_eq!(secret().verify_cookie(wire), None, "not with the older one");
    let header = response.headers()["set-auth-token"].to_str().unwrap();
    assert_eq!(newest.verify(header).as_deref(), Some(token.as_str()));

    let old_cookie = format!("better-auth.session_token={}", secret().sign_cookie(&token));
    assert_eq!(
        user_email(&app, &old_cookie).await.as_deref(),
        Some("rotate@example.com")
    );
    let old_bearer = app
        .http
        .get(app.url("/api/auth/get-session"))
        .bearer_auth(secret().sign(&token))
        .send()
        .await
        .unwrap();
    let old_bearer: Value = old_bearer.json().await.unwrap();
    assert_eq!(old_bearer["user"]["email"], "rotate@example.com");
    let stranger = AuthSecret::parse("s".repeat(32).into()).unwrap();
    let forged = format!("better-auth.session_token={}", stranger.sign_cookie(&token));
    assert_eq!(app.session(&forged).await, Value::Null);
}

#[tokio::test]
async fn after_a_secret_rotation_a_key_encrypted_under_the_older_secret_still_signs() {
    let app = TestApp::postgres_configured(
        |auth| auth.secret = rotated(),
        |gateway| gateway.secret = rotated(),
    )
    .await;
    let Backend::Postgres { database_url, .. } = &app.backend else {
        unreachable!("a PostgreSQL deployment")
    };
    // The deployment's key from before the rotation, as Better Auth left it: encrypted under the older secret.
    let store = auth_svc::store::Store::connect(database_url, 1)
        .await
        .unwrap();
    let now = Utc::now();
    let old_key = auth_svc::core::jwt::format::generate(&secret(), now);
    let kept = store
        .create_key_if_none(old_key.clone(), now)
        .await
        .unwrap();
    assert_eq!(kept.id, old_key.id, "no key existed before");
    let cookie = app.signed_up_cookie("oldkey@example.com").await;

    let response = app.get("/api/auth/token", Some(&cookie)).await;

    assert_eq!(response.status(), 200);
    let jwt = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.kid.as_deref(), Some(old_key.id.as_str()));
    let jwks: Value = app.get("/api/auth/jwks", None).await.json().await.unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == old_key.id.as_str())
        .expect("the old key is published");
    let decoding =
        jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&[&app.base_url]);
    validation.set_audience(&[&app.base_url]);
    let claims = jsonwebtoken::decode::<Value>(&jwt, &decoding, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["email"], "oldkey@example.com");
}
