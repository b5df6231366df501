//! Better Auth's two-factor plugin: `user."twoFactorEnabled"` and the `twoFactor` table, names, types and indexes
//! exactly as its migrator writes them on PostgreSQL (no database defaults: Better Auth fills them in, and so does
//! Warden). A database Better Auth wrote with the plugin already has them, and is left as it is.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("user", "twoFactorEnabled").await? {
            let alter = Table::alter()
                .table("user")
                .add_column(boolean_null("twoFactorEnabled"))
                .to_owned();
            manager.alter_table(alter).await?;
        }
        let table = Table::create()
            .table("twoFactor")
            .if_not_exists()
            .col(text("id").primary_key())
            .col(text("secret"))
            .col(text("backupCodes"))
            .col(text("userId"))
            .col(boolean_null("verified"))
            .col(integer_null("failedVerificationCount"))
            .col(timestamp_with_time_zone_null("lockedUntil"))
            .foreign_key(
                ForeignKey::create()
                    .from("twoFactor", "userId")
                    .to("user", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(table).await?;
        for (name, column) in [
            ("twoFactor_secret_idx", "secret"),
            ("twoFactor_userId_idx", "userId"),
        ] {
            let index = Index::create()
                .if_not_exists()
                .name(name)
                .table("twoFactor")
                .col(column)
                .to_owned();
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Table::drop().table("twoFactor").if_exists().to_owned();
        manager.drop_table(drop).await?;
        if manager.has_column("user", "twoFactorEnabled").await? {
            let alter = Table::alter()
                .table("user")
                .drop_column("twoFactorEnabled")
                .to_owned();
            manager.alter_table(alter).await?;
        }
        Ok(())
    }
}
