//! auth-svc: Warden's AuthService. Users sign up and in with email and password; sessions live in PostgreSQL
//! (or SQLite) and are cached in Redis (or in-process), wire-compatible with Better Auth's.
//!
//! [`grpc`] is the thin tonic edge that turns metadata and messages into domain values ([`domain`]) and calls
//! [`service::AuthCore`], which knows nothing of tonic. The core hashes passwords through [`passwords`], opens and
//! resolves sessions through [`sessions`] (the read-through [`cache`] in front of the [`store`]), signs JWTs and
//! publishes the JWKS through [`keys`] (Ed25519 keys in Better Auth's `jwks` format), and reports failures as
//! [`error::AuthError`], mapped to `tonic::Status` in one place. [`admin`] is Better Auth's admin plugin (roles,
//! bans, the user list, other users' sessions), served as the `AdminService` by [`grpc_admin`].
//! [`account`] is the account lifecycle (profile, email change and verification, password change and reset,
//! deletion), which sends its links through [`mail`]: SMTP, or without it a development outbox that
//! [`grpc_dev`] serves. [`limits`] holds Better Auth's rate limits for direct callers (a tower layer in front of
//! the services) and [`throttle`] the back-off after failed sign-ins on one account. [`startup`] wires it all on one port with reflection, health and gRPC-web; [`config`]
//! reads the settings. [`cleanup`] is the background job that deletes expired sessions and verifications.
//! [`metrics`] reads the session cache, the hashing queue and the database pool for `/metrics`, served on an admin
//! port (`METRICS_ADDR`) beside the gRPC calls' own counts.

pub mod account;
pub mod admin;
pub mod cache;
pub mod cleanup;
pub mod config;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod grpc_admin;
pub mod grpc_dev;
pub mod keys;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod passwords;
pub mod service;
pub mod sessions;
pub mod startup;
pub mod store;
pub mod throttle;

pub use config::Config;
pub use startup::AuthServer;
