//! The passkey plugin's `passkey` table (`@better-auth/passkey`), names, types and indexes exactly as Better Auth's
//! migrator writes them on PostgreSQL. A database Better Auth wrote with the plugin already has it, and keeps it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table("passkey")
            .if_not_exists()
            .col(text("id").primary_key())
            .col(text_null("name"))
            .col(text("publicKey"))
            .col(text("userId"))
            .col(text("credentialID"))
            .col(integer("counter"))
            .col(text("deviceType"))
            .col(boolean("backedUp"))
            .col(text_null("transports"))
            .col(timestamp_with_time_zone_null("createdAt"))
            .col(text_null("aaguid"))
            .foreign_key(
                ForeignKey::create()
                    .from("passkey", "userId")
                    .to("user", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(table).await?;
        for (name, column) in [
            ("passkey_userId_idx", "userId"),
            ("passkey_credentialID_idx", "credentialID"),
        ] {
            let index = Index::create()
                .if_not_exists()
                .name(name)
                .table("passkey")
                .col(column)
                .to_owned();
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Table::drop().table("passkey").if_exists().to_owned();
        manager.drop_table(drop).await
    }
}
