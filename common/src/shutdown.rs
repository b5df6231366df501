//! The one shutdown signal every server drains on.

use std::{future::Future, time::Duration};

/// How long a server keeps serving after the shutdown signal, already reporting that it is stopping, unless
/// `DRAIN_DELAY` says otherwise.
pub const DEFAULT_DRAIN_DELAY: Duration = Duration::from_secs(1);

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the future is first
/// polled, so a SIGTERM that arrives while a server is still starting drains it instead of killing the process.
/// Needs a Tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait =
                |name: &'static str, signal: std::io::Result<tokio::signal::unix::Signal>| async move {
                    match signal {
                        Ok(mut signal) => {
                            signal.recv().await;
                        }
                        Err(error) => {
                            tracing::error!(%error, "cannot listen for {name}");
                            std::future::pending::<()>().await;
                        }
                    }
                };
            tokio::select! {
                () = wait("Ctrl-C", interrupt) => {},
                () = wait("SIGTERM", terminate) => {},
            }
        }
        #[cfg(not(unix))]
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutdown signal received, draining");
    }
}
