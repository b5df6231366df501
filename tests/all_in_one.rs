//! `cargo run` as a new user meets it: the real binary, its printed URL, and a clean stop on Ctrl-C.

use std::{
    io::{BufRead, BufReader, Read, Write},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The answer to `GET /api/auth/ok` on the gateway at `port`, whole.
fn get_ok(port: u16) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /api/auth/ok HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn the_all_in_one_starts_on_sqlite_prints_its_url_serves_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let (http_port, grpc_port, task_port) = (free_port(), free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .current_dir(dir.path())
        .env_remove("AUTH_SECRET")
        .env_remove("DATABASE_URL")
        .env("GATEWAY_ADDR", format!("127.0.0.1:{http_port}"))
        .env("AUTH_ADDR", format!("127.0.0.1:{grpc_port}"))
        .env("TASK_ADDR", format!("127.0.0.1:{task_port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = format!("http://127.0.0.1:{http_port}");
    assert!(line.contains(&url), "printed: {line}");

    let response = get_ok(http_port);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(r#"{"ok":true}"#), "{response}");
    assert!(
        dir.path().join(".warden/warden.db").exists(),
        "SQLite database in ./.warden/"
    );
    assert!(
        dir.path().join(".warden/secret").exists(),
        "generated secret kept in ./.warden/"
    );

    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_worker_thread_count_of_zero_is_refused_naming_the_setting_and_one_is_served_with() {
    let dir = tempfile::tempdir().unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_warden"))
        .current_dir(dir.path())
        .env("WORKER_THREADS", "0")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("WORKER_THREADS"), "{stderr}");
    assert!(
        !dir.path().join(".warden").exists(),
        "nothing is created when a setting is refused"
    );

    let http_port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .current_dir(dir.path())
        .env_remove("AUTH_SECRET")
        .env_remove("DATABASE_URL")
        .env("WORKER_THREADS", "1")
        .env("GATEWAY_ADDR", format!("127.0.0.1:{http_port}"))
        .env("AUTH_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TASK_ADDR", format!("127.0.0.1:{}", free_port()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let response = get_ok(http_port);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}
