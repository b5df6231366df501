//! `task-svc healthcheck`, the binary a container healthcheck runs, against a serving task-svc and a closed port.

use std::process::Output;

use crate::helpers::TestApp;

/// Runs `task-svc` with `args` and only `env` set, off the test's runtime so the servers keep answering.
pub async fn run_task_svc(args: &[&str], env: &[(&str, String)]) -> Output {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_task-svc"))
            .args(args)
            .env_clear()
            .envs(env)
            .output()
            .expect("task-svc runs")
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn healthcheck_exits_zero_while_task_svc_serves_and_one_on_a_closed_port() {
    let app = TestApp::spawn().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);

    let serving = run_task_svc(
        &["healthcheck"],
        &[("TASK_ADDR", app.task_addr.to_string())],
    )
    .await;
    let refused = run_task_svc(&["healthcheck"], &[("TASK_ADDR", closed_addr.to_string())]).await;

    assert!(serving.status.success(), "{serving:?}");
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("task-svc is not healthy"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn a_bad_task_addr_fails_the_healthcheck_naming_the_variable() {
    let output = run_task_svc(&["healthcheck"], &[("TASK_ADDR", "nowhere".into())]).await;

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("TASK_ADDR"));
}
