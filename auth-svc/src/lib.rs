//! auth-svc: Warden's AuthService. Users sign up and in with email and password; sessions live in PostgreSQL
//! (or SQLite) and are cached in Redis (or in-process), wire-compatible with Better Auth's.
//!
//! Three layers, each a folder:
//! - [`grpc`], the edge: one file per gRPC service (`AuthService`, `AdminService`, the development outbox), each
//!   reading the caller's credential and address, turning messages into [`domain`] types and calling the core; and
//!   the rate-limit layer in front of them.
//! - [`core`], the behaviour, one folder per Better Auth area (sessions, the core auth routes, account, admin, jwt,
//!   and the plugin areas to come), as plain async functions that know nothing of tonic and report
//!   [`error::AuthError`], mapped to `tonic::Status` in one place.
//! - Below it the infrastructure: [`store`] (sea-orm on PostgreSQL or SQLite), [`cache`] (the session cache, Redis
//!   or in-process), [`passwords`] (argon2id and Better Auth's scrypt, hashed off the runtime), [`mail`] (SMTP or the
//!   development outbox).
//!
//! [`config`] reads the settings and [`startup`] wires it all on one port with reflection, health and gRPC-web;
//! [`metrics`] reads the session cache, the hashing queue and the database pool for `/metrics`, served on an admin
//! port (`METRICS_ADDR`) beside the gRPC calls' own counts. Imports point down: the edge uses the core, the core
//! the infrastructure, never the other way (`scripts/import-cycles` checks that no two modules import each other).

pub mod cache;
pub mod config;
pub mod core;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod mail;
pub mod metrics;
pub mod passwords;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::AuthServer;
