use chrono::Utc;
use sea_orm::{ConnectionTrait, Database, Statement};
use sea_orm_migration::MigratorTrait;
use warden_testkit::TestDb;

use crate::helpers::{TestApp, bearer};

/// Better Auth's scrypt test vector for `password123`.
const SCRYPT_VECTOR: &str = "0123456789abcdef0123456789abcdef:e8b256b6f9f4b1641136a66d4a26ba41a47b6c8c9bad6aa4145559ffda45ece1f0f16dec8482a3e5545feada0ba62f2b05eeb943b750c9396874e1762c78d27d";

fn insert_user(id: &str, email: &str) -> String {
    let now = Utc::now().to_rfc3339();
    format!(
        r#"insert into "user" ("id","name","email","emailVerified","createdAt","updatedAt") values ('{id}','Old','{email}',false,'{now}','{now}')"#
    )
}

#[tokio::test]
async fn a_better_auth_scrypt_password_signs_in_and_is_rehashed_to_argon2id() {
    let app = TestApp::spawn().await;
    let now = Utc::now().to_rfc3339();
    app.execute(&insert_user(
        "legacyUser00000000000000000000001",
        "legacy@example.com",
    ))
    .await;
    app.execute(&format!(
        r#"insert into "account" ("id","accountId","providerId","userId","password","createdAt","updatedAt") values ('acc1','legacyUser00000000000000000000001','credential','legacyUser00000000000000000000001','{SCRYPT_VECTOR}','{now}','{now}')"#
    ))
    .await;

    let wrong = app.sign_in("legacy@example.com", "password124").await;
    let right = app.sign_in("legacy@example.com", "password123").await;

    assert!(wrong.is_err());
    assert_eq!(
        right.unwrap().user.unwrap().id,
        "legacyUser00000000000000000000001"
    );
    let stored = app
        .query_strings(r#"select "password" from "account""#)
        .await;
    assert!(
        stored[0].starts_with("$argon2id$"),
        "rehashed: {}",
        &stored[0][..10]
    );
    assert!(
        app.sign_in("legacy@example.com", "password123")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_raw_token_written_by_better_auth_still_works_after_migrating_and_is_no_longer_stored() {
    let database = TestDb::empty().await;
    let conn = Database::connect(database.url.as_str()).await.unwrap();
    // The schema as it stood before tokens were hashed, holding a row as Better Auth writes it.
    migrations::Migrator::up(&conn, Some(1)).await.unwrap();
    let raw = "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd";
    let now = Utc::now();
    let expires = (now + chrono::TimeDelta::days(7)).to_rfc3339();
    for sql in [
        insert_user("baUser0000000000000000000000001", "ba@example.com"),
        format!(
            r#"insert into "session" ("id","expiresAt","token","createdAt","updatedAt","userId") values ('baSession','{expires}','{raw}','{n}','{n}','baUser0000000000000000000000001')"#,
            n = now.to_rfc3339()
        ),
    ] {
        conn.execute_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .unwrap();
    }
    drop(conn);

    let app = TestApp::spawn_on(database, |config| config.migrate = true).await;

    let session = app.get_session(raw).await.unwrap();
    assert_eq!(session.user.unwrap().email, "ba@example.com");
    let stored = app.query_strings(r#"select "token" from "session""#).await;
    assert_eq!(stored, vec![warden_common::token::hash_token(raw)]);
    let listed = app.list_sessions(raw).await.unwrap();
    let status = app.get_session(&listed[0].token).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    let _ = bearer((), raw);
}
