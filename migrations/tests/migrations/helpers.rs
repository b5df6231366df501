//! Connections, Better Auth's own DDL and rows as Better Auth writes them.

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};

/// A session token as Better Auth stores it: raw, 32 characters.
pub const RAW_TOKEN: &str = "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd";

/// Better Auth's schema with the admin, jwt, two-factor, passkey and api-key plugins, verbatim from its PostgreSQL migration output.
pub const BETTER_AUTH_SQL: &str = include_str!("better_auth.sql");

/// The same without the admin plugin's columns.
pub const BETTER_AUTH_WITHOUT_ADMIN_SQL: &str = include_str!("better_auth_without_admin.sql");

pub async fn connect(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url);
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options).await.expect("connect")
}

/// Runs one or more statements.
pub async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// The text column `v` of every row `sql` returns.
pub async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    let statement = Statement::from_string(db.get_database_backend(), sql);
    db.query_all_raw(statement)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .iter()
        .map(|row| row.try_get::<String>("", "v").expect("text column v"))
        .collect()
}

/// A user Ada with one session holding `token`, written as Better Auth writes them.
pub async fn insert_user_with_session(db: &DatabaseConnection, token: &str) {
    execute(
        db,
        r#"INSERT INTO "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt")
           VALUES ('u1', 'Ada', 'ada@example.com', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"#,
    )
    .await;
    execute(
        db,
        &format!(
            r#"INSERT INTO "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "userId")
               VALUES ('s1', CURRENT_TIMESTAMP, '{token}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'u1')"#
        ),
    )
    .await;
}

pub async fn session_tokens(db: &DatabaseConnection) -> Vec<String> {
    strings(db, r#"SELECT "token" AS v FROM "session" ORDER BY "id""#).await
}

pub async fn user_names(db: &DatabaseConnection) -> Vec<String> {
    strings(
        db,
        r#"SELECT "name" || ' <' || "email" || '>' AS v FROM "user" ORDER BY "id""#,
    )
    .await
}
