//! auth-svc with TLS_CERT and TLS_KEY: TLS only on its port, verified by clients that trust the certificate.

use std::{net::SocketAddr, time::Duration};

use auth_svc::{AuthServer, Config};
use tokio::sync::oneshot;
use tonic::{Code, transport::Endpoint};
use warden_proto::auth::v1::{self as pb, auth_service_client::AuthServiceClient};
use warden_testkit::{TestDb, tls::TestCert};

use crate::{
    healthcheck::healthcheck,
    helpers::{PASSWORD, secret},
};

struct TlsApp {
    addr: SocketAddr,
    cert: TestCert,
    _stop: oneshot::Sender<()>,
    _database: TestDb,
}

/// auth-svc on a fresh database, serving TLS with a self-signed certificate for `localhost`.
async fn spawn_tls(adjust: impl FnOnce(&mut Config)) -> TlsApp {
    let database = TestDb::new().await;
    let cert = TestCert::localhost();
    let mut config = Config::new(database.url.parse().unwrap(), secret());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.db_max_connections = 2;
    config.rate_limit_enabled = false;
    config.tls =
        Some(warden_common::tls::server_config_from_pem(&cert.cert_pem, &cert.key_pem).unwrap());
    adjust(&mut config);
    let server = AuthServer::build(config).await.expect("auth-svc builds");
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TlsApp {
        addr,
        cert,
        _stop: stop,
        _database: database,
    }
}

/// A client over TLS that trusts `cert` for `localhost`.
async fn tls_client(
    addr: SocketAddr,
    cert: &TestCert,
) -> Result<AuthServiceClient<tonic::transport::Channel>, tonic::transport::Error> {
    let channel = Endpoint::from_shared(format!("https://{addr}"))?
        .tls_config(cert.client_config("localhost"))?
        .connect_timeout(Duration::from_secs(3))
        .connect()
        .await?;
    Ok(AuthServiceClient::new(channel))
}

#[tokio::test]
async fn a_call_over_tls_succeeds_and_a_plaintext_client_is_refused() {
    let app = spawn_tls(|_| {}).await;

    let mut client = tls_client(app.addr, &app.cert)
        .await
        .expect("TLS handshake succeeds");
    let keys = client.get_jwks(pb::GetJwksRequest {}).await;
    let plaintext = async {
        let channel = Endpoint::from_shared(format!("http://{}", app.addr))?
            .timeout(Duration::from_secs(3))
            .connect()
            .await?;
        Ok::<_, Box<dyn std::error::Error>>(
            AuthServiceClient::new(channel)
                .get_jwks(pb::GetJwksRequest {})
                .await?,
        )
    }
    .await;

    assert!(!keys.unwrap().into_inner().keys.is_empty());
    assert!(plaintext.is_err(), "plaintext call answered: {plaintext:?}");
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_cannot_connect() {
    let app = spawn_tls(|_| {}).await;
    let stranger = TestCert::localhost();

    let untrusting = tls_client(app.addr, &stranger).await;
    let wrong_name = async {
        let channel = Endpoint::from_shared(format!("https://{}", app.addr))?
            .tls_config(app.cert.client_config("auth.example.com"))?
            .connect()
            .await?;
        Ok::<_, tonic::transport::Error>(channel)
    }
    .await;

    assert!(untrusting.is_err());
    assert!(wrong_name.is_err());
}

#[tokio::test]
async fn rate_limits_still_see_the_peer_address_over_tls() {
    let app = spawn_tls(|config| {
        config.rate_limit_enabled = true;
        config.trusted_proxies = Default::default();
    })
    .await;
    let mut client = tls_client(app.addr, &app.cert).await.unwrap();
    let sign_in = pb::SignInEmailRequest {
        email: "nobody@example.com".into(),
        password: PASSWORD.into(),
        ..Default::default()
    };

    let mut codes = Vec::new();
    for _ in 0..4 {
        let result = client.sign_in_email(sign_in.clone()).await;
        codes.push(result.err().map(|status| status.code()));
    }

    assert_eq!(
        codes,
        [
            Some(Code::Unauthenticated),
            Some(Code::Unauthenticated),
            Some(Code::Unauthenticated),
            Some(Code::ResourceExhausted)
        ]
    );
}

#[tokio::test]
async fn the_healthcheck_speaks_tls_when_tls_cert_is_set() {
    let app = spawn_tls(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = app.cert.write_to(dir.path());

    let over_tls = healthcheck(&[
        ("AUTH_ADDR", app.addr.to_string()),
        ("TLS_CERT", cert.display().to_string()),
    ])
    .await;
    let in_plaintext = healthcheck(&[("AUTH_ADDR", app.addr.to_string())]).await;

    assert!(over_tls.status.success(), "{over_tls:?}");
    assert!(!in_plaintext.status.success(), "{in_plaintext:?}");
}

#[tokio::test]
async fn a_certificate_without_its_key_stops_the_start_naming_tls_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = TestCert::localhost().write_to(dir.path());

    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_auth-svc"))
            .env_clear()
            .env("DATABASE_URL", "sqlite::memory:")
            .env("AUTH_SECRET", "x".repeat(32))
            .env("TLS_CERT", cert)
            .output()
            .unwrap()
    })
    .await
    .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TLS_KEY"), "{stderr}");
}
