//! What task-svc reports at `/metrics` beyond its gRPC calls, read at each scrape: what authentication has cost
//! auth-svc (JWKS fetches, session lookups) and the database pool.

use std::sync::Arc;

use sea_orm::{DatabaseBackend, DatabaseConnection};
use warden_common::metrics::Samples;

use crate::auth::AuthMetrics;

/// The parts of a running task-svc that metrics read.
#[derive(Clone)]
pub struct TaskProbe {
    auth: Arc<AuthMetrics>,
    db: DatabaseConnection,
}

impl TaskProbe {
    pub fn new(auth: Arc<AuthMetrics>, db: DatabaseConnection) -> Self {
        Self { auth, db }
    }

    pub fn sample(&self, out: &mut Samples) {
        out.counter(
            "warden_task_jwks_fetches_total",
            "Times task-svc fetched auth-svc's JWKS to verify JWTs.",
            &[],
            self.auth.jwks_fetches(),
        );
        out.counter(
            "warden_task_session_lookups_total",
            "Session-token bearers task-svc resolved through auth-svc's GetSession.",
            &[],
            self.auth.session_lookups(),
        );
        out.counter(
            "warden_task_api_key_lookups_total",
            "API keys task-svc resolved through auth-svc's AuthenticateApiKey.",
            &[],
            self.auth.key_lookups(),
        );
        out.counter(
            "warden_task_jwt_signature_checks_total",
            "JWT signatures task-svc checked (a JWT that verified is remembered until it expires).",
            &[],
            self.auth.signature_checks(),
        );
        sample_pool(out, "task-svc", &self.db);
    }
}

/// `warden_db_pool_connections{pool,state}` (idle or in use) and `warden_db_pool_max_connections{pool}`, as auth-svc
/// reports its own.
fn sample_pool(out: &mut Samples, pool: &str, db: &DatabaseConnection) {
    let (size, idle, max) = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let sqlx = db.get_postgres_connection_pool();
            (
                sqlx.size(),
                sqlx.num_idle(),
                sqlx.options().get_max_connections(),
            )
        }
        DatabaseBackend::Sqlite => {
            let sqlx = db.get_sqlite_connection_pool();
            (
                sqlx.size(),
                sqlx.num_idle(),
                sqlx.options().get_max_connections(),
            )
        }
        _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    let help = "Database connections open, idle or in use.";
    out.gauge(
        "warden_db_pool_connections",
        help,
        &[("pool", pool), ("state", "idle")],
        f64::from(idle),
    );
    out.gauge(
        "warden_db_pool_connections",
        help,
        &[("pool", pool), ("state", "in_use")],
        f64::from(size - idle),
    );
    out.gauge(
        "warden_db_pool_max_connections",
        "Database connections the pool may open.",
        &[("pool", pool)],
        f64::from(max),
    );
}
