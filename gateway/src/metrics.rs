//! Request metrics and `GET /metrics`.
//!
//! [`record`], outermost of all layers, counts every request and its latency under the route template it reached,
//! never the raw path: routing happens inside the app, so [`tag_route`], a layer on the routed app, writes the
//! template into a slot that [`record`] placed in the request. A path no route has counts as `unmatched`; a request
//! that a protective layer answered before routing (rate limit, body size, CORS preflight, a bad `callbackURL`)
//! counts as `unrouted`. Methods outside the standard ones count as `other`.
//!
//! [`scrape`] answers only clients in `METRICS_ALLOW` (loopback unless set), seen as [`crate::client_ip`] sees them,
//! and refuses a request that an untrusted proxy forwarded, so a reverse proxy on the same host cannot expose the
//! metrics to everyone. Anyone else gets Better Auth's bare 404. The metrics hold route templates, counts and
//! latencies: no token, email or other request data.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};
use warden_common::metrics::Metrics;

use crate::client_ip::ClientIp;
use crate::state::AppState;

/// The route of a request to a path no route has.
pub const UNMATCHED: &str = "unmatched";
/// The route of a request answered before routing.
pub const UNROUTED: &str = "unrouted";

/// Where [`tag_route`] leaves the route template for [`record`].
#[derive(Clone, Default)]
struct RouteSlot(Arc<OnceLock<Option<MatchedPath>>>);

/// Middleware: counts the request and its latency once the response is ready.
pub async fn record(State(metrics): State<Metrics>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let slot = RouteSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let route = match slot.0.get() {
        Some(Some(matched)) => matched.as_str(),
        Some(None) => UNMATCHED,
        None => UNROUTED,
    };
    metrics.observe_http(route, method, response.status().as_str(), started.elapsed());
    response
}

/// Middleware on the routed app: tells [`record`] which route template, if any, the request reached.
pub async fn tag_route(request: Request, next: Next) -> Response {
    if let Some(RouteSlot(slot)) = request.extensions().get::<RouteSlot>() {
        let _ = slot.set(request.extensions().get::<MatchedPath>().cloned());
    }
    next.run(request).await
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`: every metric in the process, for the clients `METRICS_ALLOW` names.
pub async fn scrape(State(state): State<AppState>, request: http::request::Parts) -> Response {
    if !may_scrape(&state, &request) {
        return StatusCode::NOT_FOUND.into_response();
    }
    state.metrics.response()
}

fn may_scrape(state: &AppState, request: &http::request::Parts) -> bool {
    let Some(ConnectInfo(peer)) = request.extensions.get::<ConnectInfo<SocketAddr>>() else {
        return false;
    };
    let peer = peer.ip().to_canonical();
    let forwarded = [header::FORWARDED.as_str(), "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|name| request.headers.contains_key(*name));
    if forwarded && !state.proxies.contains(peer) {
        return false;
    }
    let client = request
        .extensions
        .get::<ClientIp>()
        .map_or(peer, |ClientIp(ip)| ip.to_canonical());
    state
        .limits
        .metrics_allow
        .iter()
        .any(|network| network.contains(&client))
}
