//! LOG_FORMAT and LOG_LEVEL, as every binary reads them (here task-svc's, on SQLite).

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::Value;

use crate::healthcheck::run_task_svc;

/// task-svc on a fresh SQLite file and a free port, logging as `env` says.
fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_task-svc"))
        .arg("--migrate")
        .env_clear()
        .env("DATABASE_URL", warden_testkit::sqlite_url(dir))
        .env("TASK_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "off")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("task-svc starts")
}

/// Waits for the "listening" line on stdout, then stops the server with SIGTERM and returns its stderr.
fn serve_then_stop(mut child: Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    assert!(first.contains("listening on"), "stdout: {first}");
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stderr).unwrap()
}

async fn logs_of(env: &'static [(&'static str, &'static str)]) -> String {
    tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir().unwrap();
            serve_then_stop(start(dir.path(), env))
        }),
    )
    .await
    .expect("task-svc starts and stops within a minute")
    .unwrap()
}

#[tokio::test]
async fn log_format_json_writes_one_json_object_per_line() {
    let stderr = logs_of(&[("LOG_FORMAT", "json")]).await;

    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let listening = lines
        .iter()
        .find(|line| line["message"] == "listening")
        .unwrap_or_else(|| panic!("no listening event in {stderr}"));
    assert_eq!(listening["level"], "INFO");
    assert_eq!(listening["tls"], false);
    assert!(listening["timestamp"].is_string());
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "shutdown signal received, draining")
    );
}

#[tokio::test]
async fn logs_are_text_at_info_by_default_and_log_level_overrides_rust_log() {
    let text = logs_of(&[]).await;
    let quiet = logs_of(&[("LOG_LEVEL", "warn"), ("RUST_LOG", "debug")]).await;

    assert!(text.contains(" INFO "), "{text}");
    assert!(text.contains("listening"), "{text}");
    assert!(serde_json::from_str::<Value>(text.lines().next().unwrap()).is_err());
    assert!(
        !quiet.contains("INFO") && !quiet.contains("DEBUG"),
        "{quiet}"
    );
}

#[tokio::test]
async fn a_bad_log_format_or_level_stops_the_start_naming_the_variable() {
    let format = run_task_svc(&["healthcheck"], &[("LOG_FORMAT", "xml".into())]).await;
    let level = run_task_svc(&["healthcheck"], &[("LOG_LEVEL", "loud".into())]).await;

    for (output, variable) in [(format, "LOG_FORMAT"), (level, "LOG_LEVEL")] {
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("error: {variable}: ")),
            "{stderr}"
        );
    }
}
