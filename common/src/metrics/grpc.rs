//! The tower layer that counts gRPC calls and times them, by service, method and status code.
//!
//! A call's status arrives in one of two places: in the response headers when the call fails before any message
//! (tonic's "trailers-only" answer to an error), or in the trailers after the last message. The layer records at
//! whichever comes first; a call whose response is dropped before its status (the client went away) counts as
//! `Cancelled`. Labels come only from the methods the port serves, read from its descriptors: any other path is
//! `unknown`, so callers cannot invent label values.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::HeaderMap;
use http_body::Frame;
use prost::Message;
use tonic::{Code, Status, body::Body};

use super::Metrics;

const UNKNOWN: &str = "unknown";

/// Wraps a port's services; records nothing when built without [`Metrics`].
#[derive(Clone)]
pub struct GrpcMetricsLayer {
    recorder: Option<Arc<Recorder>>,
}

struct Recorder {
    metrics: Metrics,
    /// `/package.Service/Method` → its labels.
    methods: HashMap<String, Arc<Labels>>,
    unknown: Arc<Labels>,
}

/// One method's labels, and its series once first recorded: looking a series up by its label values hashes them
/// and takes the metric's lock, which showed in profiles of calls that do little else.
struct Labels {
    service: Arc<str>,
    method: Arc<str>,
    seconds: OnceLock<prometheus::Histogram>,
    /// The count of calls that ended OK, as nearly all do; other codes are looked up when they happen.
    ok: OnceLock<prometheus::IntCounter>,
}

impl Labels {
    fn new(service: Arc<str>, method: Arc<str>) -> Arc<Self> {
        Arc::new(Self {
            service,
            method,
            seconds: OnceLock::new(),
            ok: OnceLock::new(),
        })
    }

    fn record(&self, metrics: &Metrics, code: Code, elapsed: std::time::Duration) {
        let handled = |code| metrics.grpc_handled(&self.service, &self.method, code);
        match code {
            Code::Ok => self.ok.get_or_init(|| handled(code_name(code))).inc(),
            _ => handled(code_name(code)).inc(),
        }
        self.seconds
            .get_or_init(|| metrics.grpc_seconds(&self.service, &self.method))
            .observe(elapsed.as_secs_f64());
    }
}

impl GrpcMetricsLayer {
    /// Labels calls to the methods that `descriptor_sets` describe for `services` (full names); everything else
    /// is `unknown`.
    pub fn new(metrics: Option<Metrics>, descriptor_sets: &[&[u8]], services: &[&str]) -> Self {
        let recorder = metrics.map(|metrics| {
            Arc::new(Recorder {
                metrics,
                methods: known_methods(descriptor_sets, services),
                unknown: Labels::new(UNKNOWN.into(), UNKNOWN.into()),
            })
        });
        Self { recorder }
    }
}

fn known_methods(descriptor_sets: &[&[u8]], services: &[&str]) -> HashMap<String, Arc<Labels>> {
    let mut methods = HashMap::new();
    let files = descriptor_sets
        .iter()
        .filter_map(|set| prost_types::FileDescriptorSet::decode(*set).ok())
        .flat_map(|set| set.file);
    for file in files {
        let package = file.package.unwrap_or_default();
        for service in file.service {
            let Some(name) = service.name else { continue };
            let full_name = if package.is_empty() {
                name
            } else {
                format!("{package}.{name}")
            };
            if !services.contains(&full_name.as_str()) {
                continue;
            }
            let service_label: Arc<str> = full_name.as_str().into();
            for method in service.method.into_iter().filter_map(|method| method.name) {
                let path = format!("/{full_name}/{method}");
                methods.insert(path, Labels::new(service_label.clone(), method.into()));
            }
        }
    }
    methods
}

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetricsService {
            inner,
            recorder: self.recorder.clone(),
        }
    }
}

#[derive(Clone)]
pub struct GrpcMetricsService<S> {
    inner: S,
    recorder: Option<Arc<Recorder>>,
}

impl<S, B> tower::Service<http::Request<B>> for GrpcMetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<ObservedBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let call = self.recorder.clone().map(|recorder| {
            let labels = recorder
                .methods
                .get(request.uri().path())
                .unwrap_or(&recorder.unknown)
                .clone();
            Call {
                recorder,
                labels,
                started: Instant::now(),
            }
        });
        let mut pending = Pending(call);
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            if let Some(code) = grpc_status(response.headers()) {
                pending.finish(code);
            }
            Ok(response.map(|inner| ObservedBody { inner, pending }))
        })
    }
}

struct Call {
    recorder: Arc<Recorder>,
    labels: Arc<Labels>,
    started: Instant,
}

/// A call not yet recorded; recorded as `Cancelled` if dropped before its status is seen.
struct Pending(Option<Call>);

impl Pending {
    fn finish(&mut self, code: Code) {
        if let Some(call) = self.0.take() {
            call.labels
                .record(&call.recorder.metrics, code, call.started.elapsed());
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.finish(Code::Cancelled);
    }
}

/// The response body, watched for the trailers that carry the call's status.
pub struct ObservedBody {
    inner: Body,
    pending: Pending,
}

impl http_body::Body for ObservedBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let frame = std::task::ready!(Pin::new(&mut self.inner).poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    self.pending.finish(code);
                }
            }
            Some(Err(status)) => self.pending.finish(status.code()),
            // A gRPC response that ends without a status is malformed; the client reads it as UNKNOWN.
            None => self.pending.finish(Code::Unknown),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn grpc_status(headers: &HeaderMap) -> Option<Code> {
    let value = headers.get("grpc-status")?.to_str().ok()?;
    Some(Code::from_i32(value.parse().ok()?))
}

/// The code's name as gRPC's own libraries spell it (`OK`, `NotFound`, `Unauthenticated`, …).
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}
