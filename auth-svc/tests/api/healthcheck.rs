//! `auth-svc healthcheck`, the binary a container healthcheck runs, against a serving auth-svc and a closed port.

use std::{net::SocketAddr, process::Output};

use crate::helpers::TestApp;

/// Runs `auth-svc healthcheck` with only `env` set, off the test's runtime so the server keeps answering.
pub async fn healthcheck(env: &[(&str, String)]) -> Output {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_auth-svc"))
            .arg("healthcheck")
            .env_clear()
            .envs(env)
            .output()
            .expect("auth-svc runs")
    })
    .await
    .unwrap()
}

pub async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn healthcheck_exits_zero_while_auth_svc_serves_and_one_on_a_closed_port() {
    let app = TestApp::spawn().await;

    let serving = healthcheck(&[("AUTH_ADDR", app.addr.to_string())]).await;
    let closed = healthcheck(&[("AUTH_ADDR", closed_port().await.to_string())]).await;

    assert!(serving.status.success(), "{serving:?}");
    assert_eq!(closed.status.code(), Some(1), "{closed:?}");
    let stderr = String::from_utf8_lossy(&closed.stderr);
    assert!(
        stderr.starts_with("error: auth-svc is not healthy"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn healthcheck_of_an_auth_svc_listening_on_every_address_asks_loopback() {
    let app = TestApp::spawn_with(|config| config.listen = "0.0.0.0:0".parse().unwrap()).await;
    assert!(app.addr.ip().is_unspecified());

    let output = healthcheck(&[("AUTH_ADDR", app.addr.to_string())]).await;

    assert!(output.status.success(), "{output:?}");
}
