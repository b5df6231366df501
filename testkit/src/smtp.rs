//! A real SMTP server for tests: Python's `aiosmtpd` running `testkit/smtp_sink.py`, which writes every message it
//! receives, decoded, as a JSON line that [`SmtpSink::mail_to`] reads back.
//!
//! The interpreter is `WARDEN_TEST_PYTHON` (scripts/test creates a venv with aiosmtpd and exports it), else
//! `target/test-venv/bin/python`. Without a usable one the test fails: mail tests are never skipped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// One message as the SMTP server received it.
#[derive(Clone, Debug, Deserialize)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
}

impl ReceivedMail {
    /// The first `http(s)://` link in the text.
    pub fn link(&self) -> Option<String> {
        first_link(&self.text)
    }
}

/// The first `http(s)://` link in `text`, up to the next whitespace.
pub fn first_link(text: &str) -> Option<String> {
    let start = text.find("http://").or_else(|| text.find("https://"))?;
    let rest = &text[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// A running SMTP server, stopped when dropped.
pub struct SmtpSink {
    port: u16,
    file: PathBuf,
    dir: PathBuf,
    _child: Child,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits in the workspace")
        .to_path_buf()
}

/// The Python that has aiosmtpd: `WARDEN_TEST_PYTHON`, else the venv scripts/test creates.
pub fn python() -> PathBuf {
    let python = std::env::var_os("WARDEN_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/test-venv/bin/python"));
    let usable = std::process::Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        usable,
        "no Python with aiosmtpd at {} (set WARDEN_TEST_PYTHON, or run scripts/test, which creates \
         target/test-venv with aiosmtpd); the mail tests need a real SMTP server",
        python.display()
    );
    python
}

impl SmtpSink {
    /// Starts the server on a free loopback port and waits until it accepts connections.
    pub async fn start() -> Self {
        let python = python();
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("warden-smtp-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("creating the SMTP sink's directory");
        let file = dir.join("mail.jsonl");
        let mut child = Command::new(python)
            .arg(workspace_root().join("testkit/smtp_sink.py"))
            .arg(port.to_string())
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("starting the SMTP sink");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the SMTP sink did not start within 30 s")
            .expect("reading the SMTP sink's output");
        assert_eq!(
            ready.as_deref(),
            Some("ready"),
            "the SMTP sink did not start"
        );
        Self {
            port,
            file,
            dir,
            _child: child,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:<port>` (no TLS).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let Ok(text) = std::fs::read_to_string(&self.file) else {
            return Vec::new();
        };
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).expect("the SMTP sink writes JSON lines"))
            .collect()
    }

    /// The latest message to `to`, waiting up to `timeout` for one to arrive.
    pub async fn mail_to(&self, to: &str, timeout: Duration) -> ReceivedMail {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(mail) = self
                .received()
                .into_iter()
                .rev()
                .find(|mail| mail.to.iter().any(|rcpt| rcpt.eq_ignore_ascii_case(to)))
            {
                return mail;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no mail to {to} reached the SMTP server within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_link_ends_at_whitespace() {
        assert_eq!(
            first_link("Open\n\nhttp://a.io/x?t=1&c=%2F\n\nbye").as_deref(),
            Some("http://a.io/x?t=1&c=%2F")
        );
        assert_eq!(first_link("no link"), None);
    }
}
