//! Prometheus metrics: a registry per process (per server when one runs alone), rendered in the text exposition
//! format at `/metrics`.
//!
//! The `prometheus` crate, without its protobuf feature, adds one small crate to the build, and its registries are
//! plain values rather than a process-wide recorder, so each server and each test owns its counts.
//!
//! [`Metrics`] holds the registry and the request metrics every server records: gRPC calls through the layer in
//! [`grpc`] (`grpc_server_handled_total{service,method,code}`, `grpc_server_handling_seconds{service,method}`)
//! and HTTP requests through the gateway's middleware (`http_requests_total{route,method,status}`,
//! `http_request_duration_seconds{route,method}`). Values kept elsewhere (pool sizes, a circuit breaker, counters held
//! as atomics) are read at each scrape from probes that a server attaches while it runs. [`serve`] answers
//! `GET /metrics` on the admin port of a gRPC service. No label value ever comes from what a client sent, beyond
//! choosing among the routes, methods and codes the server knows.

mod admin;
pub mod grpc;
mod probes;

pub use admin::{AdminPort, Serving, serve};
pub use grpc::GrpcMetricsLayer;
pub use probes::{Attached, Samples};

use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::header;
use prometheus::core::Collector;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

use self::probes::{ProbeCollector, Probes};

/// Latency buckets, in seconds: fine below 10 ms, where cached reads land, up to the seconds of a slow dependency.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The registry and the request metrics. Cheap to clone: clones share one registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    grpc_handled: IntCounterVec,
    grpc_seconds: HistogramVec,
    http_requests: IntCounterVec,
    http_seconds: HistogramVec,
    probes: Arc<Probes>,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let grpc_handled = IntCounterVec::new(
            Opts::new(
                "grpc_server_handled_total",
                "gRPC calls completed, by service, method and status code.",
            ),
            &["service", "method", "code"],
        )
        .expect("valid metric");
        let grpc_seconds = HistogramVec::new(
            HistogramOpts::new(
                "grpc_server_handling_seconds",
                "Time from a gRPC call's arrival to its status, by service and method.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["service", "method"],
        )
        .expect("valid metric");
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route template, method and status.",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let http_seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer an HTTP request, by route template and method.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method"],
        )
        .expect("valid metric");
        let probes = Arc::new(Probes::default());
        let collectors: [Box<dyn Collector>; 5] = [
            Box::new(grpc_handled.clone()),
            Box::new(grpc_seconds.clone()),
            Box::new(http_requests.clone()),
            Box::new(http_seconds.clone()),
            Box::new(ProbeCollector(probes.clone())),
        ];
        for collector in collectors {
            registry
                .register(collector)
                .expect("a fresh registry takes distinct metrics");
        }
        Self {
            inner: Arc::new(Inner {
                registry,
                grpc_handled,
                grpc_seconds,
                http_requests,
                http_seconds,
                probes,
            }),
        }
    }

    /// Reads values from live state at each scrape, until the returned guard is dropped.
    pub fn attach(&self, probe: impl Fn(&mut Samples) + Send + Sync + 'static) -> Attached {
        self.inner.probes.attach(probe)
    }

    /// Counts an HTTP request and its latency. `route` is a route template or a fixed word, never a raw path.
    pub fn observe_http(&self, route: &str, method: &str, status: &str, elapsed: Duration) {
        self.inner
            .http_requests
            .with_label_values(&[route, method, status])
            .inc();
        self.inner
            .http_seconds
            .with_label_values(&[route, method])
            .observe(elapsed.as_secs_f64());
    }

    /// The count of one method's calls that ended with `code`.
    fn grpc_handled(&self, service: &str, method: &str, code: &str) -> IntCounter {
        self.inner
            .grpc_handled
            .with_label_values(&[service, method, code])
    }

    /// One method's latency histogram.
    fn grpc_seconds(&self, service: &str, method: &str) -> Histogram {
        self.inner
            .grpc_seconds
            .with_label_values(&[service, method])
    }

    /// Every metric, in the text exposition format.
    pub fn render(&self) -> String {
        let mut text = Vec::new();
        // Writing into memory fails only on a malformed family, which this code does not build.
        if let Err(error) = TextEncoder::new().encode(&self.inner.registry.gather(), &mut text) {
            tracing::warn!(%error, "could not render the metrics");
        }
        String::from_utf8(text).unwrap_or_default()
    }

    /// The answer to `GET /metrics`.
    pub fn response(&self) -> Response {
        (
            [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
            self.render(),
        )
            .into_response()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_metrics_nobody_recorded_are_left_out() {
        let text = Metrics::new().render();
        assert!(!text.contains("grpc_server_handled_total"), "{text}");
        assert!(!text.contains("http_requests_total"), "{text}");
    }

    #[test]
    fn http_requests_are_counted_with_their_latency() {
        let metrics = Metrics::new();
        for _ in 0..2 {
            metrics.observe_http("/a/{id}", "GET", "200", Duration::from_millis(3));
        }
        let text = metrics.render();
        let counted = "http_requests_total{method=\"GET\",route=\"/a/{id}\",status=\"200\"} 2\n";
        assert!(text.contains(counted), "{text}");
        let bucket = "http_request_duration_seconds_bucket{method=\"GET\",route=\"/a/{id}\",le=\"0.005\"} 2\n";
        assert!(text.contains(bucket), "{text}");
    }
}
