use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use warden_testkit::TestDb;

async fn connect(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url);
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options).await.expect("connect")
}

async fn database_exists(name: &str) -> bool {
    let admin = connect(&warden_testkit::admin_url()).await;
    let query = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT 1 FROM pg_database WHERE datname = $1",
        [name.into()],
    );
    let found = admin
        .query_one_raw(query)
        .await
        .expect("query pg_database")
        .is_some();
    admin.close().await.expect("close");
    found
}

async fn user_table_exists(url: &str) -> bool {
    let db = connect(url).await;
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT to_regclass('public.\"user\"') IS NOT NULL AS present",
        ))
        .await
        .expect("query to_regclass")
        .expect("one row");
    let present = row.try_get::<bool>("", "present").expect("present column");
    db.close().await.expect("close");
    present
}

#[tokio::test]
async fn two_test_databases_are_distinct_and_migrated() {
    let (first, second) = tokio::join!(TestDb::new(), TestDb::new());

    assert_ne!(first.name, second.name);
    assert_ne!(first.url, second.url);
    assert!(user_table_exists(&first.url).await);
    assert!(user_table_exists(&second.url).await);
}

#[tokio::test]
async fn writes_to_one_test_database_are_not_seen_by_another() {
    let (first, second) = tokio::join!(TestDb::new(), TestDb::new());
    let db = connect(&first.url).await;
    db.execute_unprepared(
        r#"INSERT INTO "user" ("id", "name", "email", "emailVerified") VALUES ('u1', 'Ada', 'ada@example.com', false)"#,
    )
    .await
    .expect("insert");

    let other = connect(&second.url).await;
    let row = other
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            r#"SELECT count(*) AS n FROM "user""#,
        ))
        .await
        .expect("count")
        .expect("one row");

    assert_eq!(row.try_get::<i64>("", "n").expect("n"), 0);
    db.close().await.expect("close");
    other.close().await.expect("close");
}

#[tokio::test]
async fn dropping_a_test_database_removes_it() {
    let db = TestDb::new().await;
    let name = db.name.clone();
    assert!(database_exists(&name).await);

    drop(db);

    assert!(!database_exists(&name).await);
}

#[tokio::test]
async fn dropping_removes_the_database_even_while_connections_are_open() {
    let db = TestDb::new().await;
    let name = db.name.clone();
    let open = connect(&db.url).await;
    open.execute_unprepared("SELECT 1").await.expect("select");

    drop(db);

    assert!(!database_exists(&name).await);
    let _ = tokio::time::timeout(Duration::from_secs(1), open.close()).await;
}

#[tokio::test]
async fn an_empty_test_database_has_no_tables() {
    let db = TestDb::empty().await;

    assert!(!user_table_exists(&db.url).await);
}

#[test]
fn redis_prefixes_are_unique() {
    assert_ne!(
        warden_testkit::redis_prefix(),
        warden_testkit::redis_prefix()
    );
    assert!(warden_testkit::redis_prefix().starts_with("warden-test:"));
    assert!(warden_testkit::redis_url().starts_with("redis://"));
}

#[tokio::test]
async fn a_sqlite_url_names_a_file_in_the_directory_that_migrating_creates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = warden_testkit::sqlite_url(dir.path());

    migrations::migrate(&url).await.expect("migrate");

    assert!(url.starts_with("sqlite://") && url.ends_with("?mode=rwc"));
    assert!(dir.path().join("warden.db").exists());
}
