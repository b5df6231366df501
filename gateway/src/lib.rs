//! Warden's HTTP gateway: Better Auth's REST paths, JSON shapes and cookies in front of the gRPC `AuthService`, and
//! the task REST API in front of `TaskService`.
//!
//! A browser talks to it exactly as to a Better Auth server. [`router`] lists every route and the layers around them
//! (CORS for the trusted origins, a request id per request, and the protections: the client's address from
//! [`client_ip`], Better Auth's rate limits in [`limits`], body size and time limits and security headers in
//! [`hardening`]); [`routes`] holds the handlers by Better Auth area (sessions, account, jwt, admin) and
//! Warden's own (tasks, the web UI, the development outbox), which turn a request into a service call through the
//! extractors in [`extract`] (the body with Better Auth's media-type, JSON and schema
//! rules, the caller's session credential) and the CSRF rules in [`origin`]. [`cookies`] and [`bearer`] read and
//! write the signed session credential, [`json`] renders proto messages as Better Auth's JSON, and [`error`] turns
//! every failure into Better Auth's `{message, code}` body with the status chosen in one place, keyed by the
//! [`warden_proto::Reason`] both sides of the wire share. [`query`] reads query strings. Task routes first
//! confirm the session through [`identity`], which yields the JWT task-svc is called with, and use [`tasks`] for
//! bodies, queries, entity tags and task JSON. The web UI at `/` ([`routes::ui`]) is plain HTML, CSS and JavaScript
//! compiled into the binary, a client of those same routes. [`metrics`] counts requests by route and serves
//! `/metrics`. [`config`] parses the settings and [`startup`] binds and serves.

pub mod bearer;
pub mod client_ip;
pub mod config;
pub mod cookies;
pub mod error;
pub mod extract;
pub mod hardening;
pub mod identity;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod origin;
pub mod query;
pub mod readiness;
pub mod request_id;
pub mod router;
pub mod routes;
pub mod startup;
pub mod state;
pub mod transcode;

pub use config::Config;
pub use startup::GatewayServer;
