//! Better Auth's own schema (core, admin and jwt plugins), names and types exactly as Better Auth writes them on
//! PostgreSQL, so a database Better Auth created keeps working; tables and columns it lacks are added, nothing it has
//! is touched.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            table.ensure(manager).await?;
        }
        for (name, table, column) in [
            ("session_userId_idx", "session", "userId"),
            ("account_userId_idx", "account", "userId"),
            ("verification_identifier_idx", "verification", "identifier"),
        ] {
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
        for table in tables().iter().rev() {
            let drop = Table::drop().table(table.name).if_exists().to_owned();
            manager.drop_table(drop).await?;
        }
        Ok(())
    }
}

/// One table: its columns in Better Auth's order, and whether `userId` references `user`.
struct TableDef {
    name: &'static str,
    columns: Vec<ColumnDef>,
    user_fk: bool,
}

impl TableDef {
    /// Creates the table if it is missing, then adds any column an older schema lacks (the admin plugin's, say).
    async fn ensure(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let mut create = Table::create();
        create.table(self.name).if_not_exists();
        for column in &self.columns {
            create.col(column.clone());
        }
        if self.user_fk {
            create.foreign_key(
                ForeignKey::create()
                    .from(self.name, "userId")
                    .to("user", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            );
        }
        manager.create_table(create).await?;

        for column in &self.columns {
            if !manager
                .has_column(self.name, column.get_column_name())
                .await?
            {
                let alter = Table::alter()
                    .table(self.name)
                    .add_column(column.clone())
                    .to_owned();
                manager.alter_table(alter).await?;
            }
        }
        Ok(())
    }
}

/// `default CURRENT_TIMESTAMP not null`, as Better Auth declares `createdAt` (and some `updatedAt`s).
fn timestamp_default_now(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone(name)
        .default(Expr::current_timestamp())
        .to_owned()
}

fn tables() -> Vec<TableDef> {
    vec![
        TableDef {
            name: "user",
            columns: vec![
                text("id").primary_key().to_owned(),
                text("name"),
                text_uniq("email"),
                boolean("emailVerified"),
                text_null("image"),
                timestamp_default_now("createdAt"),
                timestamp_default_now("updatedAt"),
                text_null("role"),
                boolean_null("banned"),
                text_null("banReason"),
                timestamp_with_time_zone_null("banExpires"),
            ],
            user_fk: false,
        },
        TableDef {
            name: "session",
            columns: vec![
                text("id").primary_key().to_owned(),
                timestamp_with_time_zone("expiresAt"),
                text_uniq("token"),
                timestamp_default_now("createdAt"),
                timestamp_with_time_zone("updatedAt"),
                text_null("ipAddress"),
                text_null("userAgent"),
                text("userId"),
                text_null("impersonatedBy"),
            ],
            user_fk: true,
        },
        TableDef {
            name: "account",
            columns: vec![
                text("id").primary_key().to_owned(),
                text("accountId"),
                text("providerId"),
                text("userId"),
                text_null("accessToken"),
                text_null("refreshToken"),
                text_null("idToken"),
                timestamp_with_time_zone_null("accessTokenExpiresAt"),
                timestamp_with_time_zone_null("refreshTokenExpiresAt"),
                text_null("scope"),
                text_null("password"),
                timestamp_default_now("createdAt"),
                timestamp_with_time_zone("updatedAt"),
            ],
            user_fk: true,
        },
        TableDef {
            name: "verification",
            columns: vec![
                text("id").primary_key().to_owned(),
                text("identifier"),
                text("value"),
                timestamp_with_time_zone("expiresAt"),
                timestamp_default_now("createdAt"),
                timestamp_default_now("updatedAt"),
            ],
            user_fk: false,
        },
        TableDef {
            name: "jwks",
            columns: vec![
                text("id").primary_key().to_owned(),
                text("publicKey"),
                text("privateKey"),
                timestamp_with_time_zone("createdAt"),
                timestamp_with_time_zone_null("expiresAt"),
                text_null("alg"),
                text_null("crv"),
            ],
            user_fk: false,
        },
    ]
}
