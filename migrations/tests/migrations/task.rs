//! Warden's `task` table on PostgreSQL and SQLite, and the takeover of the earlier FastAPI service's `task` table.

use sea_orm::DatabaseConnection;
use warden_testkit::TestDb;

use crate::helpers::*;

/// The FastAPI service's table as SQLModel created it on PostgreSQL: integer ids, naive UTC timestamps.
const FASTAPI_TASK_SQL: &str = r#"
CREATE TABLE task (
    id SERIAL PRIMARY KEY,
    title VARCHAR NOT NULL,
    description VARCHAR,
    is_completed BOOLEAN NOT NULL DEFAULT false,
    owner_id VARCHAR NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL
);
CREATE INDEX ix_task_owner_id ON task (owner_id);
INSERT INTO task (title, description, is_completed, owner_id, created_at, updated_at) VALUES
    ('Buy milk', NULL, false, 'u1', '2025-03-01 09:00:00.123456', '2025-03-01 09:30:00'),
    ('Write report', 'Quarterly numbers', true, 'u1', '2025-03-02 10:00:00', '2025-03-02 11:00:00'),
    ('Orphan', NULL, false, 'ghost', '2025-03-03 10:00:00', '2025-03-03 10:00:00');
"#;

/// Ada's user row.
async fn insert_user(db: &DatabaseConnection) {
    execute(
        db,
        r#"INSERT INTO "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt")
           VALUES ('u1', 'Ada', 'ada@example.com', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"#,
    )
    .await;
}

async fn insert_task(db: &DatabaseConnection, id: &str, created_at: &str) {
    execute(
        db,
        &format!(
            r#"INSERT INTO "task" ("id", "owner_id", "title", "created_at", "updated_at", "etag")
               VALUES ('{id}', 'u1', 'Title {id}', '{created_at}', '{created_at}', 'e-{id}')"#
        ),
    )
    .await;
}

/// One line per task: `id owner title|description completed etag-length`.
async fn tasks(db: &DatabaseConnection) -> Vec<String> {
    strings(
        db,
        r#"SELECT "id" || ' ' || "owner_id" || ' ' || "title" || '|' || "description" || ' '
                  || CASE WHEN "completed" THEN 'done' ELSE 'open' END AS v
           FROM "task" ORDER BY "id""#,
    )
    .await
}

#[tokio::test]
async fn a_fresh_postgres_database_gets_the_task_table_with_its_list_index() {
    let test_db = TestDb::empty().await;

    migrations::migrate(&test_db.url).await.expect("migrate");

    let db = connect(&test_db.url).await;
    let columns = strings(
        &db,
        "SELECT column_name || ' ' || data_type || ' null=' || is_nullable
                || ' default=' || coalesce(column_default, '-') AS v
         FROM information_schema.columns WHERE table_name = 'task' ORDER BY ordinal_position",
    )
    .await;
    assert_eq!(
        columns,
        [
            "id text null=NO default=-",
            "owner_id text null=NO default=-",
            "title text null=NO default=-",
            "description text null=NO default=''::text",
            "completed boolean null=NO default=false",
            "created_at timestamp with time zone null=NO default=-",
            "updated_at timestamp with time zone null=NO default=-",
            "etag text null=NO default=-",
        ]
    );
    let constraints = strings(
        &db,
        "SELECT pg_get_constraintdef(oid) AS v FROM pg_constraint
         WHERE conrelid = 'task'::regclass ORDER BY 1",
    )
    .await;
    assert_eq!(
        constraints,
        [
            r#"FOREIGN KEY (owner_id) REFERENCES "user"(id) ON DELETE CASCADE"#,
            "PRIMARY KEY (id)",
        ]
    );
    let list_index = strings(
        &db,
        "SELECT indexdef AS v FROM pg_indexes WHERE indexname = 'task_owner_id_created_at_id_idx'",
    )
    .await;
    assert_eq!(
        list_index,
        [
            "CREATE INDEX task_owner_id_created_at_id_idx ON public.task USING btree \
          (owner_id, created_at DESC, id DESC)"
        ]
    );
}

#[tokio::test]
async fn deleting_a_user_deletes_their_tasks_on_postgres() {
    let test_db = TestDb::new().await;
    let db = connect(&test_db.url).await;
    insert_user(&db).await;
    insert_task(&db, "t1", "2026-01-01T00:00:00Z").await;
    insert_task(&db, "t2", "2026-01-02T00:00:00Z").await;
    assert_eq!(tasks(&db).await.len(), 2);

    execute(&db, r#"DELETE FROM "user" WHERE id = 'u1'"#).await;

    assert!(tasks(&db).await.is_empty());
}

#[tokio::test]
async fn a_task_needs_an_existing_owner() {
    let test_db = TestDb::new().await;
    let db = connect(&test_db.url).await;

    let orphan = sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        r#"INSERT INTO "task" ("id", "owner_id", "title", "created_at", "updated_at", "etag")
           VALUES ('t1', 'nobody', 'Lost', now(), now(), 'e')"#,
    )
    .await;

    assert!(orphan.is_err());
}

#[tokio::test]
async fn a_fastapi_task_table_is_set_aside_and_its_tasks_are_copied() {
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    execute(&db, BETTER_AUTH_SQL).await;
    insert_user(&db).await;
    execute(&db, FASTAPI_TASK_SQL).await;

    migrations::migrate(&test_db.url).await.expect("migrate");

    assert_eq!(
        tasks(&db).await,
        [
            "1 u1 Buy milk| open",
            "2 u1 Write report|Quarterly numbers done"
        ]
    );
    let times = strings(
        &db,
        r#"SELECT to_char("created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || ' '
                  || to_char("updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS v
           FROM "task" ORDER BY "id""#,
    )
    .await;
    assert_eq!(
        times,
        [
            "2025-03-01 09:00:00.123456 2025-03-01 09:30:00",
            "2025-03-02 10:00:00.000000 2025-03-02 11:00:00"
        ]
    );
    let etags = strings(&db, r#"SELECT DISTINCT "etag" AS v FROM "task""#).await;
    assert_eq!(etags.len(), 2);
    assert!(etags.iter().all(|etag| !etag.is_empty()));
    // The legacy table is kept whole, orphan included.
    let legacy = strings(
        &db,
        "SELECT title AS v FROM task_fastapi_legacy ORDER BY id",
    )
    .await;
    assert_eq!(legacy, ["Buy milk", "Write report", "Orphan"]);
    // New tasks get Warden's text ids beside the copied ones.
    insert_task(
        &db,
        "019b0000-0000-7000-8000-000000000000",
        "2026-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(tasks(&db).await.len(), 3);
}

#[tokio::test]
async fn the_copied_tasks_go_with_their_owner() {
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    execute(&db, BETTER_AUTH_SQL).await;
    insert_user(&db).await;
    execute(&db, FASTAPI_TASK_SQL).await;
    migrations::migrate(&test_db.url).await.expect("migrate");

    execute(&db, r#"DELETE FROM "user" WHERE id = 'u1'"#).await;

    assert!(tasks(&db).await.is_empty());
}

#[tokio::test]
async fn rolling_back_the_takeover_puts_the_fastapi_table_back_and_reapplying_copies_again() {
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    execute(&db, BETTER_AUTH_SQL).await;
    insert_user(&db).await;
    execute(&db, FASTAPI_TASK_SQL).await;
    migrations::migrate(&test_db.url).await.expect("migrate");

    // The api-key, passkey and two-factor steps, the expiry indexes, then the takeover.
    migrations::rollback_connection(&db, 5)
        .await
        .expect("roll back");

    let restored = strings(&db, "SELECT title AS v FROM task ORDER BY id").await;
    assert_eq!(restored, ["Buy milk", "Write report", "Orphan"]);
    let primary_key = strings(
        &db,
        "SELECT conname::text AS v FROM pg_constraint WHERE conrelid = 'task'::regclass AND contype = 'p'",
    )
    .await;
    assert_eq!(primary_key, ["task_pkey"]);

    migrations::migrate_connection(&db).await.expect("reapply");
    assert_eq!(tasks(&db).await.len(), 2);
}

#[tokio::test]
async fn a_fresh_sqlite_database_gets_the_task_table_and_its_cascade() {
    let db = migrations::connect("sqlite::memory:")
        .await
        .expect("connect");
    migrations::migrate_connection(&db).await.expect("migrate");
    let columns = strings(
        &db,
        "SELECT name || ' ' || type || ' notnull=' || \"notnull\" || ' pk=' || pk
                || ' default=' || coalesce(dflt_value, '-') AS v
         FROM pragma_table_info('task') ORDER BY cid",
    )
    .await;
    assert_eq!(
        columns,
        [
            "id TEXT notnull=1 pk=1 default=-",
            "owner_id TEXT notnull=1 pk=0 default=-",
            "title TEXT notnull=1 pk=0 default=-",
            "description TEXT notnull=1 pk=0 default=''",
            "completed boolean notnull=1 pk=0 default=FALSE",
            "created_at timestamp_with_timezone_text notnull=1 pk=0 default=-",
            "updated_at timestamp_with_timezone_text notnull=1 pk=0 default=-",
            "etag TEXT notnull=1 pk=0 default=-",
        ]
    );
    let index = strings(
        &db,
        "SELECT sql AS v FROM sqlite_master WHERE name = 'task_owner_id_created_at_id_idx'",
    )
    .await;
    assert_eq!(index.len(), 1);
    assert!(
        index[0].contains(r#""owner_id", "created_at" DESC, "id" DESC"#),
        "{index:?}"
    );
    insert_user(&db).await;
    insert_task(&db, "t1", "2026-01-01T00:00:00+00:00").await;

    execute(&db, r#"DELETE FROM "user" WHERE id = 'u1'"#).await;

    assert!(tasks(&db).await.is_empty());
}

#[tokio::test]
async fn a_fastapi_task_table_on_sqlite_is_taken_over_too() {
    let db = migrations::connect("sqlite::memory:")
        .await
        .expect("connect");
    execute(&db, BETTER_AUTH_SQL).await;
    insert_user(&db).await;
    execute(
        &db,
        r#"CREATE TABLE task (
               id INTEGER NOT NULL PRIMARY KEY, title VARCHAR NOT NULL, description VARCHAR,
               is_completed BOOLEAN NOT NULL, owner_id VARCHAR NOT NULL,
               created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
           INSERT INTO task VALUES (7, 'Buy milk', NULL, 0, 'u1', '2025-03-01 09:00:00.123456', '2025-03-01 09:30:00');"#,
    )
    .await;

    migrations::migrate_connection(&db).await.expect("migrate");

    assert_eq!(tasks(&db).await, ["7 u1 Buy milk| open"]);
    let created = strings(&db, r#"SELECT "created_at" AS v FROM "task""#).await;
    assert_eq!(created, ["2025-03-01T09:00:00.123+00:00"]);
}
