//! A PostgreSQL database of a test's own, dropped when the test is done with it.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::{admin, template};

/// A fresh database; `url` connects to it. Dropping the value drops the database.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub name: String,
}

impl TestDb {
    /// A database with every migration applied (a clone of the template).
    pub async fn new() -> TestDb {
        let template = template::template().await;
        Self::create(Some(template)).await
    }

    /// A database with no tables at all, for testing the migrations themselves.
    pub async fn empty() -> TestDb {
        Self::create(None).await
    }

    async fn create(template: Option<&str>) -> TestDb {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let name = format!(
            "{}{secs}_{:016x}",
            template::TEST_DB_PREFIX,
            rand::random::<u64>()
        );
        let admin = admin::connect().await;
        admin::create_database(&admin, &name, template)
            .await
            .unwrap_or_else(|error| panic!("creating test database {name}: {error}"));
        let _ = admin.close().await;
        TestDb {
            url: admin::database_url(&name),
            name,
        }
    }
}

impl Drop for TestDb {
    /// Drop runs outside async, possibly inside a runtime that cannot block, so the database is dropped from a
    /// thread with a runtime of its own.
    fn drop(&mut self) {
        let name = self.name.clone();
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = admin::connect().await;
                let dropped = admin::drop_database(&admin, &name).await;
                let _ = admin.close().await;
                dropped.map_err(anyhow::Error::from)
            })
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("could not drop test database {}: {error}", self.name),
            Err(_) => eprintln!("could not drop test database {}", self.name),
        }
    }
}
