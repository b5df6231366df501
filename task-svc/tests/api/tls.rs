//! task-svc and auth-svc with TLS on their ports, task-svc reaching auth-svc over `https://` with TLS_CA.

use std::{net::SocketAddr, time::Duration};

use tokio::sync::oneshot;
use tonic::transport::{Channel, Endpoint};
use warden_proto::{
    auth::v1::{self as auth_pb, auth_service_client::AuthServiceClient},
    task::v1::{self as pb, task_service_client::TaskServiceClient},
};
use warden_testkit::{TestDb, tls::TestCert};

use crate::{
    healthcheck::run_task_svc,
    helpers::{BASE_URL, PASSWORD, bearer, secret},
};

struct TlsApp {
    task_addr: SocketAddr,
    auth: AuthServiceClient<Channel>,
    tasks: TaskServiceClient<Channel>,
    cert: TestCert,
    _stop: (oneshot::Sender<()>, oneshot::Sender<()>),
    _database: TestDb,
}

async fn tls_channel(addr: SocketAddr, cert: &TestCert) -> Channel {
    Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(cert.client_config("localhost"))
        .unwrap()
        .connect_timeout(Duration::from_secs(3))
        .connect()
        .await
        .expect("TLS handshake succeeds")
}

/// Both services on one database, each serving TLS with the same self-signed certificate, task-svc trusting it.
async fn spawn_tls() -> TlsApp {
    let database = TestDb::new().await;
    let cert = TestCert::localhost();
    let tls = || warden_common::tls::server_config_from_pem(&cert.cert_pem, &cert.key_pem).unwrap();

    let mut auth = auth_svc::Config::new(database.url.parse().unwrap(), secret());
    auth.listen = "127.0.0.1:0".parse().unwrap();
    auth.db_max_connections = 2;
    auth.base_url = BASE_URL.parse().unwrap();
    auth.rate_limit_enabled = false;
    auth.tls = Some(tls());
    let auth_server = auth_svc::AuthServer::build(auth).await.unwrap();
    let auth_addr = auth_server.local_addr();
    let (stop_auth, auth_stopped) = oneshot::channel::<()>();
    tokio::spawn(auth_server.run_until_stopped(async {
        let _ = auth_stopped.await;
    }));

    let mut task = task_svc::Config::new(database.url.parse().unwrap());
    task.listen = "127.0.0.1:0".parse().unwrap();
    task.db_max_connections = 2;
    task.base_url = BASE_URL.parse().unwrap();
    task.auth_url = warden_common::settings::UpstreamUrl::parse(
        "AUTH_URL",
        &format!("https://localhost:{}", auth_addr.port()),
    )
    .unwrap();
    task.tls = Some(tls());
    task.tls_ca = Some(cert.ca());
    let task_server = task_svc::TaskServer::build(task).await.unwrap();
    let task_addr = task_server.local_addr();
    let (stop_task, task_stopped) = oneshot::channel::<()>();
    tokio::spawn(task_server.run_until_stopped(async {
        let _ = task_stopped.await;
    }));

    TlsApp {
        task_addr,
        auth: AuthServiceClient::new(tls_channel(auth_addr, &cert).await),
        tasks: TaskServiceClient::new(tls_channel(task_addr, &cert).await),
        cert,
        _stop: (stop_auth, stop_task),
        _database: database,
    }
}

#[tokio::test]
async fn task_svc_verifies_callers_through_auth_svc_over_tls() {
    let app = spawn_tls().await;
    let signed_up = app
        .auth
        .clone()
        .sign_up_email(auth_pb::SignUpEmailRequest {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let session_token = signed_up.token.unwrap();
    let jwt = app
        .auth
        .clone()
        .get_session(bearer(
            auth_pb::GetSessionRequest::default(),
            &session_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .jwt;
    let create = |title: &str| pb::CreateTaskRequest {
        task: Some(pb::Task {
            title: title.into(),
            ..Default::default()
        }),
    };

    // A session token is resolved by GetSession, a JWT against the JWKS: both calls go to auth-svc over TLS.
    let by_session = app
        .tasks
        .clone()
        .create_task(bearer(create("By session"), &session_token))
        .await;
    let by_jwt = app
        .tasks
        .clone()
        .create_task(bearer(create("By JWT"), &jwt))
        .await;

    assert_eq!(by_session.unwrap().into_inner().title, "By session");
    assert_eq!(by_jwt.unwrap().into_inner().title, "By JWT");
}

#[tokio::test]
async fn a_plaintext_client_is_refused_and_the_healthcheck_speaks_tls() {
    let app = spawn_tls().await;
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = app.cert.write_to(dir.path());

    let plaintext = async {
        let channel = Endpoint::from_shared(format!("http://{}", app.task_addr))?
            .timeout(Duration::from_secs(3))
            .connect()
            .await?;
        let request = pb::ListTasksRequest::default();
        Ok::<_, Box<dyn std::error::Error>>(
            TaskServiceClient::new(channel).list_tasks(request).await?,
        )
    }
    .await;
    let addr = ("TASK_ADDR", app.task_addr.to_string());
    let over_tls = run_task_svc(
        &["healthcheck"],
        &[
            addr.clone(),
            ("TLS_CA", cert.display().to_string()),
            ("TLS_CERT", cert.display().to_string()),
        ],
    )
    .await;
    let in_plaintext = run_task_svc(&["healthcheck"], &[addr]).await;

    assert!(plaintext.is_err(), "{plaintext:?}");
    assert!(over_tls.status.success(), "{over_tls:?}");
    assert!(!in_plaintext.status.success(), "{in_plaintext:?}");
}
