//! Connecting and applying migrations under a lock.
//!
//! On PostgreSQL the whole run is one transaction holding `pg_advisory_xact_lock`: a second migrator waits for the
//! first to commit, then finds nothing pending. The lock is released with the transaction however it ends, so it
//! works on any pool, and a failed step leaves no half-applied schema. SQLite has a single writer anyway.

use std::time::Duration;

use anyhow::Context;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::Migrator;

/// Fixed key of the advisory lock every Warden migrator takes ("warden" in ASCII).
const LOCK_KEY: i64 = 0x7761_7264_656e;

/// Opens a single-connection pool; a SQLite file is created if missing (`mode=rwc`).
pub async fn connect(database_url: &str) -> anyhow::Result<DatabaseConnection> {
    let url = with_create_mode(database_url)?;
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .context("cannot connect to the database named by DATABASE_URL")
}

/// Applies every pending migration on its own connection, then closes it.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let conn = connect(database_url).await?;
    let result = migrate_connection(&conn).await.context("migration failed");
    conn.close()
        .await
        .context("closing the migration connection")?;
    result
}

/// Applies every pending migration through `conn`, under the migration lock.
pub async fn migrate_connection(conn: &DatabaseConnection) -> Result<(), DbErr> {
    locked(conn, None).await
}

/// Rolls back the last `steps` applied migrations, under the migration lock.
pub async fn rollback_connection(conn: &DatabaseConnection, steps: u32) -> Result<(), DbErr> {
    locked(conn, Some(steps)).await
}

/// `down == None` migrates up; `Some(n)` rolls back `n` steps.
async fn locked(conn: &DatabaseConnection, down: Option<u32>) -> Result<(), DbErr> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return match down {
            None => Migrator::up(conn, None).await,
            Some(steps) => Migrator::down(conn, Some(steps)).await,
        };
    }
    let txn = conn.begin().await?;
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"))
        .await?;
    match down {
        None => Migrator::up(&txn, None).await?,
        Some(steps) => Migrator::down(&txn, Some(steps)).await?,
    }
    txn.commit().await
}

/// SQLite refuses to create a missing file unless asked to; in-memory databases need nothing.
fn with_create_mode(url: &str) -> anyhow::Result<String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_owned());
    }
    if !url.starts_with("sqlite:") {
        anyhow::bail!("DATABASE_URL must start with postgres:// or sqlite:");
    }
    if url.contains(":memory:") || url.contains("mode=") {
        return Ok(url.to_owned());
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}mode=rwc"))
}
