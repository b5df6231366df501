//! Pieces that Warden's services and gateway share and that belong to none of them alone.
//!
//! [`secret`] holds the signing secrets (several while they rotate) and the Better Auth cookie signature
//! (`value.base64(HMAC-SHA256)`), which the gateway uses on cookies and auth-svc on signed bearer tokens; [`token`]
//! hashes session tokens for storage; [`grpc`] serves a gRPC service the way every Warden service does (gRPC-web,
//! reflection, health, optional TLS from [`tls`]) and builds statuses with `ErrorInfo`; [`telemetry`] sets up
//! text or JSON logs; [`shutdown`] waits for Ctrl-C or SIGTERM; [`healthcheck`] is what the binaries' `healthcheck`
//! subcommands ask their own server; [`metrics`] keeps the Prometheus registry, records gRPC calls and HTTP requests,
//! and serves `/metrics`; [`breaker`] is the circuit breaker in front of Redis (session cache, rate limits);
//! [`runtime`] builds the Tokio runtime every binary runs on (`WORKER_THREADS`); [`batched_writes`] is the TCP
//! connection the gRPC servers write through, one system call for all the answers ready together; [`settings`]
//! parses every binary's settings once, into types, and reports a bad one the same way everywhere.

pub mod batched_writes;
pub mod breaker;
pub mod grpc;
pub mod healthcheck;
pub mod in_process;
pub mod metrics;
pub mod runtime;
pub mod secret;
pub mod settings;
pub mod shutdown;
pub mod telemetry;
pub mod tls;
pub mod token;

pub use secret::{AuthSecret, SecretsError};
