//! Indexes on `session."expiresAt"` and `verification."expiresAt"`, for the cleanup job that deletes expired rows
//! every `CLEANUP_INTERVAL`: without them each run scans both tables whole. Better Auth creates neither, but a
//! database it wrote may have been given them by hand, so they are created only if no index of that name exists.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each index: its name (in Better Auth's `<table>_<column>_idx` style), table and column.
const INDEXES: [(&str, &str, &str); 2] = [
    ("session_expiresAt_idx", "session", "expiresAt"),
    ("verification_expiresAt_idx", "verification", "expiresAt"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, column) in INDEXES {
            let index = Index::create()
                .if_not_exists()
                .name(name)
                .table(table)
                .col(column)
                .to_owned();
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            let drop = Index::drop().if_exists().name(name).table(table).to_owned();
            manager.drop_index(drop).await?;
        }
        Ok(())
    }
}
