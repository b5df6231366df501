//! The background job that deletes expired sessions and expired one-time values (`verification` rows).
//!
//! Nothing ever reads an expired row again (every lookup checks `expiresAt`), so they only take space and slow the
//! tables down. Shortly after start and then every `CLEANUP_INTERVAL`, each table loses its expired rows in batches
//! of [`BATCH_SIZE`] per statement, with a pause between batches, so the job never holds locks or the pool for long.
//! Replicas may all run it: a batch only deletes rows that are still there, so they never conflict.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::store::Store;

/// Rows deleted per statement.
pub const BATCH_SIZE: u64 = 1000;
/// The pause between two batches.
pub const BATCH_PAUSE: Duration = Duration::from_millis(100);
/// The wait before the first pass, so the job does not compete with start-up.
pub const FIRST_PASS_DELAY: Duration = Duration::from_secs(30);
/// The default `CLEANUP_INTERVAL`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(3600);

/// What one pass deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    pub sessions: u64,
    pub verifications: u64,
}

/// The job's settings; [`Cleanup::spawn`] starts it, [`Cleanup::run_once`] runs a single pass.
#[derive(Clone, Debug)]
pub struct Cleanup {
    store: Store,
    /// Zero turns the job off.
    interval: Duration,
    batch_size: u64,
    pause: Duration,
    first_delay: Duration,
}

impl Cleanup {
    /// Passes every `interval` (none when it is zero), in batches of [`BATCH_SIZE`] with [`BATCH_PAUSE`] between.
    pub fn new(store: Store, interval: Duration) -> Self {
        Self {
            store,
            interval,
            batch_size: BATCH_SIZE,
            pause: BATCH_PAUSE,
            first_delay: FIRST_PASS_DELAY.min(interval),
        }
    }

    /// Other batch sizes and pauses (a size of zero counts as one).
    pub fn with_batches(mut self, size: u64, pause: Duration) -> Self {
        self.batch_size = size.max(1);
        self.pause = pause;
        self
    }

    /// Deletes every session and `verification` row that expired before `now`, a batch at a time.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<Removed, sea_orm::DbErr> {
        let mut removed = Removed::default();
        loop {
            let deleted = self
                .store
                .delete_expired_sessions(now, self.batch_size)
                .await?;
            removed.sessions += deleted;
            if deleted < self.batch_size {
                break;
            }
            tokio::time::sleep(self.pause).await;
        }
        loop {
            let deleted = self
                .store
                .delete_expired_verifications(now, self.batch_size)
                .await?;
            removed.verifications += deleted;
            if deleted < self.batch_size {
                break;
            }
            tokio::time::sleep(self.pause).await;
        }
        Ok(removed)
    }

    /// Runs a pass shortly after start and then every interval, until the handle is stopped.
    pub fn spawn(self) -> CleanupHandle {
        let (stop, stopped) = oneshot::channel();
        let task = (!self.interval.is_zero()).then(|| tokio::spawn(self.run(stopped)));
        CleanupHandle { stop, task }
    }

    async fn run(self, mut stopped: oneshot::Receiver<()>) {
        let mut next = tokio::time::Instant::now() + self.first_delay;
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                () = tokio::time::sleep_until(next) => {}
            }
            // A pass cut short by shutdown loses nothing: each statement is whole, and the next pass carries on.
            tokio::select! {
                _ = &mut stopped => return,
                () = self.pass() => {}
            }
            next += self.interval;
        }
    }

    async fn pass(&self) {
        let started = std::time::Instant::now();
        match self.run_once(Utc::now()).await {
            Ok(removed) if removed == Removed::default() => {
                tracing::debug!("cleanup: no expired sessions or verifications");
            }
            Ok(removed) => tracing::info!(
                sessions = removed.sessions,
                verifications = removed.verifications,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "cleanup: deleted expired rows"
            ),
            Err(error) => tracing::warn!(
                %error,
                "cleanup: deleting expired rows failed; retrying at the next interval"
            ),
        }
    }
}

/// A running job; [`CleanupHandle::stop`] ends it.
pub struct CleanupHandle {
    stop: oneshot::Sender<()>,
    task: Option<JoinHandle<()>>,
}

impl CleanupHandle {
    /// Stops the job and waits for it to end; a pass in progress is abandoned, and what it deleted stays deleted.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Some(task) = self.task {
            let _ = task.await;
        }
    }
}
