//! `GET /readyz`: whether this gateway should be sent traffic. It is ready when auth-svc and task-svc both report
//! their service `SERVING` over grpc.health.v1 (each turns `NOT_SERVING` while its database does not answer, and
//! while it drains), and it stops being ready the moment its own drain begins. `GET /api/auth/ok` stays Better
//! Auth's liveness answer, 200 whenever the process serves.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use warden_common::in_process::Transport;

/// The longest one service's health check may take before it counts as not ready.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

const AUTH_SERVICE: &str = "warden.auth.v1.AuthService";
const TASK_SERVICE: &str = "warden.task.v1.TaskService";

/// Health clients for the services behind the gateway, and the gateway's own draining flag.
#[derive(Clone)]
pub struct Readiness {
    auth: HealthClient<Transport>,
    tasks: HealthClient<Transport>,
    draining: Arc<AtomicBool>,
}

impl Readiness {
    pub fn new(auth: Transport, tasks: Transport) -> Self {
        Self {
            auth: HealthClient::new(auth),
            tasks: HealthClient::new(tasks),
            draining: Arc::default(),
        }
    }

    /// From now on `/readyz` answers 503: a drain has begun.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }
}

/// 200 `{"status":"ready",…}` or 503 `{"status":"not ready"|"draining",…}`, each service's status named.
pub async fn readyz(State(readiness): State<Readiness>) -> (StatusCode, Json<Value>) {
    if readiness.draining.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "draining"})),
        );
    }
    let (auth, tasks) = tokio::join!(
        status(readiness.auth, AUTH_SERVICE),
        status(readiness.tasks, TASK_SERVICE)
    );
    let ready = auth == "SERVING" && tasks == "SERVING";
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let status = if ready { "ready" } else { "not ready" };
    (
        code,
        Json(json!({"status": status, "auth": auth, "tasks": tasks})),
    )
}

/// A service's health as a word: `SERVING`, `NOT_SERVING`, `UNKNOWN`, or `UNREACHABLE` when there is no answer.
async fn status(mut client: HealthClient<Transport>, service: &str) -> &'static str {
    let request = HealthCheckRequest {
        service: service.to_owned(),
    };
    match tokio::time::timeout(CHECK_TIMEOUT, client.check(request)).await {
        Ok(Ok(response)) => match response.into_inner().status() {
            ServingStatus::Serving => "SERVING",
            ServingStatus::NotServing => "NOT_SERVING",
            ServingStatus::ServiceUnknown | ServingStatus::Unknown => "UNKNOWN",
        },
        Ok(Err(_)) | Err(_) => "UNREACHABLE",
    }
}
