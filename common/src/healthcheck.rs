//! The `healthcheck` subcommands: a binary asks the server that the same settings would start whether it is up, so
//! a container healthcheck needs no tool besides the binary itself.
//!
//! The gRPC services are asked `grpc.health.v1.Health/Check` for the whole server (healthy only on `SERVING`, which
//! turns to `NOT_SERVING` as soon as a drain begins); the gateway is sent `GET /api/auth/ok` over plain HTTP/1.1
//! (healthy only on 200). Every probe gives up after [`TIMEOUT`].

use std::{net::SocketAddr, path::Path, time::Duration};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::tls::TlsError;

/// The longest a probe waits, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// The name a TLS healthcheck expects in the service's certificate unless told otherwise.
pub const DEFAULT_TLS_NAME: &str = "localhost";

/// Why a server is not healthy.
#[derive(Debug, thiserror::Error)]
pub enum Unhealthy {
    #[error("no answer from {0} within {TIMEOUT:?}")]
    Timeout(SocketAddr),
    #[error("cannot reach {addr}: {reason}")]
    Unreachable { addr: SocketAddr, reason: String },
    #[error("{addr} reports {status}")]
    NotServing { addr: SocketAddr, status: String },
}

/// Where to find a server listening on `listen`: an unspecified address (`0.0.0.0`, `::`) means this host, so its
/// loopback address of the same family.
pub fn local_target(listen: SocketAddr) -> SocketAddr {
    let mut target = listen;
    if listen.ip().is_unspecified() {
        target.set_ip(match listen {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    target
}

/// The TLS a gRPC service's healthcheck uses to reach itself: none when the service has no certificate
/// (`TLS_CERT`); otherwise the certificate is verified for `name` against `TLS_CA`, or, without it, against the
/// certificate itself (which works for a self-signed one).
pub fn self_tls(
    cert: Option<&Path>,
    ca: Option<&Path>,
    name: &str,
) -> Result<Option<ClientTlsConfig>, TlsError> {
    let Some(cert) = cert.filter(|path| !path.as_os_str().is_empty()) else {
        return Ok(None);
    };
    let roots: Certificate = match crate::tls::read_ca(ca)? {
        Some(ca) => ca,
        None => crate::tls::read_ca(Some(cert))
            .map_err(|error| TlsError {
                variable: "TLS_CERT",
                reason: error.reason,
            })?
            .expect("a path was given"),
    };
    Ok(Some(
        ClientTlsConfig::new()
            .ca_certificate(roots)
            .domain_name(name),
    ))
}

/// A gRPC service's `healthcheck` subcommand: its own server at `listen`, over TLS when it has a certificate
/// (see [`self_tls`]); `Ok` only on `SERVING`.
pub async fn grpc_service(
    service: &str,
    listen: SocketAddr,
    cert: Option<&Path>,
    ca: Option<&Path>,
    tls_name: &str,
) -> anyhow::Result<()> {
    let tls = self_tls(cert, ca, tls_name)?;
    use anyhow::Context;
    grpc(listen, tls)
        .await
        .with_context(|| format!("{service} is not healthy"))
}

/// Asks the gRPC server listening on `listen` for its overall health; `Ok` only on `SERVING`.
pub async fn grpc(listen: SocketAddr, tls: Option<ClientTlsConfig>) -> Result<(), Unhealthy> {
    let addr = local_target(listen);
    let unreachable = |reason: String| Unhealthy::Unreachable { addr, reason };
    let probe = async {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{addr}"))
            .map_err(|error| unreachable(error.to_string()))?
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT);
        if let Some(tls) = tls {
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|error| unreachable(error.to_string()))?;
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|error| unreachable(error_chain(&error)))?;
        let response = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map_err(|status| unreachable(format!("{:?}: {}", status.code(), status.message())))?;
        match response.into_inner().status() {
            ServingStatus::Serving => Ok(()),
            other => Err(Unhealthy::NotServing {
                addr,
                status: other.as_str_name().to_owned(),
            }),
        }
    };
    tokio::time::timeout(TIMEOUT, probe)
        .await
        .unwrap_or(Err(Unhealthy::Timeout(addr)))
}

/// Sends `GET path` over HTTP/1.1 to the server listening on `listen`; `Ok` only on a 200.
pub async fn http(listen: SocketAddr, path: &str) -> Result<(), Unhealthy> {
    let addr = local_target(listen);
    let unreachable = |reason: String| Unhealthy::Unreachable { addr, reason };
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|error| unreachable(error.to_string()))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: warden-healthcheck\r\nAccept: */*\r\n\
             Connection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|error| unreachable(error.to_string()))?;
        let status_line = read_status_line(&mut stream)
            .await
            .map_err(|error| unreachable(error.to_string()))?;
        // "HTTP/1.1 200 OK"
        let status = status_line.split_whitespace().nth(1).unwrap_or_default();
        if status_line.starts_with("HTTP/1.") && status == "200" {
            Ok(())
        } else {
            Err(Unhealthy::NotServing {
                addr,
                status: format!("`{status_line}` to GET {path}"),
            })
        }
    };
    tokio::time::timeout(TIMEOUT, probe)
        .await
        .unwrap_or(Err(Unhealthy::Timeout(addr)))
}

/// The response's first line, without its line ending (at most 1 KiB is read).
async fn read_status_line(stream: &mut tokio::net::TcpStream) -> std::io::Result<String> {
    let mut buffer = Vec::with_capacity(128);
    let mut chunk = [0u8; 256];
    loop {
        if let Some(end) = buffer.windows(2).position(|pair| pair == b"\r\n") {
            return Ok(String::from_utf8_lossy(&buffer[..end]).into_owned());
        }
        if buffer.len() > 1024 {
            return Err(std::io::Error::other("no status line in the first 1 KiB"));
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed before a status line",
            ));
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// An error and its sources on one line (tonic's transport errors hide the useful part in their sources).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_listen_address_is_probed_on_loopback() {
        let target = |listen: &str| local_target(listen.parse().unwrap()).to_string();
        assert_eq!(target("0.0.0.0:50051"), "127.0.0.1:50051");
        assert_eq!(target("[::]:50052"), "[::1]:50052");
        assert_eq!(target("10.1.2.3:8080"), "10.1.2.3:8080");
    }

    #[test]
    fn a_service_without_a_certificate_is_probed_in_plain_text() {
        assert!(self_tls(None, None, DEFAULT_TLS_NAME).unwrap().is_none());
    }

    #[tokio::test]
    async fn a_closed_port_is_unhealthy_for_both_probes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        assert!(matches!(
            grpc(addr, None).await,
            Err(Unhealthy::Unreachable { .. })
        ));
        assert!(matches!(
            http(addr, "/api/auth/ok").await,
            Err(Unhealthy::Unreachable { .. })
        ));
    }

    /// A server that answers every connection with `response` and closes it.
    async fn answering(response: &'static str) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request).await;
                let _ = stream.write_all(response.as_bytes()).await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn the_http_probe_is_healthy_only_on_a_200() {
        let ok = answering("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
        http(ok, "/api/auth/ok").await.unwrap();
        let unavailable = answering("HTTP/1.1 503 Service Unavailable\r\n\r\n").await;
        let error = http(unavailable, "/api/auth/ok").await.unwrap_err();
        assert!(error.to_string().contains("503"), "{error}");
        let garbage = answering("SSH-2.0-OpenSSH_9.2\r\n").await;
        assert!(http(garbage, "/api/auth/ok").await.is_err());
    }

    #[tokio::test]
    async fn a_server_that_never_answers_is_unhealthy_within_the_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let started = std::time::Instant::now();
        let result = http(addr, "/api/auth/ok").await;
        assert!(matches!(result, Err(Unhealthy::Timeout(_))), "{result:?}");
        assert!(started.elapsed() < TIMEOUT + Duration::from_secs(1));
        drop(listener);
    }
}
