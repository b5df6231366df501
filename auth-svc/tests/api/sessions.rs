use auth_svc::{cache::SessionCache, core::sessions::Sessions, store::Store};
use chrono::{TimeDelta, Utc};
use tonic::Code;
use warden_common::token::hash_token;
use warden_proto::auth::v1 as pb;

use crate::helpers::{PASSWORD, TestApp, assert_error, bearer};

#[tokio::test]
async fn after_sign_out_the_old_token_is_rejected_through_the_cache() {
    let app = TestApp::spawn().await;
    let token = app.user_token("kim@example.com").await;
    // Twice, so the second read is served from the cache.
    app.get_session(&token).await.unwrap();
    app.get_session(&token).await.unwrap();

    app.client
        .clone()
        .sign_out(bearer(pb::SignOutRequest {}, &token))
        .await
        .unwrap();

    let status = app.get_session(&token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
}

#[tokio::test]
async fn revoking_one_session_by_its_listed_hash_ends_only_that_one() {
    let app = TestApp::spawn().await;
    let first = app.user_token("lee@example.com").await;
    let second = app
        .sign_in("lee@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    app.get_session(&second).await.unwrap();
    let listed = app.list_sessions(&first).await.unwrap();
    assert_eq!(listed.len(), 2);
    let second_hash = hash_token(&second);
    assert!(listed.iter().any(|s| s.token == second_hash));

    let response = app
        .client
        .clone()
        .revoke_session(bearer(
            pb::RevokeSessionRequest { token: second_hash },
            &first,
        ))
        .await
        .unwrap()
        .into_inner();

    assert!(response.status);
    assert!(!response.revoked_current);
    assert!(app.get_session(&second).await.is_err());
    assert!(app.get_session(&first).await.is_ok());
}

#[tokio::test]
async fn revoking_the_current_session_by_raw_token_says_so() {
    let app = TestApp::spawn().await;
    let token = app.user_token("mia@example.com").await;

    let response = app
        .client
        .clone()
        .revoke_session(bearer(
            pb::RevokeSessionRequest {
                token: token.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();

    assert!(response.revoked_current);
    assert!(app.get_session(&token).await.is_err());
}

#[tokio::test]
async fn another_users_session_cannot_be_revoked() {
    let app = TestApp::spawn().await;
    let victim = app.user_token("ned@example.com").await;
    let attacker = app.user_token("oz@example.com").await;

    let response = app
        .client
        .clone()
        .revoke_session(bearer(
            pb::RevokeSessionRequest {
                token: hash_token(&victim),
            },
            &attacker,
        ))
        .await
        .unwrap()
        .into_inner();

    assert!(
        response.status,
        "Better Auth answers true for sessions that are not yours"
    );
    assert!(app.get_session(&victim).await.is_ok());
}

#[tokio::test]
async fn revoke_sessions_ends_all_and_revoke_other_sessions_keeps_the_current() {
    let app = TestApp::spawn().await;
    let a = app.user_token("pat@example.com").await;
    let b = app
        .sign_in("pat@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    let c = app
        .sign_in("pat@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    for token in [&a, &b, &c] {
        app.get_session(token).await.unwrap();
    }

    app.client
        .clone()
        .revoke_other_sessions(bearer(pb::RevokeOtherSessionsRequest {}, &a))
        .await
        .unwrap();
    assert!(app.get_session(&a).await.is_ok());
    assert!(app.get_session(&b).await.is_err());
    assert!(app.get_session(&c).await.is_err());

    app.client
        .clone()
        .revoke_sessions(bearer(pb::RevokeSessionsRequest {}, &a))
        .await
        .unwrap();
    assert!(app.get_session(&a).await.is_err());
    let left = app.query_strings(r#"select "id" from "session""#).await;
    assert!(left.is_empty());
}

#[tokio::test]
async fn listing_sessions_needs_a_fresh_session() {
    let app = TestApp::spawn().await;
    let token = app.user_token("quinn@example.com").await;
    let two_days_ago = Utc::now() - TimeDelta::days(2);
    app.execute(&format!(
        r#"update "session" set "createdAt" = '{}'"#,
        two_days_ago.to_rfc3339()
    ))
    .await;
    app.evict(&token).await;

    let status = app.list_sessions(&token).await.unwrap_err();

    assert_error(&status, Code::PermissionDenied, "SESSION_NOT_FRESH");
}

#[tokio::test]
async fn a_session_due_for_refresh_is_extended_once() {
    let app = TestApp::spawn().await;
    let token = app.user_token("rae@example.com").await;
    // Last refreshed two days ago: five days left.
    let now = Utc::now();
    app.execute(&format!(
        r#"update "session" set "createdAt" = '{}', "updatedAt" = '{}', "expiresAt" = '{}'"#,
        (now - TimeDelta::days(2)).to_rfc3339(),
        (now - TimeDelta::days(2)).to_rfc3339(),
        (now + TimeDelta::days(5)).to_rfc3339()
    ))
    .await;
    app.evict(&token).await;

    let first = app.get_session(&token).await.unwrap();
    let second = app.get_session(&token).await.unwrap();

    assert!(first.refreshed);
    assert!(first.remember);
    let expires = first.session.unwrap().expires_at.unwrap().seconds;
    let week = (Utc::now() + TimeDelta::days(7)).timestamp();
    assert!(
        (week - expires).abs() < 60,
        "extended to about a week from now"
    );
    assert!(!second.refreshed);
    let stored = app
        .query_strings(r#"select cast("expiresAt" as text) from "session""#)
        .await;
    assert_eq!(stored.len(), 1);
}

#[tokio::test]
async fn a_remember_me_false_session_is_never_extended() {
    let app = TestApp::spawn().await;
    app.sign_up("sid@example.com").await;
    let token = app
        .client
        .clone()
        .sign_in_email(pb::SignInEmailRequest {
            email: "sid@example.com".into(),
            password: PASSWORD.into(),
            remember_me: Some(false),
            callback_url: None,
            trust_device: None,
        })
        .await
        .unwrap()
        .into_inner()
        .token;

    let response = app.get_session(&token).await.unwrap();

    assert!(!response.refreshed);
    assert!(!response.remember);
    let session = response.session.unwrap();
    assert_eq!(
        session.expires_at.unwrap().seconds - session.created_at.unwrap().seconds,
        24 * 3600
    );
}

#[tokio::test]
async fn an_expired_session_is_rejected_and_deleted() {
    let app = TestApp::spawn().await;
    let token = app.user_token("tess@example.com").await;
    app.execute(&format!(
        r#"update "session" set "expiresAt" = '{}'"#,
        (Utc::now() - TimeDelta::minutes(1)).to_rfc3339()
    ))
    .await;
    app.evict(&token).await;

    assert!(app.get_session(&token).await.is_err());
    assert!(
        app.query_strings(r#"select "id" from "session""#)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_refill_racing_a_revoke_cannot_bring_the_session_back() {
    let app = TestApp::spawn().await;
    let token = app.user_token("uma@example.com").await;
    let hash = hash_token(&token);
    // A second reader sharing the server's database and cache key space.
    let store = Store::connect(&app.database_url, 1).await.unwrap();
    let cache = SessionCache::redis(
        &warden_testkit::redis_url(),
        &app.redis_prefix,
        std::time::Duration::from_secs(300),
    )
    .unwrap();
    let reader = Sessions::new(store, cache);

    // The reader misses the cache and reads the database while the session is still live...
    let row = reader
        .read_truth(&hash)
        .await
        .unwrap()
        .expect("session row");
    // ...the session is revoked...
    app.client
        .clone()
        .sign_out(bearer(pb::SignOutRequest {}, &token))
        .await
        .unwrap();
    // ...and only then does the reader's refill arrive.
    reader.refill(&hash, &row).await;

    let status = app.get_session(&token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
}
