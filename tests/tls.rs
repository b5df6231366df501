//! The gateway reaching auth-svc and task-svc over TLS (`https://` upstreams verified against TLS_CA), and task-svc
//! reaching auth-svc the same way: a browser's sign-up and tasks work end to end.

use serde_json::{Value, json};
use tokio::sync::oneshot;
use warden_common::AuthSecret;
use warden_common::settings::UpstreamUrl;
use warden_testkit::{TestDb, tls::TestCert};

fn stopper() -> (
    oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (tx, rx) = oneshot::channel::<()>();
    (tx, async move {
        let _ = rx.await;
    })
}

#[tokio::test]
async fn a_browser_signs_up_and_keeps_tasks_through_a_gateway_that_speaks_tls_to_the_services() {
    let db = TestDb::new().await;
    let cert = TestCert::localhost();
    let tls = || warden_common::tls::server_config_from_pem(&cert.cert_pem, &cert.key_pem).unwrap();
    let secret = || AuthSecret::parse("x".repeat(32).into()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());

    let mut auth = auth_svc::Config::new(db.url.parse().unwrap(), secret());
    auth.listen = "127.0.0.1:0".parse().unwrap();
    auth.db_max_connections = 2;
    auth.base_url = base_url.parse().unwrap();
    auth.rate_limit_enabled = false;
    auth.tls = Some(tls());
    let auth = auth_svc::AuthServer::build(auth).await.unwrap();
    let auth_url = UpstreamUrl::parse(
        "AUTH_URL",
        &format!("https://localhost:{}", auth.local_addr().port()),
    )
    .unwrap();
    let (_auth_stop, auth_stopped) = stopper();
    tokio::spawn(auth.run_until_stopped(auth_stopped));

    let mut tasks = task_svc::Config::new(db.url.parse().unwrap());
    tasks.listen = "127.0.0.1:0".parse().unwrap();
    tasks.db_max_connections = 2;
    tasks.base_url = base_url.parse().unwrap();
    tasks.auth_url = auth_url.clone();
    tasks.tls = Some(tls());
    tasks.tls_ca = Some(cert.ca());
    let tasks = task_svc::TaskServer::build(tasks).await.unwrap();
    let task_url = UpstreamUrl::parse(
        "TASK_URL",
        &format!("https://localhost:{}", tasks.local_addr().port()),
    )
    .unwrap();
    let (_tasks_stop, tasks_stopped) = stopper();
    tokio::spawn(tasks.run_until_stopped(tasks_stopped));

    let config = gateway::Config {
        listen: listener.local_addr().unwrap(),
        auth_url,
        task_url,
        secret: secret(),
        base_url: base_url.parse().unwrap(),
        trusted_origins: Default::default(),
        limits: gateway::config::Limits {
            rate_limit_enabled: false,
            ..Default::default()
        },
        cookies: Default::default(),
        tls_ca: Some(cert.ca()),
        plugins: Default::default(),
    };
    let gateway = gateway::GatewayServer::build_on(config, listener).unwrap();
    let (_gateway_stop, gateway_stopped) = stopper();
    tokio::spawn(gateway.run_until_stopped(gateway_stopped));
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();

    let signed_up = browser
        .post(format!("{base_url}/api/auth/sign-up/email"))
        .header("origin", &base_url)
        .json(&json!({ "name": "Ada", "email": "ada@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    let created = browser
        .post(format!("{base_url}/api/v1/tasks"))
        .header("origin", &base_url)
        .json(&json!({ "title": "Over TLS" }))
        .send()
        .await
        .unwrap();
    let listed = browser
        .get(format!("{base_url}/api/v1/tasks"))
        .send()
        .await
        .unwrap();

    assert_eq!(signed_up.status(), 200);
    assert_eq!(created.status(), 201);
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["tasks"][0]["title"], "Over TLS");
}

#[tokio::test]
async fn a_gateway_that_does_not_trust_the_services_certificate_answers_503_rather_than_hanging() {
    let db = TestDb::new().await;
    let cert = TestCert::localhost();
    let mut auth = auth_svc::Config::new(
        db.url.parse().unwrap(),
        AuthSecret::parse("x".repeat(32).into()).unwrap(),
    );
    auth.listen = "127.0.0.1:0".parse().unwrap();
    auth.db_max_connections = 2;
    auth.rate_limit_enabled = false;
    auth.tls = Some(cert.server_config());
    let auth = auth_svc::AuthServer::build(auth).await.unwrap();
    let auth_url = UpstreamUrl::parse(
        "AUTH_URL",
        &format!("https://localhost:{}", auth.local_addr().port()),
    )
    .unwrap();
    let (_auth_stop, auth_stopped) = stopper();
    tokio::spawn(auth.run_until_stopped(auth_stopped));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let config = gateway::Config {
        listen: listener.local_addr().unwrap(),
        auth_url,
        task_url: UpstreamUrl::http(([127, 0, 0, 1], 1).into()),
        secret: AuthSecret::parse("x".repeat(32).into()).unwrap(),
        base_url: base_url.parse().unwrap(),
        trusted_origins: Default::default(),
        limits: gateway::config::Limits {
            rate_limit_enabled: false,
            ..Default::default()
        },
        cookies: Default::default(),
        // Another authority: auth-svc's certificate is not trusted.
        tls_ca: Some(TestCert::localhost().ca()),
        plugins: Default::default(),
    };
    let gateway = gateway::GatewayServer::build_on(config, listener).unwrap();
    let (_gateway_stop, gateway_stopped) = stopper();
    tokio::spawn(gateway.run_until_stopped(gateway_stopped));

    let response = reqwest::Client::new()
        .post(format!("{base_url}/api/auth/sign-in/email"))
        .header("origin", &base_url)
        .json(&json!({ "email": "ada@example.com", "password": "correct horse battery" }))
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn the_all_in_one_serves_tls_on_its_grpc_ports_and_its_services_reach_each_other_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::localhost();
    let mut settings = warden::Settings::new(dir.path());
    settings.gateway_addr = "127.0.0.1:0".parse().unwrap();
    settings.auth_addr = "127.0.0.1:0".parse().unwrap();
    settings.task_addr = "127.0.0.1:0".parse().unwrap();
    settings.secret = Some("x".repeat(32).into());
    settings.rate_limit_enabled = false;
    settings.tls = Some(cert.server_config());
    settings.tls_ca = Some(cert.ca());
    let warden = warden::Warden::build(settings).await.unwrap();
    let base_url = warden.base_url().to_owned();
    let auth_addr = warden.auth_addr();
    let (_stop, stopped) = stopper();
    tokio::spawn(warden.run_until_stopped(stopped));
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();

    let signed_up = browser
        .post(format!("{base_url}/api/auth/sign-up/email"))
        .header("origin", &base_url)
        .json(&json!({ "name": "Ada", "email": "ada@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    // A task needs task-svc to check the session with auth-svc, over TLS.
    let created = browser
        .post(format!("{base_url}/api/v1/tasks"))
        .header("origin", &base_url)
        .json(&json!({ "title": "Over TLS, in one process" }))
        .send()
        .await
        .unwrap();
    let tls_channel =
        tonic::transport::Endpoint::from_shared(format!("https://localhost:{}", auth_addr.port()))
            .unwrap()
            .tls_config(cert.client_config("localhost"))
            .unwrap()
            .connect()
            .await;
    let plain_health = tonic_health::pb::health_client::HealthClient::new(
        tonic::transport::Endpoint::from_shared(format!("http://{auth_addr}"))
            .unwrap()
            .connect_lazy(),
    )
    .check(tonic_health::pb::HealthCheckRequest::default())
    .await;

    assert_eq!(signed_up.status(), 200);
    assert_eq!(created.status(), 201);
    let health = tonic_health::pb::health_client::HealthClient::new(tls_channel.unwrap())
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap();
    assert_eq!(health.into_inner().status, 1, "SERVING over TLS");
    assert!(plain_health.is_err(), "plaintext is refused");
}
