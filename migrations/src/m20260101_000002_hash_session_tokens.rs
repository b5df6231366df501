//! Session tokens are stored as SHA-256 hex. Better Auth stores them raw, so every row it wrote is hashed here, once,
//! rather than lazily on first use: after this step no raw token is left at rest. Rows already hashed are skipped, so
//! running it again changes nothing.

use sea_orm_migration::prelude::*;
use warden_common::token::{hash_token, is_token_hash};

const BATCH: u64 = 500;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let mut after: Option<String> = None;
        loop {
            let mut select = Query::select();
            select
                .columns(["id", "token"])
                .from("session")
                .order_by("id", Order::Asc)
                .limit(BATCH);
            if let Some(last) = &after {
                select.and_where(Expr::col("id").gt(last.as_str()));
            }
            let rows = db.query_all(&select).await?;
            for row in &rows {
                let id: String = row.try_get("", "id")?;
                let token: String = row.try_get("", "token")?;
                if !is_token_hash(&token) {
                    let update = Query::update()
                        .table("session")
                        .value("token", hash_token(&token))
                        .and_where(Expr::col("id").eq(id.as_str()))
                        .to_owned();
                    db.execute(&update).await?;
                }
                after = Some(id);
            }
            if (rows.len() as u64) < BATCH {
                return Ok(());
            }
        }
    }

    /// Hashing is one-way: rolling back leaves the hashes in place.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
