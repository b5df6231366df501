use tonic::Code;
use warden_testkit::metrics::Scrape;

use crate::helpers::TestApp;

const TASKS: &str = "warden.task.v1.TaskService";

async fn spawn() -> TestApp {
    TestApp::spawn_with(|settings| {
        settings.task.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await
}

async fn scrape(app: &TestApp) -> Scrape {
    let addr = app.metrics_addr.expect("a metrics port");
    Scrape::get(&format!("http://{addr}/metrics")).await
}

fn handled(scrape: &Scrape, method: &str, code: &str) -> f64 {
    scrape.sum(
        "grpc_server_handled_total",
        &[("service", TASKS), ("method", method), ("code", code)],
    )
}

#[tokio::test]
async fn calls_are_counted_with_their_code_refusals_included() {
    let app = spawn().await;
    let user = app.sign_up("rae@example.com").await;

    for title in ["one", "two"] {
        app.create(&user.jwt, title).await.unwrap();
    }
    let listed = app.list(&user.session_token, Default::default()).await;
    assert_eq!(listed.unwrap().tasks.len(), 2);
    let missing = app.get(&user.jwt, &uuid::Uuid::now_v7().to_string()).await;
    assert_eq!(missing.unwrap_err().code(), Code::NotFound);
    let forged = app.create("not-a-session", "three").await;
    assert_eq!(forged.unwrap_err().code(), Code::Unauthenticated);

    let scrape = scrape(&app).await;
    assert_eq!(
        handled(&scrape, "CreateTask", "OK"),
        2.0,
        "{}",
        scrape.text()
    );
    assert_eq!(handled(&scrape, "CreateTask", "Unauthenticated"), 1.0);
    assert_eq!(handled(&scrape, "ListTasks", "OK"), 1.0);
    assert_eq!(handled(&scrape, "GetTask", "NotFound"), 1.0);
    let timed = &[("service", TASKS), ("method", "CreateTask")];
    assert_eq!(scrape.sum("grpc_server_handling_seconds_count", timed), 3.0);
    for secret in [
        user.jwt.as_str(),
        user.session_token.as_str(),
        "rae@example.com",
        user.id.as_str(),
    ] {
        assert!(!scrape.text().contains(secret), "{secret} leaked");
    }
}

#[tokio::test]
async fn what_authentication_costs_auth_svc_is_exported() {
    let app = spawn().await;
    let user = app.sign_up("sam@example.com").await;

    app.create(&user.jwt, "by jwt").await.unwrap();
    app.create(&user.session_token, "by session").await.unwrap();
    app.create(&user.session_token, "by session again")
        .await
        .unwrap();

    let scrape = scrape(&app).await;
    assert_eq!(
        scrape.sum("warden_task_session_lookups_total", &[]),
        2.0,
        "{}",
        scrape.text()
    );
    let fetches = scrape.sum("warden_task_jwks_fetches_total", &[]);
    assert!(fetches >= 1.0);
    assert_eq!(fetches, app.metrics.jwks_fetches() as f64);
    let pool = &[("pool", "task-svc")];
    assert_eq!(scrape.sum("warden_db_pool_max_connections", pool), 2.0);
    assert!(scrape.sum("warden_db_pool_connections", pool) >= 1.0);
}
