//! task-svc: Warden's TaskService. Each user keeps a list of tasks in PostgreSQL (or SQLite); every call is
//! authenticated by task-svc itself, so the owner of a task is always the verified caller, never a claim in the
//! request.
//!
//! [`auth`] is the tower layer in front of the service: it verifies a JWT locally against auth-svc's JWKS, or
//! resolves a session token through auth-svc, and hands the handlers an [`auth::AuthenticatedUser`]. [`grpc`] is
//! the thin tonic edge that turns messages into the rules of [`domain`] and calls [`service::TaskCore`], which knows
//! nothing of tonic and reads and writes through [`store`], always scoped by owner. Failures are
//! [`error::TaskError`], mapped to `tonic::Status` in one place. [`startup`] wires it all on one port with
//! reflection, health and gRPC-web; [`config`] reads the settings. [`metrics`] reads what authentication has cost
//! and the database pool for `/metrics`, served on an admin port (`METRICS_ADDR`) beside the gRPC calls' own counts.

pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod metrics;
pub mod service;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::TaskServer;
