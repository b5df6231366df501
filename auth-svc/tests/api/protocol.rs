use tonic_health::pb::health_check_response::ServingStatus;
use warden_testkit::grpc::{health_status, reflection_v1_services, reflection_v1alpha_services};

use crate::helpers::TestApp;

#[tokio::test]
async fn health_reports_serving_overall_and_for_the_service() {
    let app = TestApp::spawn().await;

    for service in ["", "warden.auth.v1.AuthService"] {
        assert_eq!(
            health_status(app.addr, service).await,
            ServingStatus::Serving,
            "{service:?}"
        );
    }
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_the_service_without_credentials() {
    let app = TestApp::spawn().await;

    let v1 = reflection_v1_services(app.addr).await;
    let v1alpha = reflection_v1alpha_services(app.addr).await;

    for expected in ["warden.auth.v1.AuthService", "grpc.health.v1.Health"] {
        assert!(v1.contains(&expected.to_owned()), "{v1:?}");
    }
    for expected in [
        "warden.auth.v1.AuthService",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(v1alpha.contains(&expected.to_owned()), "{v1alpha:?}");
    }
}

#[tokio::test]
async fn grpc_web_calls_are_answered_on_the_same_port_with_cors_for_trusted_origins() {
    let app = TestApp::spawn_with(|config| {
        config.trusted_origins = "http://app.example".parse().unwrap()
    })
    .await;
    let http = reqwest::Client::new();
    // An empty SignOutRequest: a data frame with a zero-length message.
    let frame = vec![0u8, 0, 0, 0, 0];

    let response = http
        .post(format!(
            "http://{}/warden.auth.v1.AuthService/SignOut",
            app.addr
        ))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", "http://app.example")
        .body(frame)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "http://app.example"
    );
    let body = response.bytes().await.unwrap();
    // A data frame holding `success: true` (field 1, varint 1), then a trailer frame with grpc-status 0.
    assert_eq!(&body[..7], &[0, 0, 0, 0, 2, 0x08, 0x01]);
    let trailers = String::from_utf8_lossy(&body[7..]);
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    let preflight = http
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{}/warden.auth.v1.AuthService/SignOut", app.addr),
        )
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
