//! The ceiling servers as a run starts them: the real binary as `bench serve-ceiling <kind>`, in a process of its own,
//! against the real Redis on loopback.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use redis::AsyncCommands;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const REDIS: &str = "redis://127.0.0.1:6379";

fn serve_ceiling(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("serve-ceiling")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The address the child announces on its first line of stdout.
fn announced(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("not an announcement: {line:?}"))
        .to_owned()
}

/// Polls without blocking the runtime, whose tasks may be what the child waits for (a connection to close).
async fn exits_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "still running after {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_axum_ceiling_answers_from_redis_and_leaves_nothing_behind_when_its_stdin_closes() {
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let key = format!("warden-bench:{run_id}:ceiling");
    let mut child = serve_ceiling(&["axum-redis", "--redis", REDIS, "--run-id", &run_id]);
    let addr = announced(&mut child);

    let mut redis = redis::Client::open(REDIS)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let stored: Option<String> = redis.get(&key).await.unwrap();
    let stored = stored.expect("the ceiling keeps its answer in Redis");

    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(
            b"GET /api/auth/get-session HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.ends_with(&stored),
        "the body is what Redis holds: {response}"
    );

    drop(child.stdin.take());
    let status = exits_within(&mut child, Duration::from_secs(10)).await;
    assert!(status.success(), "{status}");
    let left: bool = redis.exists(&key).await.unwrap();
    assert!(!left, "the ceiling's key is deleted when it stops");
}

#[tokio::test]
async fn the_tonic_ceiling_echoes_and_stops_when_its_stdin_closes() {
    let mut child = serve_ceiling(&["tonic-echo"]);
    let addr = announced(&mut child);
    let mut client = bench::echo::echo_client::EchoClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let reply = client
        .echo(bench::echo::EchoRequest {
            payload: "ping".into(),
        })
        .await
        .unwrap();
    assert_eq!(reply.get_ref().payload, "ping");

    // A run closes its connections before it stops the ceiling; an open one would hold a graceful stop.
    drop(client);
    drop(child.stdin.take());
    assert!(
        exits_within(&mut child, Duration::from_secs(10))
            .await
            .success()
    );
}

#[tokio::test]
async fn a_ceiling_refuses_a_redis_off_this_machine() {
    let mut child = serve_ceiling(&["axum-redis", "--redis", "redis://192.0.2.1:6379"]);
    let status = exits_within(&mut child, Duration::from_secs(10)).await;
    assert!(!status.success());
    let mut stdout = String::new();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(stdout, "", "it never listened");
    assert!(stderr.contains("loopback"), "{stderr}");
}
