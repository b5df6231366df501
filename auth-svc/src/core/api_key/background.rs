//! The api-key plugin's background work in auth-svc: every `API_KEY_WRITE_BACK` the use counters the cache holds are
//! written back to their rows, and at most every [`SWEEP_INTERVAL`] the expired keys are deleted (the package's
//! server-only `deleteAllExpiredApiKeys`, which it runs as a side effect of its routes). Stopping writes back once
//! more, so a shutdown loses no counted use.

use std::time::Duration;

use tokio::{sync::oneshot, task::JoinHandle};

use super::ApiKeys;

/// How often expired keys are swept.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// A running job; [`KeyJobHandle::stop`] ends it.
pub struct KeyJobHandle {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl ApiKeys {
    /// Starts writing counters back every `interval` and sweeping expired keys.
    pub fn spawn_background(&self, interval: Duration) -> KeyJobHandle {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let keys = self.clone();
        let interval = interval.max(Duration::from_millis(10));
        let task = tokio::spawn(async move {
            let mut swept = tokio::time::Instant::now();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(interval) => {}
                }
                keys.write_back_logged().await;
                if swept.elapsed() >= SWEEP_INTERVAL {
                    swept = tokio::time::Instant::now();
                    match keys.delete_expired().await {
                        Ok(0) => {}
                        Ok(deleted) => tracing::info!(deleted, "api keys: deleted expired keys"),
                        Err(error) => {
                            tracing::warn!(%error, "api keys: deleting expired keys failed")
                        }
                    }
                }
            }
            keys.write_back_logged().await;
        });
        KeyJobHandle { stop, task }
    }

    async fn write_back_logged(&self) {
        match self.write_back().await {
            Ok(0) => {}
            Ok(written) => tracing::debug!(written, "api keys: use counters written back"),
            Err(error) => tracing::warn!(
                %error,
                "api keys: writing use counters back failed; they stay counted in the cache"
            ),
        }
    }
}

impl KeyJobHandle {
    /// Stops the job after one last write-back.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
