//! The load tool as its users run it: the real binary against Warden wired as the all-in-one wires it (auth-svc,
//! task-svc and the gateway on one SQLite file, talking gRPC over loopback), and refusing anything off this machine.

use std::{
    net::SocketAddr,
    path::Path,
    process::{Command, Output},
};

use serde_json::Value;
use tokio::{net::TcpListener, sync::oneshot};
use warden_common::AuthSecret;
use warden_common::settings::UpstreamUrl;

/// Warden as the all-in-one runs it, with rate limits off; stops when dropped.
struct Warden {
    gateway: SocketAddr,
    auth: SocketAddr,
    task: SocketAddr,
    _stop: Vec<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Warden {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("warden.db").display()
        );
        let secret = AuthSecret::parse("bench-test-secret-".repeat(2).into()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway = listener.local_addr().unwrap();
        let base_url = format!("http://{gateway}");
        let mut stop = Vec::new();

        let mut auth = auth_svc::Config::new(database_url.parse().unwrap(), secret.clone());
        auth.listen = "127.0.0.1:0".parse().unwrap();
        auth.base_url = base_url.parse().unwrap();
        auth.migrate = true;
        auth.rate_limit_enabled = false;
        // grpc-list-tasks-api-key calls far more than a key's default 10 a day.
        auth.api_key.rate_limit_enabled = false;
        let auth = auth_svc::AuthServer::build(auth).await.unwrap();
        let auth_addr = auth.local_addr();
        tokio::spawn(auth.run_until_stopped(stopper(&mut stop)));

        let mut task = task_svc::Config::new(database_url.parse().unwrap());
        task.listen = "127.0.0.1:0".parse().unwrap();
        task.auth_url = UpstreamUrl::http(auth_addr);
        task.base_url = base_url.parse().unwrap();
        let task = task_svc::TaskServer::build(task).await.unwrap();
        let task_addr = task.local_addr();
        tokio::spawn(task.run_until_stopped(stopper(&mut stop)));

        let config = gateway::Config {
            listen: gateway,
            auth_url: UpstreamUrl::http(auth_addr),
            task_url: UpstreamUrl::http(task_addr),
            secret,
            base_url: base_url.parse().unwrap(),
            trusted_origins: Default::default(),
            limits: gateway::config::Limits {
                rate_limit_enabled: false,
                ..Default::default()
            },
            cookies: Default::default(),
            tls_ca: None,
            plugins: Default::default(),
        };
        let server = gateway::GatewayServer::build_on(config, listener).unwrap();
        tokio::spawn(server.run_until_stopped(stopper(&mut stop)));
        Self {
            gateway,
            auth: auth_addr,
            task: task_addr,
            _stop: stop,
            _dir: dir,
        }
    }
}

fn stopper(senders: &mut Vec<oneshot::Sender<()>>) -> impl Future<Output = ()> + Send + 'static {
    let (tx, rx) = oneshot::channel::<()>();
    senders.push(tx);
    async move {
        let _ = rx.await;
    }
}

/// Runs the tool with `args` on a blocking thread, so the servers in this test's runtime keep serving meanwhile.
async fn bench(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_bench"))
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_against_warden_has_throughput_and_no_errors() {
    let warden = Warden::start().await;
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("all.json");

    let output = bench(vec![
        "all".into(),
        "--duration".into(),
        "1s".into(),
        "--warmup".into(),
        "0s".into(),
        "--connections".into(),
        "2".into(),
        "--url".into(),
        format!("http://{}", warden.gateway),
        "--grpc-auth".into(),
        warden.auth.to_string(),
        "--grpc-task".into(),
        warden.task.to_string(),
        "--pid".into(),
        std::process::id().to_string(),
        "--json".into(),
        json.display().to_string(),
    ])
    .await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let report = read_json(&json);
    assert_eq!(report["failures"], serde_json::json!([]), "{stderr}");
    let rows = report["scenarios"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|row| row["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ceiling-axum-redis",
            "get-session",
            "list-tasks",
            "create-task",
            "sign-in",
            "sign-up",
            "get-session-during-sign-in",
            "sign-in-during-get-session",
            "ceiling-tonic-echo",
            "grpc-get-session",
            "grpc-list-tasks",
            "grpc-list-tasks-api-key",
            "grpc-create-task",
        ]
    );
    for row in rows {
        let name = row["scenario"].as_str().unwrap();
        assert!(
            row["requests_per_second"].as_f64().unwrap() > 0.0,
            "{name}: {row}"
        );
        assert!(row["requests"].as_u64().unwrap() > 0, "{name}: {row}");
        assert_eq!(row["errors"], 0, "{name}: {row}");
        assert!(row["latency_ms"]["p99"].as_f64().unwrap() > 0.0, "{name}");
        if !name.starts_with("ceiling-") {
            assert!(
                row["ratio_to_ceiling"].as_f64().unwrap() > 0.0,
                "{name} is compared with its ceiling: {row}"
            );
            assert!(
                row["peak_rss_mib"][std::process::id().to_string()]
                    .as_f64()
                    .unwrap()
                    > 0.0,
                "{name} sampled the memory of the given process: {row}"
            );
        }
    }
    let sign_in = &rows[4];
    assert!(sign_in["hashing_limit"]["per_second"].as_f64().unwrap() > 0.0);
    assert!(sign_in["ratio_to_hashing_limit"].as_f64().unwrap() > 0.0);
    for header in ["req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors"] {
        assert!(stdout.contains(header), "the table has {header}: {stdout}");
    }
}

#[tokio::test]
async fn a_target_off_this_machine_is_refused_before_anything_is_sent() {
    for (flag, value) in [
        ("--url", "http://192.0.2.10:8080"),
        ("--url", "http://example.com"),
        ("--grpc-auth", "10.0.0.5:50051"),
        ("--grpc-task", "http://203.0.113.7:50052"),
        ("--redis", "redis://cache.example.com:6379"),
    ] {
        let output = bench(vec![
            "get-session".into(),
            "--duration".into(),
            "1s".into(),
            flag.into(),
            value.into(),
        ])
        .await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains("not on loopback"),
            "{flag} {value}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "nothing was measured");
    }
}

#[tokio::test]
async fn a_duration_past_the_cap_is_refused() {
    let output = bench(vec![
        "get-session".into(),
        "--duration".into(),
        "10m".into(),
    ])
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("300s"));
}
