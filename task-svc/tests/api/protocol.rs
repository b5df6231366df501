use tonic_health::pb::health_check_response::ServingStatus;
use warden_testkit::grpc::{health_status, reflection_v1_services, reflection_v1alpha_services};

use crate::helpers::TestApp;

#[tokio::test]
async fn health_reports_serving_overall_and_for_the_service() {
    let app = TestApp::spawn().await;

    for service in ["", "warden.task.v1.TaskService"] {
        assert_eq!(
            health_status(app.task_addr, service).await,
            ServingStatus::Serving,
            "{service:?}"
        );
    }
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_the_service_without_credentials() {
    let app = TestApp::spawn().await;

    let v1 = reflection_v1_services(app.task_addr).await;
    let v1alpha = reflection_v1alpha_services(app.task_addr).await;

    for expected in ["warden.task.v1.TaskService", "grpc.health.v1.Health"] {
        assert!(v1.contains(&expected.to_owned()), "{v1:?}");
    }
    for expected in [
        "warden.task.v1.TaskService",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(v1alpha.contains(&expected.to_owned()), "{v1alpha:?}");
    }
    // Only what this port serves is advertised, not every service in the shared descriptors.
    for listed in [&v1, &v1alpha] {
        assert!(
            !listed.iter().any(|name| name.starts_with("warden.auth.")),
            "{listed:?}"
        );
    }
}

#[tokio::test]
async fn grpc_web_calls_are_authenticated_and_answered_with_cors_for_trusted_origins() {
    let app = TestApp::spawn_with(|settings| {
        settings.task.trusted_origins = "http://app.example".parse().unwrap();
    })
    .await;
    let user = app.sign_up("ada@example.com").await;
    let http = reqwest::Client::new();
    let url = format!(
        "http://{}/warden.task.v1.TaskService/ListTasks",
        app.task_addr
    );
    // An empty ListTasksRequest: a data frame with a zero-length message.
    let frame = vec![0u8, 0, 0, 0, 0];

    let anonymous = http
        .post(&url)
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", "http://app.example")
        .body(frame.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 200);
    assert_eq!(anonymous.headers().get("grpc-status").unwrap(), "16");
    assert_eq!(
        anonymous
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "http://app.example"
    );

    let signed_in = http
        .post(&url)
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", "http://app.example")
        .header("authorization", format!("Bearer {}", user.jwt))
        .body(frame)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let body = signed_in.bytes().await.unwrap();
    let trailers = String::from_utf8_lossy(&body);
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    let preflight = http
        .request(reqwest::Method::OPTIONS, &url)
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
