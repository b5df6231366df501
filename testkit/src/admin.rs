//! The PostgreSQL maintenance database through which test databases are created and dropped.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// `WARDEN_TEST_DATABASE_URL`, or PostgreSQL on localhost with trust auth.
pub fn admin_url() -> String {
    std::env::var("WARDEN_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// The admin URL with its database name replaced by `name`.
pub fn database_url(name: &str) -> String {
    let admin = admin_url();
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin.as_str(), String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..path_start])
}

/// One connection to the admin database; panics with directions if PostgreSQL is not there.
pub async fn connect() -> DatabaseConnection {
    let mut options = ConnectOptions::new(admin_url());
    options
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    match Database::connect(options).await {
        Ok(conn) => conn,
        Err(error) => panic!(
            "tests need PostgreSQL: cannot connect to the database named by WARDEN_TEST_DATABASE_URL \
             (default {DEFAULT_ADMIN_URL}); start it, e.g. with scripts/test: {error}"
        ),
    }
}

/// Creates `name`, cloning `template` if given.
pub async fn create_database(
    admin: &DatabaseConnection,
    name: &str,
    template: Option<&str>,
) -> Result<(), DbErr> {
    let sql = match template {
        Some(template) => format!(r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#),
        None => format!(r#"CREATE DATABASE "{name}""#),
    };
    execute_when_free(admin, &sql).await
}

pub async fn drop_database(admin: &DatabaseConnection, name: &str) -> Result<(), DbErr> {
    let sql = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
    admin.execute_unprepared(&sql).await.map(drop)
}

/// Runs `sql`, retrying for a few seconds while PostgreSQL refuses because a session is still connected to the
/// database involved (a backend that was just closed can take a moment to go).
pub async fn execute_when_free(admin: &DatabaseConnection, sql: &str) -> Result<(), DbErr> {
    let mut attempts = 0;
    loop {
        match admin.execute_unprepared(sql).await {
            Err(error)
                if attempts < 50 && error.to_string().contains("being accessed by other users") =>
            {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            result => return result.map(drop),
        }
    }
}
