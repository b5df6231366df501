//! The indexes on `expiresAt` that the cleanup job's scans use: present after `up`, gone after rolling that step
//! back, back again after `up`, and no error where a Better Auth database already has one of that name.

use sea_orm::DatabaseConnection;
use warden_testkit::TestDb;

use crate::helpers::*;

const EXPECTED: [&str; 2] = ["session_expiresAt_idx", "verification_expiresAt_idx"];

async fn postgres_indexes(db: &DatabaseConnection) -> Vec<String> {
    strings(
        db,
        r#"SELECT indexname::text AS v FROM pg_indexes
           WHERE schemaname = 'public' AND indexdef LIKE '%("expiresAt")' ORDER BY 1"#,
    )
    .await
}

async fn sqlite_indexes(db: &DatabaseConnection) -> Vec<String> {
    strings(
        db,
        "SELECT il.name AS v FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii
         WHERE m.type = 'table' AND ii.name = 'expiresAt' ORDER BY 1",
    )
    .await
}

#[tokio::test]
async fn postgres_gets_the_expiry_indexes_and_they_survive_down_and_up() {
    let test_db = TestDb::empty().await;
    migrations::migrate(&test_db.url).await.expect("migrate");
    let db = connect(&test_db.url).await;
    assert_eq!(postgres_indexes(&db).await, EXPECTED);

    // The api-key, passkey and two-factor steps, then the expiry indexes.
    migrations::rollback_connection(&db, 4)
        .await
        .expect("roll back");
    assert!(postgres_indexes(&db).await.is_empty());

    migrations::migrate_connection(&db).await.expect("reapply");
    assert_eq!(postgres_indexes(&db).await, EXPECTED);
}

#[tokio::test]
async fn a_better_auth_database_that_already_has_an_expiry_index_migrates() {
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    execute(&db, BETTER_AUTH_SQL).await;
    execute(
        &db,
        r#"CREATE INDEX "session_expiresAt_idx" ON "session" ("expiresAt")"#,
    )
    .await;

    migrations::migrate(&test_db.url).await.expect("migrate");

    assert_eq!(postgres_indexes(&db).await, EXPECTED);
}

#[tokio::test]
async fn sqlite_gets_the_expiry_indexes_and_they_survive_down_and_up() {
    let db = migrations::connect("sqlite::memory:")
        .await
        .expect("connect");
    migrations::migrate_connection(&db).await.expect("migrate");
    assert_eq!(sqlite_indexes(&db).await, EXPECTED);

    // The api-key, passkey and two-factor steps, then the expiry indexes.
    migrations::rollback_connection(&db, 4)
        .await
        .expect("roll back");
    assert!(sqlite_indexes(&db).await.is_empty());

    migrations::migrate_connection(&db).await.expect("reapply");
    assert_eq!(sqlite_indexes(&db).await, EXPECTED);
}
