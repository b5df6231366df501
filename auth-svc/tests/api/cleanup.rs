//! The job that deletes expired sessions and verifications: one pass on PostgreSQL and on SQLite, and the job as
//! auth-svc runs it.

use std::time::Duration;

use auth_svc::{
    core::cleanup::{Cleanup, Removed},
    store::Store,
};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, sea_query::Query};
use warden_testkit::TestDb;

use crate::helpers::TestApp;

const EXPIRED_SESSIONS: usize = 5;
const LIVE_SESSIONS: usize = 2;
const EXPIRED_VERIFICATIONS: usize = 3;
const LIVE_VERIFICATIONS: usize = 2;

/// A user with expired and live sessions and verifications, timestamps bound as auth-svc writes them.
async fn seed(db: &DatabaseConnection, now: DateTime<Utc>) {
    let backend = db.get_database_backend();
    let user = Query::insert()
        .into_table("user")
        .columns([
            "id",
            "name",
            "email",
            "emailVerified",
            "createdAt",
            "updatedAt",
        ])
        .values_panic([
            "cleanup-user".into(),
            "Ada".into(),
            "cleanup@example.com".into(),
            true.into(),
            now.into(),
            now.into(),
        ])
        .to_owned();
    db.execute_raw(backend.build(&user)).await.unwrap();
    let mut sessions = Query::insert()
        .into_table("session")
        .columns([
            "id",
            "token",
            "userId",
            "expiresAt",
            "createdAt",
            "updatedAt",
        ])
        .to_owned();
    let rows = (0..EXPIRED_SESSIONS)
        .map(|i| {
            (
                format!("expired-{i}"),
                now - TimeDelta::minutes(1 + i as i64),
            )
        })
        .chain((0..LIVE_SESSIONS).map(|i| (format!("live-{i}"), now + TimeDelta::days(1))));
    for (id, expires_at) in rows {
        sessions.values_panic([
            id.clone().into(),
            format!("token-{id}").into(),
            "cleanup-user".into(),
            expires_at.into(),
            now.into(),
            now.into(),
        ]);
    }
    db.execute_raw(backend.build(&sessions)).await.unwrap();
    let mut verifications = Query::insert()
        .into_table("verification")
        .columns([
            "id",
            "identifier",
            "value",
            "expiresAt",
            "createdAt",
            "updatedAt",
        ])
        .to_owned();
    let rows = (0..EXPIRED_VERIFICATIONS)
        .map(|i| {
            (
                format!("expired-{i}"),
                now - TimeDelta::seconds(1 + i as i64),
            )
        })
        .chain((0..LIVE_VERIFICATIONS).map(|i| (format!("live-{i}"), now + TimeDelta::hours(1))));
    for (id, expires_at) in rows {
        verifications.values_panic([
            id.clone().into(),
            format!("reset-password:{id}").into(),
            "cleanup-user".into(),
            expires_at.into(),
            now.into(),
            now.into(),
        ]);
    }
    db.execute_raw(backend.build(&verifications)).await.unwrap();
}

async fn ids(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let sql = format!(r#"SELECT id FROM "{table}" ORDER BY id"#);
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect()
}

fn live(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("live-{i}")).collect()
}

/// Seeds, runs one pass in batches of two (so every table takes several statements) and checks what is left.
async fn one_pass_leaves_only_live_rows(store: Store) {
    let now = Utc::now();
    seed(store.connection(), now).await;
    let cleanup = Cleanup::new(store.clone(), Duration::ZERO).with_batches(2, Duration::ZERO);

    let removed = cleanup.run_once(now).await.unwrap();

    assert_eq!(
        removed,
        Removed {
            sessions: EXPIRED_SESSIONS as u64,
            verifications: EXPIRED_VERIFICATIONS as u64,
        }
    );
    assert_eq!(
        ids(store.connection(), "session").await,
        live(LIVE_SESSIONS)
    );
    assert_eq!(
        ids(store.connection(), "verification").await,
        live(LIVE_VERIFICATIONS)
    );
    assert_eq!(cleanup.run_once(now).await.unwrap(), Removed::default());
}

#[tokio::test]
async fn a_cleanup_pass_deletes_only_expired_sessions_and_verifications_on_postgres() {
    let database = TestDb::new().await;
    let store = Store::connect(&database.url, 2).await.unwrap();
    one_pass_leaves_only_live_rows(store).await;
}

#[tokio::test]
async fn a_cleanup_pass_deletes_only_expired_sessions_and_verifications_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = warden_testkit::sqlite_url(dir.path());
    migrations::migrate(&url).await.unwrap();
    let store = Store::connect(&url, 1).await.unwrap();
    one_pass_leaves_only_live_rows(store).await;
}

#[tokio::test]
async fn auth_svc_runs_the_cleanup_soon_after_start_and_keeps_live_sessions() {
    let app = TestApp::spawn_with(|config| config.cleanup_interval = Duration::from_secs(1)).await;
    seed(&app.db, Utc::now()).await;

    // A pass deletes sessions first, then verifications: wait for both.
    let mut left = (Vec::new(), Vec::new());
    for _ in 0..50 {
        left = (
            ids(&app.db, "session").await,
            ids(&app.db, "verification").await,
        );
        if left.0.len() == LIVE_SESSIONS && left.1.len() == LIVE_VERIFICATIONS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    assert_eq!(left, (live(LIVE_SESSIONS), live(LIVE_VERIFICATIONS)));
}
