//! Warden's own `task` table: UUIDv7 text ids, owned by a user (deleted with them), a fresh `etag` on every write,
//! and an index that serves the list query (a user's tasks, newest first, by keyset on `created_at`, `id`).
//!
//! A database the earlier FastAPI service wrote already has a `task` table of its own (integer ids, `is_completed`).
//! That table is renamed to `task_fastapi_legacy`, kept as it was, and its rows are copied into the new one, so a
//! team cutting over keeps its tasks. Rolling back drops Warden's table and puts the legacy one back.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{DbBackend, Statement},
};

pub const TABLE: &str = "task";
pub const LEGACY_TABLE: &str = "task_fastapi_legacy";
pub const LIST_INDEX: &str = "task_owner_id_created_at_id_idx";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let legacy = manager.has_table(TABLE).await?
            && manager.has_column(TABLE, "is_completed").await?
            && !manager.has_table(LEGACY_TABLE).await?;
        if legacy {
            set_legacy_aside(manager).await?;
        }
        manager.create_table(table()).await?;
        let index = Index::create()
            .if_not_exists()
            .name(LIST_INDEX)
            .table(TABLE)
            .col("owner_id")
            .col(("created_at", IndexOrder::Desc))
            .col(("id", IndexOrder::Desc))
            .to_owned();
        manager.create_index(index).await?;
        if legacy {
            copy_legacy_rows(manager).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Table::drop().table(TABLE).if_exists().to_owned();
        manager.drop_table(drop).await?;
        if manager.has_table(LEGACY_TABLE).await? {
            let rename = Table::rename().table(LEGACY_TABLE, TABLE).to_owned();
            manager.rename_table(rename).await?;
            rename_primary_key(manager, TABLE, "task_fastapi_legacy_pkey", "task_pkey").await?;
        }
        Ok(())
    }
}

fn table() -> TableCreateStatement {
    Table::create()
        .table(TABLE)
        .if_not_exists()
        .col(text("id").primary_key().to_owned())
        .col(text("owner_id"))
        .col(text("title"))
        .col(text("description").default("").to_owned())
        .col(boolean("completed").default(false).to_owned())
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .col(text("etag"))
        .foreign_key(
            ForeignKey::create()
                .from(TABLE, "owner_id")
                .to("user", "id")
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// Renames the FastAPI table, and on PostgreSQL its primary key, whose index name `task_pkey` the new table needs.
async fn set_legacy_aside(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let rename = Table::rename().table(TABLE, LEGACY_TABLE).to_owned();
    manager.rename_table(rename).await?;
    rename_primary_key(
        manager,
        LEGACY_TABLE,
        "task_pkey",
        "task_fastapi_legacy_pkey",
    )
    .await
}

async fn rename_primary_key(
    manager: &SchemaManager<'_>,
    table: &str,
    from: &str,
    to: &str,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let sql = format!(
        r#"DO $$ BEGIN
             IF EXISTS (SELECT 1 FROM pg_constraint
                        WHERE conname = '{from}' AND conrelid = '"{table}"'::regclass) THEN
               ALTER TABLE "{table}" RENAME CONSTRAINT "{from}" TO "{to}";
             END IF;
           END $$"#
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

/// Copies every legacy row whose owner still exists: ids as text, `is_completed` as `completed`, a missing
/// description as '', naive timestamps read as UTC, and a fresh etag each.
async fn copy_legacy_rows(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let (created_at, updated_at, etag) = match backend {
        DbBackend::Postgres => (
            postgres_instant(manager, "created_at").await?,
            postgres_instant(manager, "updated_at").await?,
            "md5(random()::text || clock_timestamp()::text || l.id::text)".to_owned(),
        ),
        _ => (
            sqlite_instant("created_at"),
            sqlite_instant("updated_at"),
            "lower(hex(randomblob(16)))".to_owned(),
        ),
    };
    let sql = format!(
        r#"INSERT INTO "{TABLE}" ("id", "owner_id", "title", "description", "completed", "created_at", "updated_at", "etag")
           SELECT CAST(l.id AS TEXT), CAST(l.owner_id AS TEXT), l.title, COALESCE(l.description, ''),
                  COALESCE(l.is_completed, false), {created_at}, {updated_at}, {etag}
           FROM "{LEGACY_TABLE}" l
           WHERE CAST(l.owner_id AS TEXT) IN (SELECT "id" FROM "user")"#
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

/// A legacy timestamp column as `timestamptz`: a naive one holds UTC, as FastAPI wrote it.
async fn postgres_instant(manager: &SchemaManager<'_>, column: &str) -> Result<String, DbErr> {
    let query = format!(
        "SELECT data_type AS v FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = '{LEGACY_TABLE}' AND column_name = '{column}'"
    );
    let row = manager
        .get_connection()
        .query_one_raw(Statement::from_string(DbBackend::Postgres, query))
        .await?;
    let data_type: Option<String> = match row {
        Some(row) => Some(row.try_get("", "v")?),
        None => None,
    };
    Ok(match data_type.as_deref() {
        Some("timestamp with time zone") => format!("COALESCE(l.{column}, now())"),
        Some(_) => format!("COALESCE(l.{column} AT TIME ZONE 'UTC', now())"),
        None => "now()".to_owned(),
    })
}

/// SQLite keeps timestamps as text; Warden writes RFC 3339 in UTC, so legacy values are rewritten that way.
fn sqlite_instant(column: &str) -> String {
    format!(
        "COALESCE(strftime('%Y-%m-%dT%H:%M:%f+00:00', l.{column}), strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))"
    )
}
