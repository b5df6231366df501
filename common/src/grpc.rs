//! What every Warden gRPC service serves the same way: one port with gRPC, gRPC-web (behind CORS for the trusted
//! origins), server reflection in v1 and v1alpha, and `grpc.health.v1`; and errors carrying a `google.rpc.ErrorInfo`.

use std::{
    collections::HashMap, convert::Infallible, future::Future, net::SocketAddr, sync::Arc,
    time::Duration,
};

use futures::{TryStreamExt, future::BoxFuture};

use anyhow::Context;
use http::{HeaderName, Method};
use tokio::net::TcpListener;
use tonic::{
    Code, Status,
    body::Body,
    server::NamedService,
    service::Routes,
    transport::{Server, ServerTlsConfig, server::TcpIncoming},
};
use tonic_health::ServingStatus;
use tonic_types::{ErrorDetails, StatusExt};
use tower::{ServiceBuilder, ServiceExt, util::BoxCloneSyncService};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    batched_writes::BatchedWrites,
    in_process::InProcessListener,
    metrics::{GrpcMetricsLayer, Metrics},
    settings::TrustedOrigins,
};

/// A status whose `ErrorInfo.reason` names the error for machines (the gateway maps it to Better Auth's codes).
pub fn status(
    code: Code,
    message: impl Into<String>,
    reason: Option<&str>,
    domain: &str,
) -> Status {
    match reason {
        Some(reason) => Status::with_error_details(
            code,
            message,
            ErrorDetails::with_error_info(reason, domain, HashMap::new()),
        ),
        None => Status::new(code, message),
    }
}

/// CORS for gRPC-web from browsers on the trusted origins (`BASE_URL`'s and `TRUSTED_ORIGINS`, wildcards matched as
/// the gateway matches them: see [`TrustedOrigins::for_site`]).
pub fn grpc_web_cors(origins: TrustedOrigins) -> CorsLayer {
    let header = |name: &'static str| HeaderName::from_static(name);
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|origin| origins.is_trusted(origin, false))
        }))
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers([
            header("content-type"),
            header("authorization"),
            header("x-api-key"),
            header("x-grpc-web"),
            header("x-user-agent"),
            header("grpc-timeout"),
        ])
        .expose_headers([
            header("grpc-status"),
            header("grpc-message"),
            header("grpc-status-details-bin"),
        ])
        .max_age(Duration::from_secs(600))
}

/// Checks readiness every [`READINESS_INTERVAL`] and reports each service accordingly, logging each change.
async fn watch_readiness(
    check: ReadinessCheck,
    reporter: tonic_health::server::HealthReporter,
    names: Vec<&'static str>,
) {
    let mut ready = true;
    let mut ticks = tokio::time::interval(READINESS_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now_ready = tokio::time::timeout(READINESS_INTERVAL, check())
            .await
            .unwrap_or(false);
        if now_ready == ready {
            continue;
        }
        ready = now_ready;
        let status = if ready {
            tracing::info!("ready again: reporting SERVING");
            ServingStatus::Serving
        } else {
            tracing::warn!("not ready (a dependency does not answer): reporting NOT_SERVING");
            ServingStatus::NotServing
        };
        for name in &names {
            reporter.set_service_status(*name, status).await;
        }
    }
}

/// How often readiness is checked, and how long one check may take before it counts as failed.
pub const READINESS_INTERVAL: Duration = Duration::from_secs(2);

/// Whether a service can do its work now (its database answers, say).
pub type ReadinessCheck = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// The gRPC services one port serves, the names health reports for them, and the port's TLS, if any.
///
/// Health has two levels, as Kubernetes' gRPC probes read them. The server as a whole (service `""`) is a liveness
/// answer: `SERVING` from start until a drain begins. Each named service is a readiness answer: also `NOT_SERVING`
/// while its [`ReadinessCheck`] fails (PostgreSQL unreachable), `SERVING` again once it passes.
pub struct Services {
    routes: Routes,
    names: Vec<&'static str>,
    tls: Option<ServerTlsConfig>,
    metrics: Option<Metrics>,
    readiness: Option<ReadinessCheck>,
    /// How long to keep serving after the shutdown signal, already reporting `NOT_SERVING`, so balancers and probes
    /// see it before calls are refused.
    drain_delay: Duration,
    wiring: Wiring,
}

/// How the all-in-one wires a service into its process; a standalone service has the default, nothing.
#[derive(Default)]
pub struct Wiring {
    /// In-process clients to answer beside the TCP ones (see [`crate::in_process`]).
    pub in_process: Option<InProcessListener>,
    /// Also wait for this before closing during a drain: the gateway having drained, since requests it accepted
    /// still call these services.
    pub drain_after: Option<BoxFuture<'static, ()>>,
}

impl Services {
    pub fn new<S>(service: S) -> Self
    where
        S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        Self {
            routes: Routes::new(service),
            names: vec![S::NAME],
            tls: None,
            metrics: None,
            readiness: None,
            drain_delay: Duration::ZERO,
            wiring: Wiring::default(),
        }
    }

    /// Drains after `delay` and as `wiring` says, and serves its in-process clients.
    pub fn wired(mut self, delay: Duration, wiring: Wiring) -> Self {
        self.drain_delay = delay;
        self.wiring = wiring;
        self
    }

    /// Reports each service `NOT_SERVING` while `check` fails or takes longer than [`READINESS_INTERVAL`].
    pub fn ready_when<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.readiness = Some(Arc::new(move || {
            Box::pin(check()) as BoxFuture<'static, bool>
        }));
        self
    }

    /// Counts and times every call on the port (health and reflection included) into `metrics`.
    pub fn observed_by(mut self, metrics: &Metrics) -> Self {
        self.metrics = Some(metrics.clone());
        self
    }

    /// Serves TLS only (see [`crate::tls`]) when `tls` is set.
    pub fn with_tls(mut self, tls: Option<ServerTlsConfig>) -> Self {
        self.tls = tls;
        self
    }

    pub fn with<S>(mut self, service: S) -> Self
    where
        S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.routes = self.routes.add_service(service);
        self.names.push(S::NAME);
        self
    }
}

/// Serves `services` with health, reflection (v1 and v1alpha, describing `descriptors`) and gRPC-web until
/// `shutdown` resolves; then health turns NOT_SERVING, the server keeps serving for the drain delay, and only then
/// stops taking calls and finishes those in flight.
pub async fn serve(
    services: Services,
    descriptors: &'static [u8],
    listener: TcpListener,
    cors: CorsLayer,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let local_addr: SocketAddr = listener.local_addr()?;
    let (reporter, health) = tonic_health::server::health_reporter();
    for name in &services.names {
        reporter
            .set_service_status(*name, ServingStatus::Serving)
            .await;
    }
    // Advertise exactly what this port serves, not every service in the shared descriptor set.
    let advertised = services.names.iter().copied().chain([
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ]);
    let reflection = || {
        advertised.clone().fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(descriptors)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET),
            |builder, name| builder.with_service_name(name),
        )
    };
    let reflection_v1 = reflection().build_v1()?;
    // grpcurl before 1.9 and many GUI clients speak only v1alpha; list v1 there too.
    let reflection_v1alpha = reflection()
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let observed = GrpcMetricsLayer::new(
        services.metrics.clone(),
        &[
            descriptors,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ],
        &advertised.clone().collect::<Vec<_>>(),
    );
    let names = services.names.clone();
    let readiness = services
        .readiness
        .clone()
        .map(|check| tokio::spawn(watch_readiness(check, reporter.clone(), names.clone())));
    let delay = services.drain_delay;
    let Wiring {
        in_process,
        drain_after,
    } = services.wiring;
    let tls = services.tls.is_some();
    let mut server = Server::builder();
    if let Some(tls) = services.tls {
        server = server
            .tls_config(tls)
            .context("TLS_CERT and TLS_KEY cannot be used")?;
    }
    let stack = ServiceBuilder::new()
        .layer(cors)
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(observed)
        .service(
            services
                .routes
                .add_service(health)
                .add_service(reflection_v1)
                .add_service(reflection_v1alpha)
                .prepare(),
        );
    // In-process clients reach the very stack TCP connections do, from the moment it serves until it closes.
    if let Some(in_process) = &in_process {
        in_process.open(BoxCloneSyncService::new(
            ServiceExt::<http::Request<Body>>::map_response(stack.clone(), |response| {
                response.map(Body::new)
            }),
        ));
    }
    let drain = async move {
        shutdown.await;
        if let Some(readiness) = readiness {
            readiness.abort();
        }
        for name in names {
            reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        tracing::info!(
            ?delay,
            "reporting NOT_SERVING; still serving during the drain delay"
        );
        tokio::time::sleep(delay).await;
        if let Some(after) = drain_after {
            after.await;
        }
        if let Some(in_process) = &in_process {
            in_process.close();
        }
        tracing::info!("closing the listener; finishing calls in flight");
    };
    tracing::info!(addr = %local_addr, services = ?services.names, tls, "listening");
    // Without TCP_NODELAY, a small write that follows another waits on the client's delayed ACK (~40 ms); writes
    // are gathered by `BatchedWrites` instead, without waiting.
    let incoming = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .map_ok(BatchedWrites::new);
    server
        .accept_http1(true)
        .serve_with_incoming_shutdown(stack, incoming, drain)
        .await
        .context("serving gRPC")
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::{Layer, ServiceExt};

    use super::*;

    /// The `Access-Control-Allow-Origin` a gRPC-web preflight from `origin` gets.
    async fn allowed(origins: &TrustedOrigins, origin: &str) -> Option<String> {
        let service = grpc_web_cors(origins.clone()).layer(tower::service_fn(|_| async {
            Ok::<_, Infallible>(http::Response::new(axum::body::Body::empty()))
        }));
        let preflight = http::Request::builder()
            .method(Method::OPTIONS)
            .uri("/warden.auth.v1.AuthService/GetSession")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = service.oneshot(preflight).await.unwrap();
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|value| value.to_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn grpc_web_cors_allows_the_trusted_origins_wildcards_included() {
        let base = "http://localhost:3000/app".parse().unwrap();
        let extra = "https://*.example.com".parse().unwrap();
        let origins = TrustedOrigins::for_site(&base, &extra);
        for origin in ["http://localhost:3000", "https://app.example.com"] {
            assert_eq!(allowed(&origins, origin).await.as_deref(), Some(origin));
        }
        for origin in ["http://localhost:3001", "https://example.com.evil.test"] {
            assert_eq!(allowed(&origins, origin).await, None, "{origin}");
        }
    }
}
