//! Binding and serving: the gateway owns its listener, so tests can bind port 0 and read the port back.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use warden_common::metrics::Metrics;

use crate::config::Config;
use crate::router::router;
use crate::state::AppState;

pub struct GatewayServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState,
}

impl GatewayServer {
    /// Checks the config, binds the listener and prepares the routes; auth-svc is connected to on first use.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("GATEWAY_ADDR: cannot listen on {}", config.listen))?;
        Self::build_on(config, listener)
    }

    /// As [`Self::build`], on a listener bound beforehand (when BASE_URL must name the port before the services
    /// start, binding early avoids racing another process for it).
    pub fn build_on(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        Self::serving(AppState::new(&config)?, listener)
    }

    /// As [`Self::build_on`], reaching auth-svc and task-svc through in-process ports (the all-in-one).
    pub fn build_in_process(
        config: Config,
        listener: TcpListener,
        auth: &warden_common::in_process::InProcessPort,
        tasks: &warden_common::in_process::InProcessPort,
    ) -> anyhow::Result<Self> {
        Self::serving(AppState::in_process(&config, auth, tasks)?, listener)
    }

    fn serving(state: AppState, listener: TcpListener) -> anyhow::Result<Self> {
        let local_addr = listener.local_addr().context("reading the bound address")?;
        Ok(Self {
            listener,
            local_addr,
            state,
        })
    }

    /// Records into, and serves at `/metrics`, `metrics` shared with the other servers in the process (the
    /// all-in-one) instead of the gateway's own.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.state.set_metrics(metrics);
        self
    }

    /// Serves the `/api/v1/*` bindings of `transcoder` instead of Warden's own, and describes them in the OpenAPI
    /// document: how a test shows that an annotated RPC is served with no handler written for it.
    pub fn with_transcoder(mut self, transcoder: crate::transcode::Transcoder) -> Self {
        self.state.set_transcoder(transcoder);
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves; then `/readyz` answers 503, serving goes on for the drain delay, and the
    /// listener closes once in-flight requests have finished.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let readiness = self.state.readiness.clone();
        let delay = self.state.limits.drain_delay;
        let drain = async move {
            shutdown.await;
            readiness.start_draining();
            tracing::info!(
                ?delay,
                "/readyz answers 503; still serving during the drain delay"
            );
            tokio::time::sleep(delay).await;
            tracing::info!("closing the listener; finishing requests in flight");
        };
        // The peer address is what auth-svc receives as `x-forwarded-for`.
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        // TCP_NODELAY: small responses must not wait on the client's delayed ACK.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(drain)
            .await
            .context("serving HTTP")
    }
}
