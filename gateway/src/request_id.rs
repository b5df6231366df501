//! One `x-request-id` per request: kept from the client when well-formed, otherwise a fresh UUID. It names the
//! tracing span the request runs in, goes to auth-svc as metadata and comes back on the response.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use tracing::Instrument;

pub const X_REQUEST_ID: &str = "x-request-id";

/// The request's id, in the request extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Up to 128 characters of `[A-Za-z0-9._:-]`: enough for UUIDs and common tracer ids, nothing that could forge
/// log lines or headers.
pub fn is_well_formed(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Middleware: assigns the id, runs the request in its span, logs one line when it ends.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_well_formed(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));

    // The matched route, never the raw path: paths may one day carry tokens.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let span = tracing::info_span!("request", request.id = %id, http.method = %request.method(), http.route = %route);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            http.status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::try_from(id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_and_tracer_ids_are_well_formed() {
        assert!(is_well_formed("0190b7c2-3c1e-7a8b-9c0d-1e2f3a4b5c6d"));
        assert!(is_well_formed("req_01:abc.def"));
    }

    #[test]
    fn empty_long_or_odd_ids_are_not() {
        assert!(!is_well_formed(""));
        assert!(!is_well_formed(&"a".repeat(129)));
        assert!(!is_well_formed("abc def"));
        assert!(!is_well_formed("abc\nINFO forged"));
        assert!(!is_well_formed("ünïcode"));
    }
}
