//! PostgreSQL: Better Auth's schema exactly, existing Better Auth databases, concurrency, token hashing.

use migrations::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use warden_common::token::{hash_token, is_token_hash};
use warden_testkit::TestDb;

use crate::helpers::*;

/// Every column, constraint and index of Better Auth's tables, one line each (the migrator's bookkeeping and
/// Warden's own tables left out).
async fn describe(db: &DatabaseConnection) -> Vec<String> {
    let columns = strings(
        db,
        "SELECT table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable
                || ' default=' || coalesce(column_default, '-') AS v
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT IN ('seaql_migrations', 'task')
         ORDER BY table_name, ordinal_position",
    )
    .await;
    let constraints = strings(
        db,
        "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS v
         FROM pg_constraint
         WHERE connamespace = 'public'::regnamespace
           AND conrelid::regclass::text NOT IN ('seaql_migrations', 'task')
         ORDER BY 1",
    )
    .await;
    let indexes = strings(
        db,
        "SELECT indexdef AS v FROM pg_indexes
         WHERE schemaname = 'public' AND tablename NOT IN ('seaql_migrations', 'task')
           AND indexname NOT IN ('session_expiresAt_idx', 'verification_expiresAt_idx') ORDER BY 1",
    )
    .await;
    [columns, constraints, indexes].concat()
}

/// What Better Auth itself creates, described the same way.
async fn better_auth_reference() -> Vec<String> {
    let reference = TestDb::empty().await;
    let db = connect(&reference.url).await;
    execute(&db, BETTER_AUTH_SQL).await;
    let described = describe(&db).await;
    db.close().await.expect("close");
    described
}

#[tokio::test]
async fn a_fresh_database_gets_better_auths_schema_exactly() {
    let test_db = TestDb::empty().await;

    migrations::migrate(&test_db.url).await.expect("migrate");

    let db = connect(&test_db.url).await;
    let schema = describe(&db).await;
    assert_eq!(schema, better_auth_reference().await);
    assert!(schema.contains(&"session.token text null=NO default=-".to_owned()));
    assert!(
        schema.contains(&"user.banExpires timestamp with time zone null=YES default=-".to_owned())
    );
    assert!(schema.contains(&r#""user" user_email_key UNIQUE (email)"#.to_owned()));
    assert!(schema.contains(
        &r#"session session_userId_fkey FOREIGN KEY ("userId") REFERENCES "user"(id) ON DELETE CASCADE"#.to_owned()
    ));
}

#[tokio::test]
async fn migrating_twice_changes_nothing() {
    let test_db = TestDb::empty().await;
    migrations::migrate(&test_db.url)
        .await
        .expect("first migrate");
    let db = connect(&test_db.url).await;
    insert_user_with_session(&db, &hash_token(RAW_TOKEN)).await;
    let before = describe(&db).await;

    migrations::migrate(&test_db.url)
        .await
        .expect("second migrate");

    assert_eq!(describe(&db).await, before);
    assert_eq!(user_names(&db).await, ["Ada <ada@example.com>"]);
    assert_eq!(session_tokens(&db).await, [hash_token(RAW_TOKEN)]);
}

#[tokio::test]
async fn two_services_migrating_one_fresh_database_at_once_both_succeed() {
    let test_db = TestDb::empty().await;

    let (first, second) = tokio::join!(
        migrations::migrate(&test_db.url),
        migrations::migrate(&test_db.url)
    );

    first.expect("first migrator");
    second.expect("second migrator");
    let db = connect(&test_db.url).await;
    let applied = strings(
        &db,
        "SELECT version AS v FROM seaql_migrations ORDER BY version",
    )
    .await;
    assert_eq!(applied.len(), Migrator::migrations().len());
}

#[tokio::test]
async fn raw_session_tokens_better_auth_wrote_are_replaced_by_their_hashes() {
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    execute(&db, BETTER_AUTH_SQL).await;
    insert_user_with_session(&db, RAW_TOKEN).await;

    migrations::migrate(&test_db.url).await.expect("migrate");

    assert_eq!(session_tokens(&db).await, [hash_token(RAW_TOKEN)]);
    let raw_left = strings(
        &db,
        &format!(r#"SELECT id AS v FROM "session" WHERE token = '{RAW_TOKEN}'"#),
    )
    .await;
    assert!(raw_left.is_empty());
}

#[tokio::test]
async fn every_raw_token_is_hashed_however_many_sessions_there_are() {
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    execute(&db, BETTER_AUTH_SQL).await;
    insert_user_with_session(&db, RAW_TOKEN).await;
    execute(
        &db,
        r#"INSERT INTO "session" ("id", "expiresAt", "token", "updatedAt", "userId")
           SELECT 'bulk' || i, now(), md5(i::text), now(), 'u1' FROM generate_series(1, 1234) AS i"#,
    )
    .await;

    migrations::migrate(&test_db.url).await.expect("migrate");

    let tokens = session_tokens(&db).await;
    assert_eq!(tokens.len(), 1235);
    assert!(tokens.iter().all(|token| is_token_hash(token)));
    let bulk_7 = strings(
        &db,
        r#"SELECT token AS v FROM "session" WHERE id = 'bulk7'"#,
    )
    .await;
    assert_eq!(bulk_7, [hash_token("8f14e45fceea167a5a36dedd4bea2543")]);
}

#[tokio::test]
async fn hashing_again_leaves_hashed_tokens_alone() {
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    execute(&db, BETTER_AUTH_SQL).await;
    insert_user_with_session(&db, RAW_TOKEN).await;
    migrations::migrate(&test_db.url).await.expect("migrate");

    // The api-key, passkey and two-factor steps, the expiry indexes, the task table's step, then the hashing step.
    migrations::rollback_connection(&db, 6)
        .await
        .expect("roll back the hashing step");
    migrations::migrate(&test_db.url)
        .await
        .expect("migrate again");

    assert_eq!(session_tokens(&db).await, [hash_token(RAW_TOKEN)]);
}

#[tokio::test]
async fn a_better_auth_database_without_the_admin_plugin_gains_its_columns_and_keeps_its_rows() {
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    execute(&db, BETTER_AUTH_WITHOUT_ADMIN_SQL).await;
    insert_user_with_session(&db, RAW_TOKEN).await;

    migrations::migrate(&test_db.url).await.expect("migrate");

    assert_eq!(describe(&db).await, better_auth_reference().await);
    assert_eq!(user_names(&db).await, ["Ada <ada@example.com>"]);
    assert_eq!(session_tokens(&db).await, [hash_token(RAW_TOKEN)]);
}

#[tokio::test]
async fn a_better_auth_database_without_the_jwt_and_admin_plugins_gains_the_jwks_table_and_columns()
{
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    let without_jwt: String = BETTER_AUTH_WITHOUT_ADMIN_SQL
        .split_inclusive(';')
        .filter(|statement| !statement.contains(r#"create table "jwks""#))
        .collect();
    assert!(
        !without_jwt.contains("jwks"),
        "the jwt plugin's table is left out"
    );
    execute(&db, &without_jwt).await;
    insert_user_with_session(&db, RAW_TOKEN).await;

    migrations::migrate(&test_db.url).await.expect("migrate");

    assert_eq!(describe(&db).await, better_auth_reference().await);
    assert_eq!(user_names(&db).await, ["Ada <ada@example.com>"]);
    assert_eq!(session_tokens(&db).await, [hash_token(RAW_TOKEN)]);
}

#[tokio::test]
async fn deleting_a_user_deletes_their_sessions() {
    let test_db = TestDb::empty().await;
    migrations::migrate(&test_db.url).await.expect("migrate");
    let db = connect(&test_db.url).await;
    insert_user_with_session(&db, &hash_token(RAW_TOKEN)).await;

    execute(&db, r#"DELETE FROM "user" WHERE id = 'u1'"#).await;

    assert!(session_tokens(&db).await.is_empty());
}

#[tokio::test]
async fn rolling_everything_back_and_reapplying_works() {
    let test_db = TestDb::empty().await;
    migrations::migrate(&test_db.url).await.expect("migrate");
    let db = connect(&test_db.url).await;

    let steps = u32::try_from(Migrator::migrations().len()).expect("few migrations");
    migrations::rollback_connection(&db, steps)
        .await
        .expect("roll back");
    let tables = strings(
        &db,
        "SELECT table_name::text AS v FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .await;
    assert_eq!(tables, ["seaql_migrations"]);

    migrations::migrate_connection(&db).await.expect("reapply");
    assert_eq!(describe(&db).await, better_auth_reference().await);
}

#[tokio::test]
async fn a_better_auth_database_with_the_two_factor_plugin_keeps_its_rows() {
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    execute(&db, BETTER_AUTH_SQL).await;
    insert_user_with_session(&db, RAW_TOKEN).await;
    execute(
        &db,
        r#"UPDATE "user" SET "twoFactorEnabled" = true;
           INSERT INTO "twoFactor" (id, secret, "backupCodes", "userId", verified)
           SELECT 'tf1', 'sealed-secret', 'sealed-codes', id, true FROM "user""#,
    )
    .await;

    migrations::migrate(&test_db.url).await.expect("migrate");

    assert_eq!(describe(&db).await, better_auth_reference().await);
    let rows = strings(
        &db,
        r#"SELECT t.secret || ' ' || t."backupCodes" || ' ' || u."twoFactorEnabled"::text AS v
           FROM "twoFactor" t JOIN "user" u ON u.id = t."userId""#,
    )
    .await;
    assert_eq!(rows, ["sealed-secret sealed-codes true"]);
}

#[tokio::test]
async fn a_better_auth_database_with_the_passkey_and_api_key_plugins_keeps_its_rows() {
    let test_db = TestDb::empty().await;
    let db = connect(&test_db.url).await;
    execute(&db, BETTER_AUTH_SQL).await;
    insert_user_with_session(&db, RAW_TOKEN).await;
    execute(
        &db,
        r#"INSERT INTO passkey (id, name, "publicKey", "userId", "credentialID", counter, "deviceType", "backedUp",
                                 transports)
           SELECT 'pk1', 'Laptop', 'pQECAyYg', id, 'cred-1', 3, 'singleDevice', false, 'internal' FROM "user";
           INSERT INTO apikey (id, "configId", name, start, "referenceId", prefix, key, enabled, "rateLimitEnabled",
                                "rateLimitTimeWindow", "rateLimitMax", "requestCount", "createdAt", "updatedAt")
           SELECT 'ak1', 'default', 'cron', 'abcdef', id, NULL, 'hashed-key', true, true, 86400000, 10, 2, now(),
                  now() FROM "user""#,
    )
    .await;

    migrations::migrate(&test_db.url).await.expect("migrate");

    assert_eq!(describe(&db).await, better_auth_reference().await);
    let passkeys = strings(
        &db,
        r#"SELECT name || ' ' || "credentialID" || ' ' || counter::text AS v FROM passkey"#,
    )
    .await;
    assert_eq!(passkeys, ["Laptop cred-1 3"]);
    let keys = strings(
        &db,
        r#"SELECT name || ' ' || key || ' ' || "rateLimitMax"::text || ' ' || "requestCount"::text AS v FROM apikey"#,
    )
    .await;
    assert_eq!(keys, ["cron hashed-key 10 2"]);
}
