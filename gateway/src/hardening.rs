//! What every response and request gets whatever the route: security headers, a body size limit and a time limit,
//! and Better Auth's `callbackURL` check on the GET routes that redirect.

use std::time::Duration;
use warden_proto::Reason;

use axum::Json;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use serde_json::json;

use crate::error::{ApiError, PAYLOAD_TOO_LARGE_MESSAGE};
use crate::origin::RedirectUrls;
use crate::query::query_param;
use crate::state::AppState;

/// Set on every response unless the handler chose its own value (the web UI sets a stricter policy).
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
];

/// Adds [`SECURITY_HEADERS`] (and HSTS when the gateway is served over https) where the response has none.
pub fn add_security_headers(https: bool, headers: &mut HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if https {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
}

/// 413 with Better Auth's error shape.
pub fn payload_too_large() -> Response {
    ApiError::local(
        StatusCode::PAYLOAD_TOO_LARGE,
        Reason::PayloadTooLarge,
        PAYLOAD_TOO_LARGE_MESSAGE,
    )
    .into_response()
}

/// Refuses a body whose declared length is over the limit before reading any of it. Bodies without a length are
/// cut at the same limit where they are read (`DefaultBodyLimit`).
pub fn oversized(limit: usize, request: &Request) -> Option<Response> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    declared
        .is_some_and(|length| length > limit as u64)
        .then(payload_too_large)
}

/// A request that takes longer than `limit` (a slow upload or a stuck upstream) ends in 408.
pub async fn within(limit: Duration, response: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(limit, response).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis() as u64, "request timed out");
            (
                StatusCode::REQUEST_TIMEOUT,
                Json(json!({ "message": "Request timed out", "code": "REQUEST_TIMEOUT" })),
            )
                .into_response()
        }
    }
}

/// A `callbackURL` in the query of a GET under `/api/auth` (the links that verify an email,
/// reset a password or confirm a deletion) must be trusted, as Better Auth checks it. Other methods have it
/// checked with their body, by the body extractor. The refusal, if it is not.
pub fn untrusted_callback(state: &AppState, request: &Request) -> Option<Response> {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    if safe && request.uri().path().starts_with("/api/auth/") {
        let urls = RedirectUrls {
            callback: query_param(request.uri().query(), "callbackURL")
                .filter(|url| !url.is_empty()),
            ..RedirectUrls::default()
        };
        if let Err(error) = state.origins.check_redirects(&urls) {
            return Some(ApiError::from(error).into_response());
        }
    }
    None
}
