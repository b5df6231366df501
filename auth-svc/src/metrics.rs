//! What auth-svc reports at `/metrics` beyond its gRPC calls, read from live state at each scrape: session cache
//! lookups and the Redis circuit breaker, the password hashing queue, and the database pool.

use sea_orm::{DatabaseBackend, DatabaseConnection};
use warden_common::metrics::Samples;

use crate::cache::SessionCache;
use crate::passwords::Hasher;

/// The parts of a running auth-svc that metrics read.
#[derive(Clone)]
pub struct AuthProbe {
    cache: SessionCache,
    hasher: Hasher,
    db: DatabaseConnection,
}

impl AuthProbe {
    pub fn new(cache: SessionCache, hasher: Hasher, db: DatabaseConnection) -> Self {
        Self { cache, hasher, db }
    }

    pub fn sample(&self, out: &mut Samples) {
        let stats = self.cache.stats();
        for (result, count) in [
            ("hit", stats.hits),
            ("miss", stats.misses),
            ("revoked", stats.revoked),
            ("fallback", stats.fallbacks),
        ] {
            out.counter(
                "warden_session_cache_lookups_total",
                "Session cache lookups: hit, miss, revoked (a tombstone), or fallback (Redis unavailable; the database \
                 answered).",
                &[("result", result)],
                count,
            );
        }
        out.gauge(
            "warden_session_cache_breaker_open",
            "1 while the Redis circuit breaker is open (Redis is skipped), 0 otherwise.",
            &[],
            f64::from(u8::from(self.cache.breaker_open())),
        );
        if let Some(entries) = self.cache.entries_held() {
            out.gauge(
                "warden_session_cache_entries",
                "Sessions held by the in-process cache.",
                &[],
                entries as f64,
            );
        }
        out.gauge(
            "warden_password_hash_queue_depth",
            "Password hashes waiting for a worker or running.",
            &[],
            self.hasher.queue_depth() as f64,
        );
        out.gauge(
            "warden_password_hash_workers",
            "Password hashes that may run at once.",
            &[],
            self.hasher.workers() as f64,
        );
        sample_pool(out, "auth-svc", &self.db);
    }
}

/// `warden_db_pool_connections{pool,state}` (idle or in use) and `warden_db_pool_max_connections{pool}`.
pub fn sample_pool(out: &mut Samples, pool: &str, db: &DatabaseConnection) {
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
