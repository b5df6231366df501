//! The admin port of a gRPC service: `GET /metrics` on an address of its own (`METRICS_ADDR`).

use std::net::SocketAddr;

use anyhow::Context;
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use tokio::net::TcpListener;

use super::Metrics;

/// `METRICS_ADDR`: the admin port's address, or `off` (or nothing) for none.
pub fn parse_listen(value: &str) -> anyhow::Result<Option<SocketAddr>> {
    let value = value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        anyhow::anyhow!("METRICS_ADDR `{value}` is not an address such as 127.0.0.1:9101, or `off`")
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_address_is_an_address_or_off() {
        assert_eq!(
            parse_listen(" 127.0.0.1:9101 ").unwrap(),
            Some(SocketAddr::from(([127, 0, 0, 1], 9101)))
        );
        assert_eq!(parse_listen("off").unwrap(), None);
        assert_eq!(parse_listen("").unwrap(), None);
        let error = parse_listen("metrics").unwrap_err();
        assert!(error.to_string().starts_with("METRICS_ADDR"), "{error}");
    }
}
