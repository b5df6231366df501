//! SQLite: the same tables and columns, in a file or in memory, and the same token hashing.

use migrations::MigratorTrait;
use sea_orm::DatabaseConnection;
use warden_common::token::hash_token;

use crate::helpers::*;

/// Every column as `table.column notnull=… pk=… default=…`, for the Better Auth tables.
async fn describe(db: &DatabaseConnection) -> Vec<String> {
    let mut lines = Vec::new();
    for table in ["user", "session", "account", "verification", "jwks"] {
        let sql = format!(
            "SELECT '{table}.' || name || ' notnull=' || \"notnull\" || ' pk=' || pk
                    || ' default=' || coalesce(dflt_value, '-') AS v
             FROM pragma_table_info('{table}') ORDER BY cid"
        );
        lines.extend(strings(db, &sql).await);
    }
    let indexes = "SELECT name AS v FROM sqlite_master
                   WHERE type = 'index' AND name NOT LIKE 'sqlite_%' AND tbl_name <> 'task'
                     AND name NOT IN ('session_expiresAt_idx', 'verification_expiresAt_idx') ORDER BY name";
    lines.extend(strings(db, indexes).await);
    lines
}

async fn better_auth_reference() -> Vec<String> {
    let db = connect("sqlite::memory:").await;
    execute(&db, BETTER_AUTH_SQL).await;
    describe(&db).await
}

#[tokio::test]
async fn a_new_sqlite_file_gets_every_better_auth_table_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("warden.db").display());

    migrations::migrate(&url)
        .await
        .expect("migrate creates the file");
    migrations::migrate(&url).await.expect("second migrate");

    let db = connect(&url).await;
    assert_eq!(describe(&db).await, better_auth_reference().await);
}

#[tokio::test]
async fn an_in_memory_database_migrates_twice_on_one_connection() {
    let db = migrations::connect("sqlite::memory:")
        .await
        .expect("connect");

    migrations::migrate_connection(&db).await.expect("migrate");
    migrations::migrate_connection(&db)
        .await
        .expect("migrate again");

    assert_eq!(describe(&db).await, better_auth_reference().await);
}

#[tokio::test]
async fn a_better_auth_sqlite_database_gains_the_admin_columns_and_its_tokens_are_hashed() {
    let db = migrations::connect("sqlite::memory:")
        .await
        .expect("connect");
    execute(&db, BETTER_AUTH_WITHOUT_ADMIN_SQL).await;
    insert_user_with_session(&db, RAW_TOKEN).await;

    migrations::migrate_connection(&db).await.expect("migrate");

    assert_eq!(describe(&db).await, better_auth_reference().await);
    assert_eq!(user_names(&db).await, ["Ada <ada@example.com>"]);
    assert_eq!(session_tokens(&db).await, [hash_token(RAW_TOKEN)]);
}

#[tokio::test]
async fn rolling_back_and_reapplying_works_on_sqlite() {
    let db = migrations::connect("sqlite::memory:")
        .await
        .expect("connect");
    migrations::migrate_connection(&db).await.expect("migrate");

    let steps = u32::try_from(migrations::Migrator::migrations().len()).expect("few migrations");
    migrations::rollback_connection(&db, steps)
        .await
        .expect("roll back");
    let tables = strings(
        &db,
        "SELECT name AS v FROM sqlite_master WHERE type = 'table'",
    )
    .await;
    assert_eq!(tables, ["seaql_migrations"]);

    migrations::migrate_connection(&db).await.expect("reapply");
    assert_eq!(describe(&db).await, better_auth_reference().await);
}
