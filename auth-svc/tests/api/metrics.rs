use http::uri::PathAndQuery;
use tokio::net::TcpListener;
use tonic::{Code, transport::Channel};
use warden_proto::auth::v1 as pb;
use warden_testkit::metrics::Scrape;

use crate::helpers::{PASSWORD, TestApp, bearer};

const AUTH: &str = "warden.auth.v1.AuthService";

async fn spawn() -> TestApp {
    TestApp::spawn_with(|config| config.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await
}

async fn scrape(app: &TestApp) -> Scrape {
    let addr = app.metrics_addr.expect("a metrics port");
    Scrape::get(&format!("http://{addr}/metrics")).await
}

fn handled(scrape: &Scrape, method: &str, code: &str) -> f64 {
    scrape.sum(
        "grpc_server_handled_total",
        &[("service", AUTH), ("method", method), ("code", code)],
    )
}

/// Calls `path` on auth-svc with an empty message, as a client that knows a method the server does not.
async fn call_raw(addr: std::net::SocketAddr, path: &'static str) -> tonic::Status {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    grpc.unary::<(), (), _>(
        tonic::Request::new(()),
        PathAndQuery::from_static(path),
        tonic_prost::ProstCodec::default(),
    )
    .await
    .unwrap_err()
}

#[tokio::test]
async fn calls_are_counted_by_method_and_code_with_their_latency() {
    let app = spawn().await;
    let before = scrape(&app).await;

    let token = app.user_token("mia@example.com").await;
    for _ in 0..3 {
        app.get_session(&token).await.unwrap();
    }
    let refused = app.sign_in("mia@example.com", "wrong password").await;
    assert_eq!(refused.unwrap_err().code(), Code::Unauthenticated);

    let after = scrape(&app).await;
    let grew =
        |method: &str, code: &str| handled(&after, method, code) - handled(&before, method, code);
    assert_eq!(grew("SignUpEmail", "OK"), 1.0);
    assert_eq!(grew("GetSession", "OK"), 3.0);
    assert_eq!(grew("SignInEmail", "Unauthenticated"), 1.0);
    assert_eq!(grew("SignInEmail", "OK"), 0.0);
    let timed = &[("service", AUTH), ("method", "GetSession")];
    assert_eq!(
        after.sum("grpc_server_handling_seconds_count", timed)
            - before.sum("grpc_server_handling_seconds_count", timed),
        3.0
    );
    assert!(after.sum("grpc_server_handling_seconds_sum", timed) > 0.0);
    let slowest = &[("service", AUTH), ("method", "GetSession"), ("le", "+Inf")];
    assert_eq!(
        after.sum("grpc_server_handling_seconds_bucket", slowest),
        3.0
    );
}

#[tokio::test]
async fn a_method_the_server_does_not_have_is_counted_as_unknown() {
    let app = spawn().await;

    let status = call_raw(app.addr, "/warden.auth.v1.AuthService/NoSuchMethod").await;
    assert_eq!(status.code(), Code::Unimplemented);
    let status = call_raw(app.addr, "/made.up.Service/Anything").await;
    assert_eq!(status.code(), Code::Unimplemented);

    let scrape = scrape(&app).await;
    let unknown = &[
        ("service", "unknown"),
        ("method", "unknown"),
        ("code", "Unimplemented"),
    ];
    assert_eq!(scrape.sum("grpc_server_handled_total", unknown), 2.0);
    assert!(!scrape.text().contains("NoSuchMethod"));
    assert!(!scrape.text().contains("made.up"));
}

#[tokio::test]
async fn session_lookups_count_a_miss_then_hits_then_the_revocation() {
    let app = spawn().await;
    let token = app.user_token("noa@example.com").await;
    let lookups = |scrape: &Scrape, result: &str| {
        scrape.sum("warden_session_cache_lookups_total", &[("result", result)])
    };

    app.get_session(&token).await.unwrap();
    let first = scrape(&app).await;
    assert_eq!(lookups(&first, "miss"), 1.0, "{}", first.text());
    assert_eq!(lookups(&first, "hit"), 0.0);

    app.get_session(&token).await.unwrap();
    app.get_session(&token).await.unwrap();
    let cached = scrape(&app).await;
    assert_eq!(lookups(&cached, "miss"), 1.0);
    assert_eq!(lookups(&cached, "hit"), 2.0);

    app.client
        .clone()
        .sign_out(bearer(pb::SignOutRequest {}, &token))
        .await
        .unwrap();
    assert!(app.get_session(&token).await.is_err());
    let revoked = scrape(&app).await;
    assert_eq!(lookups(&revoked, "revoked"), 1.0);
    assert_eq!(lookups(&revoked, "fallback"), 0.0);
    assert_eq!(revoked.sum("warden_session_cache_breaker_open", &[]), 0.0);
}

#[tokio::test]
async fn with_redis_unreachable_lookups_fall_back_and_the_breaker_shows_open() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = TestApp::spawn_with(|config| {
        config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        config.redis_url = Some(format!("redis://127.0.0.1:{port}").parse().unwrap());
    })
    .await;
    let token = app.user_token("oli@example.com").await;

    for _ in 0..3 {
        app.get_session(&token).await.unwrap();
    }

    let scrape = scrape(&app).await;
    let lookups =
        |result: &str| scrape.sum("warden_session_cache_lookups_total", &[("result", result)]);
    assert_eq!(lookups("fallback"), 3.0, "{}", scrape.text());
    assert_eq!(lookups("miss") + lookups("hit"), 0.0);
    assert_eq!(scrape.sum("warden_session_cache_breaker_open", &[]), 1.0);
}

#[tokio::test]
async fn the_hashing_queue_and_the_database_pool_are_reported() {
    let app = spawn().await;
    app.user_token("pia@example.com").await;
    app.sign_in("pia@example.com", PASSWORD).await.unwrap();

    let scrape = scrape(&app).await;
    assert_eq!(scrape.sum("warden_password_hash_queue_depth", &[]), 0.0);
    assert!(scrape.sum("warden_password_hash_workers", &[]) >= 1.0);
    let pool = &[("pool", "auth-svc")];
    assert_eq!(scrape.sum("warden_db_pool_max_connections", pool), 3.0);
    let open = scrape.sum("warden_db_pool_connections", pool);
    assert!((1.0..=3.0).contains(&open), "{}", scrape.text());
    assert!(scrape.has(
        "warden_db_pool_connections",
        &[("pool", "auth-svc"), ("state", "in_use")]
    ));
    assert!(scrape.sum("process_resident_memory_bytes", &[]) > 0.0);
}

#[tokio::test]
async fn no_token_or_email_ever_appears_in_the_metrics() {
    let app = spawn().await;
    let token = app.user_token("quinn@example.com").await;
    app.get_session(&token).await.unwrap();
    app.get_session("not-a-real-token").await.ok();
    app.sign_in("quinn@example.com", "wrong password")
        .await
        .ok();

    let scrape = scrape(&app).await;
    for secret in [
        token.as_str(),
        "quinn@example.com",
        "not-a-real-token",
        "wrong password",
    ] {
        assert!(!scrape.text().contains(secret), "{secret} leaked");
    }
    let hash = warden_common::token::hash_token(&token);
    assert!(!scrape.text().contains(&hash));
    let allowed = |value: &str| {
        value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c))
    };
    assert!(scrape.label_values().all(allowed), "{}", scrape.text());
}

#[tokio::test]
async fn only_metrics_are_served_on_the_admin_port() {
    let app = spawn().await;
    let addr = app.metrics_addr.unwrap();
    let response = reqwest::get(format!("http://{addr}/")).await.unwrap();
    assert_eq!(response.status(), 404);
}
