//! The template database every [`TestDb`](crate::TestDb) is cloned from.
//!
//! Its name carries a digest of the migration names, so a new migration gets a new template. The first process to
//! need it builds it under an advisory lock on the admin database, migrating a scratch database and renaming it only
//! when complete, so parallel test binaries build it once and never clone a half-migrated one. Connections to it are
//! then refused, because PostgreSQL will not clone a database anyone is connected to. Setting up also drops test
//! databases older than two hours, left behind by runs that crashed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::admin;

/// Advisory lock key held while the template is checked or built.
const LOCK_KEY: i64 = 0x0077_6172_6474_706c;
/// Test databases older than this are taken to be left over from a crashed run.
const STALE_AFTER: Duration = Duration::from_secs(2 * 60 * 60);

pub const TEST_DB_PREFIX: &str = "warden_test_";

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The template's name, building it first if no process has yet.
pub async fn template() -> &'static str {
    TEMPLATE.get_or_init(set_up).await
}

fn template_name() -> String {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|migration| migration.name().to_owned())
        .collect();
    let digest = hex::encode(Sha256::digest(names.join("\n")));
    format!("warden_tpl_{}", &digest[..12])
}

async fn set_up() -> String {
    let name = template_name();
    let admin = admin::connect().await;
    run(&admin, &format!("SELECT pg_advisory_lock({LOCK_KEY})")).await;
    if !exists(&admin, &name).await {
        build(&admin, &name).await;
    }
    sweep(&admin).await;
    run(&admin, &format!("SELECT pg_advisory_unlock({LOCK_KEY})")).await;
    let _ = admin.close().await;
    name
}

async fn build(admin: &DatabaseConnection, name: &str) {
    let scratch = format!("{name}_build");
    let _ = admin::drop_database(admin, &scratch).await;
    admin::create_database(admin, &scratch, None)
        .await
        .unwrap_or_else(|error| panic!("creating {scratch}: {error}"));
    migrations::migrate(&admin::database_url(&scratch))
        .await
        .unwrap_or_else(|error| panic!("migrating {scratch}: {error:#}"));
    let rename = format!(r#"ALTER DATABASE "{scratch}" RENAME TO "{name}""#);
    admin::execute_when_free(admin, &rename)
        .await
        .unwrap_or_else(|error| panic!("renaming {scratch}: {error}"));
    run(
        admin,
        &format!(r#"ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false"#),
    )
    .await;
}

async fn exists(admin: &DatabaseConnection, name: &str) -> bool {
    let query = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT 1 FROM pg_database WHERE datname = $1",
        [name.into()],
    );
    let row = admin.query_one_raw(query).await;
    row.unwrap_or_else(|error| panic!("looking for {name}: {error}"))
        .is_some()
}

/// Drops test databases whose name says they are older than [`STALE_AFTER`].
async fn sweep(admin: &DatabaseConnection) {
    let list =
        r"SELECT datname::text AS name FROM pg_database WHERE datname LIKE 'warden\_test\_%'";
    let rows = admin
        .query_all_raw(Statement::from_string(DbBackend::Postgres, list))
        .await
        .unwrap_or_default();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "name") else {
            continue;
        };
        let created = name
            .strip_prefix(TEST_DB_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| now.saturating_sub(Duration::from_secs(secs)) > STALE_AFTER) {
            let _ = admin::drop_database(admin, &name).await;
        }
    }
}

async fn run(admin: &DatabaseConnection, sql: &str) {
    if let Err(error) = admin.execute_unprepared(sql).await {
        panic!("setting up the template database ({sql}): {error}");
    }
}
