//! Helpers for Warden's tests, which run against real PostgreSQL and Redis and never share state.
//!
//! [`TestDb::new`] hands each test its own PostgreSQL database, cloned from a template that is migrated once per
//! schema (see [`template`]), and drops it when the test ends; [`TestDb::empty`] gives an unmigrated one.
//! [`redis_prefix`] gives each test its own Redis key space and [`sqlite_url`] a SQLite file in a directory.
//! [`grpc`] probes reflection and health on a service's port; [`smtp`] runs a real SMTP server (aiosmtpd);
//! [`tls`] makes self-signed certificates; [`metrics`] reads a `/metrics` scrape; [`totp`] is an authenticator app; [`webauthn`] a passkey authenticator.
//! PostgreSQL is found through `WARDEN_TEST_DATABASE_URL` and Redis through `WARDEN_TEST_REDIS_URL`; if PostgreSQL
//! cannot be reached the test panics rather than being skipped.

mod admin;
pub mod grpc;
pub mod metrics;
pub mod providers;
pub mod smtp;
mod template;
mod test_db;
pub mod tls;
pub mod totp;
pub mod webauthn;

pub use admin::admin_url;
pub use test_db::TestDb;

use std::path::Path;

/// Redis for tests: `WARDEN_TEST_REDIS_URL`, by default `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    std::env::var("WARDEN_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other call returns, such as `warden-test:<uuid>:`.
pub fn redis_prefix() -> String {
    format!("warden-test:{}:", uuid::Uuid::now_v7())
}

/// A `sqlite://…?mode=rwc` URL for the file `warden.db` in `dir`; the same `dir` always gives the same database.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("warden.db").display())
}

/// The one way every Warden binary refuses a bad setting: exit code 2 and a single line on stderr that starts with
/// `error: <VARIABLE>: `. Asserts that `output` is such a refusal starting with `line`, and returns the line.
pub fn assert_setting_refused(output: &std::process::Output, line: &str) -> String {
    assert_eq!(output.status.code(), Some(2), "{line}: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with(line), "expected {line:?}, got {stderr}");
    stderr
}
