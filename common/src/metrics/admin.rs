//! The admin port of a gRPC service: `GET /metrics` on an address of its own (`METRICS_ADDR`).

use std::net::SocketAddr;

use anyhow::Context;
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use tokio::net::TcpListener;

use super::Metrics;

/// A gRPC service's admin port, answering `GET /metrics`. Bound when the service is built, so a port in use fails
/// the start; served while the service runs.
pub struct AdminPort {
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl AdminPort {
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding METRICS_ADDR {addr}"))?;
        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            local_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `metrics` until the returned guard is dropped.
    pub fn spawn(self, metrics: Metrics) -> Serving {
        Serving(tokio::spawn(async move {
            if let Err(error) = serve(self.listener, metrics).await {
                tracing::error!(error = format!("{error:#}"), "metrics port stopped");
            }
        }))
    }
}

/// The admin port being served; dropping this stops it.
#[must_use = "the admin port stops when this is dropped"]
pub struct Serving(tokio::task::JoinHandle<()>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves `GET /metrics` on `listener` until the future is dropped.
pub async fn serve(listener: TcpListener, metrics: Metrics) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(metrics);
    tracing::info!(%addr, "metrics listening");
    axum::serve(listener, app).await.context("serving metrics")
}

async fn scrape(State(metrics): State<Metrics>) -> Response {
    metrics.response()
}
