//! `gateway healthcheck`, the binary a container healthcheck runs: `GET /api/auth/ok` on its own address.

use std::{net::SocketAddr, process::Output};

use gateway::{GatewayServer, config::Config};
use tokio::sync::oneshot;
use warden_common::AuthSecret;
use warden_common::settings::UpstreamUrl;

/// A gateway on `listen`, its services unreachable (the probe does not need them).
async fn spawn_gateway(listen: &str) -> (SocketAddr, oneshot::Sender<()>) {
    let config = Config {
        listen: listen.parse().unwrap(),
        auth_url: UpstreamUrl::parse("AUTH_URL", "http://127.0.0.1:1").unwrap(),
        task_url: UpstreamUrl::parse("TASK_URL", "http://127.0.0.1:1").unwrap(),
        secret: AuthSecret::parse("x".repeat(32).into()).unwrap(),
        base_url: "http://127.0.0.1:8080".parse().unwrap(),
        trusted_origins: Default::default(),
        limits: Default::default(),
        cookies: Default::default(),
        tls_ca: None,
        plugins: Default::default(),
    };
    let server = GatewayServer::build(config).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run_until_stopped(async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Runs `gateway healthcheck` with only GATEWAY_ADDR set, off the test's runtime so the server keeps answering.
async fn healthcheck(addr: String) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
            .arg("healthcheck")
            .env_clear()
            .env("GATEWAY_ADDR", addr)
            .output()
            .expect("gateway runs")
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn healthcheck_exits_zero_while_the_gateway_serves() {
    let (addr, _stop) = spawn_gateway("127.0.0.1:0").await;

    let output = healthcheck(addr.to_string()).await;

    assert!(output.status.success(), "{output:?}");
}

#[tokio::test]
async fn healthcheck_of_a_gateway_listening_on_every_address_asks_loopback() {
    let (addr, _stop) = spawn_gateway("0.0.0.0:0").await;
    assert!(addr.ip().is_unspecified());

    let output = healthcheck(addr.to_string()).await;

    assert!(output.status.success(), "{output:?}");
}

#[tokio::test]
async fn healthcheck_exits_one_on_a_closed_port() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);

    let output = healthcheck(addr.to_string()).await;

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: gateway is not healthy"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
