//! The api-key plugin's `apikey` table (`@better-auth/api-key`), names, types and indexes exactly as Better Auth's
//! migrator writes them on PostgreSQL. A database Better Auth wrote with the plugin already has it, and keeps it.
//! The owner is `referenceId` (a user, or later an organization), so it has no foreign key, as in Better Auth.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table("apikey")
            .if_not_exists()
            .col(text("id").primary_key())
            .col(text("configId"))
            .col(text_null("name"))
            .col(text_null("start"))
            .col(text("referenceId"))
            .col(text_null("prefix"))
            .col(text("key"))
            .col(integer_null("refillInterval"))
            .col(integer_null("refillAmount"))
            .col(timestamp_with_time_zone_null("lastRefillAt"))
            .col(boolean_null("enabled"))
            .col(boolean_null("rateLimitEnabled"))
            .col(integer_null("rateLimitTimeWindow"))
            .col(integer_null("rateLimitMax"))
            .col(integer_null("requestCount"))
            .col(integer_null("remaining"))
            .col(timestamp_with_time_zone_null("lastRequest"))
            .col(timestamp_with_time_zone_null("expiresAt"))
            .col(timestamp_with_time_zone("createdAt"))
            .col(timestamp_with_time_zone("updatedAt"))
            .col(text_null("permissions"))
            .col(text_null("metadata"))
            .to_owned();
        manager.create_table(table).await?;
        for (name, column) in [
            ("apikey_configId_idx", "configId"),
            ("apikey_referenceId_idx", "referenceId"),
            ("apikey_key_idx", "key"),
        ] {
            let index = Index::create()
                .if_not_exists()
                .name(name)
                .table("apikey")
                .col(column)
                .to_owned();
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Table::drop().table("apikey").if_exists().to_owned();
        manager.drop_table(drop).await
    }
}
