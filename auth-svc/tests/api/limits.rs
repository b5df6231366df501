//! Abuse limits over gRPC: Better Auth's rate limits for callers that reach auth-svc directly, counted by peer and
//! never for the trusted gateway; and the capped back-off after failed sign-ins on one account.

use std::time::Duration;

use redis::AsyncCommands;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;
use warden_proto::auth::v1 as pb;

use crate::helpers::{PASSWORD, TestApp, assert_error};

/// Asserts a rate-limit refusal and returns the wait it announces.
fn assert_rate_limited(status: &Status) -> Duration {
    assert_error(status, Code::ResourceExhausted, "RATE_LIMITED");
    assert_eq!(
        status.message(),
        "Too many requests. Please try again later."
    );
    status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .expect("RetryInfo with a delay")
}

fn forwarded_for<T>(message: T, ip: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("x-forwarded-for", ip.parse().unwrap());
    request
}

fn sign_in_request(email: &str, password: &str) -> pb::SignInEmailRequest {
    pb::SignInEmailRequest {
        email: email.into(),
        password: password.into(),
        ..Default::default()
    }
}

/// auth-svc with its limits on and, for the back-off, a short first wait: long enough that a loaded machine (whose
/// hashing threads run niced) still makes the next attempt inside it.
async fn limited_app(trust_loopback: bool) -> TestApp {
    TestApp::spawn_with(|config| {
        config.rate_limit_enabled = true;
        config.throttle_base = Duration::from_secs(2);
        if !trust_loopback {
            config.trusted_proxies = Default::default();
        }
    })
    .await
}

#[tokio::test]
async fn the_fourth_direct_sign_in_within_ten_seconds_is_resource_exhausted_with_retry_info() {
    let app = limited_app(false).await;
    app.sign_up("direct@example.com").await;
    for _ in 0..3 {
        app.sign_in("direct@example.com", PASSWORD)
            .await
            .expect("within the allowance");
    }
    let refused = app
        .sign_in("direct@example.com", PASSWORD)
        .await
        .unwrap_err();
    let wait = assert_rate_limited(&refused);
    assert!(
        wait > Duration::from_secs(8) && wait <= Duration::from_secs(10),
        "{wait:?}"
    );
    // Other RPCs have their own, larger allowance.
    assert!(!app.jwks().await.is_empty());
}

#[tokio::test]
async fn a_direct_id_token_sign_in_counts_as_a_social_sign_in() {
    let app = limited_app(false).await;
    let mut social = warden_proto::auth::v1::social_service_client::SocialServiceClient::connect(
        format!("http://{}", app.addr),
    )
    .await
    .unwrap();
    let attempt = || pb::SignInWithIdTokenRequest {
        provider: "google".into(),
        id_token: "not.a.token".into(),
        ..Default::default()
    };
    for _ in 0..3 {
        let refused = social.sign_in_with_id_token(attempt()).await.unwrap_err();
        assert_ne!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    }
    let limited = social.sign_in_with_id_token(attempt()).await.unwrap_err();
    assert_rate_limited(&limited);
}

#[tokio::test]
async fn a_direct_caller_cannot_claim_another_address() {
    let app = limited_app(false).await;
    app.sign_up("claims@example.com").await;
    let mut client = app.client.clone();
    for n in 0..3 {
        let request = forwarded_for(
            sign_in_request("claims@example.com", PASSWORD),
            &format!("203.0.113.{n}"),
        );
        client.sign_in_email(request).await.expect("allowed");
    }
    let request = forwarded_for(
        sign_in_request("claims@example.com", PASSWORD),
        "203.0.113.99",
    );
    assert_rate_limited(&client.sign_in_email(request).await.unwrap_err());
}

#[tokio::test]
async fn calls_from_a_trusted_proxy_are_left_to_the_proxy_to_count() {
    // The test's own loopback address is a trusted proxy (the default), as the gateway is.
    let app = limited_app(true).await;
    app.sign_up("proxied@example.com").await;
    let mut client = app.client.clone();
    for n in 0..6 {
        let request = forwarded_for(
            sign_in_request("proxied@example.com", PASSWORD),
            &format!("198.51.100.{n}"),
        );
        let signed_in = client.sign_in_email(request).await.expect("not limited");
        let session = signed_in.into_inner().session.unwrap();
        assert_eq!(
            session.ip_address.as_deref(),
            Some(format!("198.51.100.{n}").as_str())
        );
    }
    // Nor is one forwarded address counted here: the proxy did that.
    for _ in 0..4 {
        let request = forwarded_for(
            sign_in_request("proxied@example.com", PASSWORD),
            "198.51.100.200",
        );
        client.sign_in_email(request).await.expect("not limited");
    }
}

#[tokio::test]
async fn after_five_failures_a_right_password_inside_the_back_off_is_refused_then_accepted() {
    let app = limited_app(true).await;
    app.sign_up("victim@example.com").await;
    for _ in 0..5 {
        let failed = app
            .sign_in("victim@example.com", "wrong password")
            .await
            .unwrap_err();
        assert_error(&failed, Code::Unauthenticated, "INVALID_EMAIL_OR_PASSWORD");
    }
    let refused = app
        .sign_in("victim@example.com", PASSWORD)
        .await
        .unwrap_err();
    let wait = assert_rate_limited(&refused);
    assert!(wait <= Duration::from_secs(2), "{wait:?}");

    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    app.sign_in("victim@example.com", PASSWORD)
        .await
        .expect("accepted once the back-off has passed");

    // The success forgot the failures: the next mistake is an ordinary one.
    let failed = app
        .sign_in("victim@example.com", "wrong password")
        .await
        .unwrap_err();
    assert_error(&failed, Code::Unauthenticated, "INVALID_EMAIL_OR_PASSWORD");
}

#[tokio::test]
async fn the_back_off_grows_with_each_failure() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_enabled = true;
        config.throttle_base = Duration::from_secs(1);
    })
    .await;
    app.sign_up("grows@example.com").await;
    for _ in 0..5 {
        let _ = app.sign_in("grows@example.com", "wrong password").await;
    }
    let first = assert_rate_limited(&app.sign_in("grows@example.com", "x").await.unwrap_err());
    tokio::time::sleep(first + Duration::from_millis(50)).await;
    let failed = app
        .sign_in("grows@example.com", "wrong password")
        .await
        .unwrap_err();
    assert_error(&failed, Code::Unauthenticated, "INVALID_EMAIL_OR_PASSWORD");
    let second = assert_rate_limited(&app.sign_in("grows@example.com", "x").await.unwrap_err());
    // Two bases now, counted from the last failure (a password check ago).
    assert!(
        second > Duration::from_secs(1) && second <= Duration::from_secs(2),
        "{second:?}"
    );
}

#[tokio::test]
async fn an_address_without_an_account_backs_off_the_same_way() {
    let app = limited_app(true).await;
    for _ in 0..5 {
        let failed = app
            .sign_in("nobody@example.com", PASSWORD)
            .await
            .unwrap_err();
        assert_error(&failed, Code::Unauthenticated, "INVALID_EMAIL_OR_PASSWORD");
    }
    let refused = app
        .sign_in("nobody@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_rate_limited(&refused);
    // Other accounts are not affected.
    app.sign_up("bystander@example.com").await;
    app.sign_in("bystander@example.com", PASSWORD)
        .await
        .expect("another account signs in");
}

#[tokio::test]
async fn the_back_off_lives_in_redis_under_a_hashed_key_that_expires() {
    let app = limited_app(true).await;
    let _ = app.sign_in("Hashed@Example.com", "wrong password").await;
    let mut redis = app
        .redis
        .as_ref()
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis.keys(format!("{}*", app.redis_prefix)).await.unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with(&format!("{}backoff:sign-in:", app.redis_prefix)));
    assert!(!keys[0].to_lowercase().contains("example"), "{}", keys[0]);
    let ttl: i64 = redis.pttl(&keys[0]).await.unwrap();
    assert!(ttl > 0 && ttl <= 3_600_000, "{ttl}");
}

#[tokio::test]
async fn without_redis_the_limits_are_counted_in_process() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_enabled = true;
        config.throttle_base = Duration::from_millis(300);
        config.redis_url = None;
        config.trusted_proxies = Default::default();
    })
    .await;
    for _ in 0..3 {
        let _ = app.sign_in("memory@example.com", PASSWORD).await;
    }
    assert_rate_limited(
        &app.sign_in("memory@example.com", PASSWORD)
            .await
            .unwrap_err(),
    );
}

#[tokio::test]
async fn with_limits_off_nothing_is_counted() {
    let app = TestApp::spawn_with(|config| config.trusted_proxies = Default::default()).await;
    app.sign_up("free@example.com").await;
    for _ in 0..8 {
        let _ = app.sign_in("free@example.com", "wrong password").await;
    }
    app.sign_in("free@example.com", PASSWORD)
        .await
        .expect("no limit when RATE_LIMIT_ENABLED is off");
}
