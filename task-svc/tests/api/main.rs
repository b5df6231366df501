//! TaskService over real gRPC, with a real auth-svc beside it, against real PostgreSQL: one database per test.

mod helpers;

mod api_keys;
mod credentials;
mod crud;
mod healthcheck;
mod isolation;
mod keys;
mod logs;
mod metrics;
mod pagination;
mod protocol;
mod sqlite;
mod tls;
