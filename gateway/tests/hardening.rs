//! The protections the gateway applies by itself, answered in-process with auth-svc unreachable.

use axum::Router;
use axum::body::Body;
use gateway::config::{Config, Limits};
use gateway::router::router;
use gateway::state::AppState;
use http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;
use warden_common::AuthSecret;
use warden_common::settings::UpstreamUrl;

fn app(limits: Limits) -> Router {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        // Nothing listens on port 1: any call to auth-svc fails at once.
        auth_url: UpstreamUrl::parse("AUTH_URL", "http://127.0.0.1:1").unwrap(),
        task_url: UpstreamUrl::parse("TASK_URL", "http://127.0.0.1:1").unwrap(),
        secret: AuthSecret::parse("x".repeat(32).into()).unwrap(),
        base_url: "https://app.example.com".parse().unwrap(),
        trusted_origins: Default::default(),
        limits,
        cookies: Default::default(),
        tls_ca: None,
        plugins: Default::default(),
    };
    router(AppState::new(&config).unwrap())
}

async fn send(app: Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, Value) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn a_body_without_a_declared_length_is_cut_at_the_limit() {
    let limits = Limits {
        body_limit: 64,
        ..Limits::default()
    };
    // A streamed body: no Content-Length header for the early check to read.
    let chunks = (0..4).map(|_| Ok(vec![b' '; 50])).collect();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/auth/sign-in/email")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(chunked(chunks)))
        .unwrap();
    let (status, _, body) = send(app(limits), request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body,
        json!({"message": "Request body is too large", "code": "PAYLOAD_TOO_LARGE"})
    );
}

/// A stream of the given chunks.
fn chunked(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl tokio_stream::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn https_deployments_also_get_strict_transport_security() {
    let request = Request::builder()
        .uri("/api/auth/ok")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(app(Limits::default()), request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
}

#[tokio::test]
async fn a_get_link_with_a_foreign_callback_is_refused_and_a_relative_one_passes() {
    let request = Request::builder()
        .uri("/api/auth/ok?callbackURL=%2F%2Fevil.example")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(app(Limits::default()), request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"message": "Invalid callbackURL", "code": "INVALID_CALLBACK_URL"})
    );
    let request = Request::builder()
        .uri("/api/auth/ok?callbackURL=%2Fhome")
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = send(app(Limits::default()), request).await;
    assert_eq!(status, StatusCode::OK);
}
