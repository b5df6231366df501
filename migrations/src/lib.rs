//! Warden's schema, for PostgreSQL and SQLite alike.
//!
//! [`Migrator`] lists the steps in order: Better Auth's own tables (so a database Better Auth wrote is used as it is),
//! then the hashing of any raw session token such a database holds, then Warden's own `task` table (taking over the
//! earlier FastAPI service's tasks where its table is found), then indexes for the cleanup job's expiry scans, then the two-factor plugin's column and table, then the passkey plugin's table, then the api-key plugin's table. [`migrate`] is what services call at start-up with
//! `--migrate`: it takes a PostgreSQL advisory lock so several services starting together apply each step once. The
//! `migrations` binary wraps the same functions in a small CLI.

mod m20260101_000001_better_auth;
mod m20260101_000002_hash_session_tokens;
mod m20260101_000003_task;
mod m20261204_000004_expiry_indexes;
mod m20261205_000005_two_factor;
mod m20261205_000006_passkey;
mod m20261206_000007_api_key;
mod run;

pub use run::{connect, migrate, migrate_connection, rollback_connection};
pub use sea_orm_migration::MigratorTrait;

use sea_orm_migration::{MigrationTrait, async_trait};

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_better_auth::Migration),
            Box::new(m20260101_000002_hash_session_tokens::Migration),
            Box::new(m20260101_000003_task::Migration),
            Box::new(m20261204_000004_expiry_indexes::Migration),
            Box::new(m20261205_000005_two_factor::Migration),
            Box::new(m20261205_000006_passkey::Migration),
            Box::new(m20261206_000007_api_key::Migration),
        ]
    }
}
