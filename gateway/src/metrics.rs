//! Request metrics and `GET /metrics`.
//!
//! [`Observation`], begun before every other check and ended with the final response, counts every request and its
//! latency under the route template it reached, never the raw path: routing happens inside the app, so
//! [`tag_route`], run by a layer on the routed app, writes the template into a slot the observation placed in the
//! request. A path no route has counts as `unmatched`; a request
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
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};
use warden_common::metrics::Metrics;

use crate::client_ip::ClientIp;
use crate::state::AppState;

/// The route of a request to a path no route has.
pub const UNMATCHED: &str = "unmatched";
/// The route of a request answered before routing.
pub const UNROUTED: &str = "unrouted";

/// Where [`tag_route`] leaves the route template for the [`Observation`].
#[derive(Clone, Default)]
struct RouteSlot(Arc<OnceLock<Option<MatchedPath>>>);

/// One request being counted and timed.
pub struct Observation {
    started: Instant,
    method: &'static str,
    slot: RouteSlot,
}

impl Observation {
    /// Starts the clock, and leaves a slot in `request` for the route it reaches.
    pub fn begin(request: &mut Request) -> Self {
        let slot = RouteSlot::default();
        request.extensions_mut().insert(slot.clone());
        Self {
            started: Instant::now(),
            method: method_label(request.method()),
            slot,
        }
    }

    /// Counts the request under its route and `response`'s status, with its latency.
    pub fn end(self, metrics: &Metrics, response: &Response) {
        let route = match self.slot.0.get() {
            Some(Some(matched)) => matched.as_str(),
            Some(None) => UNMATCHED,
            None => UNROUTED,
        };
        metrics.observe_http(
            route,
            self.method,
            response.status().as_str(),
            self.started.elapsed(),
        );
    }
}

/// Run on the routed app: tells the request's [`Observation`] which route template, if any, it reached.
pub fn tag_route(request: &Request) {
    if let Some(RouteSlot(slot)) = request.extensions().get::<RouteSlot>() {
        let _ = slot.set(request.extensions().get::<MatchedPath>().cloned());
    }
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
