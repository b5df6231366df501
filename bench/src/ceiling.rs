//! The two yardsticks: a bare axum handler that does one Redis GET, and a bare tonic unary echo. Each is the most a
//! server of that shape can do on this machine, which makes a ratio to it comparable across runs.
//!
//! Each is served by a child process of this tool (`bench serve-ceiling <kind>`), so it pays what the servers it is
//! compared with pay: a process of its own, reached over loopback, with Warden's runtime defaults and allocator, and
//! the switches between address spaces that come with it. (Served from the load generator's own process instead,
//! the axum ceiling measured no higher: 84,097 req/s against 87,257–92,473 from a process of its own.)

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, ChildStdin, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{Router, extract::State, response::IntoResponse, routing::get, serve::ListenerExt};
use clap::ValueEnum;
use http::{StatusCode, header};
use redis::{AsyncCommands, aio::ConnectionManager};
use tokio::{net::TcpListener, sync::oneshot};
use tonic::transport::server::TcpIncoming;

use crate::echo::{
    EchoReply, EchoRequest,
    echo_server::{Echo, EchoServer},
};

/// A get-session body of the usual size, which the axum ceiling keeps in Redis and sends back.
const SESSION_JSON: &str = r#"{"session":{"id":"0196f6a3-4c1e-7a42-9d7b-3a1f5e8c2b10","token":"Zp3kQ8vN2mR7xT4wY6bC9dF1gH5jL0sA","userId":"0196f6a3-4c1e-7a42-9d7b-3a1f5e8c2b0f","expiresAt":"2026-12-01T12:00:00.000Z","ipAddress":"127.0.0.1","userAgent":"bench","createdAt":"2026-11-24T12:00:00.000Z","updatedAt":"2026-11-24T12:00:00.000Z"},"user":{"id":"0196f6a3-4c1e-7a42-9d7b-3a1f5e8c2b0f","name":"Bench User","email":"bench@bench.example.com","emailVerified":false,"image":null,"createdAt":"2026-11-24T12:00:00.000Z","updatedAt":"2026-11-24T12:00:00.000Z"}}"#;

/// How long a ceiling server may take to start, and to stop once asked.
const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// The line a ceiling server prints on stdout once it listens, followed by its address.
const LISTENING: &str = "listening on ";

/// The subcommand that serves a ceiling in the child process.
pub const SERVE_COMMAND: &str = "serve-ceiling";

/// The path both the gateway and the axum ceiling answer get-session on.
pub const GET_SESSION: &str = "/api/auth/get-session";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// `GET /api/auth/get-session` answered with a get-session-sized JSON read by one Redis GET.
    AxumRedis,
    /// `warden.bench.v1.Echo`, answering every request with its own payload.
    TonicEcho,
}

/// A ceiling server in a child process; dropping it stops the server (its stdin closes) and waits for it.
pub struct CeilingServer {
    pub addr: SocketAddr,
    child: Child,
    stop: Option<ChildStdin>,
}

impl CeilingServer {
    /// Starts `kind` in a child process running this very binary, and waits until it listens. `redis_url` must
    /// already be checked to be on loopback.
    pub async fn spawn(kind: Kind, redis_url: &str, run_id: &str) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding this binary to serve the ceiling")?;
        // The name clap parses it back from: every variant has one.
        let kind = kind.to_possible_value().context("the ceiling's name")?;
        let mut child = Command::new(exe)
            .args([
                SERVE_COMMAND,
                kind.get_name(),
                "--redis",
                redis_url,
                "--run-id",
                run_id,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the ceiling's process")?;
        let stop = child.stdin.take();
        let stdout = child.stdout.take().context("the ceiling's stdout")?;
        let announced = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        });
        let mut server = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            child,
            stop,
        };
        let line = match tokio::time::timeout(START_TIMEOUT, announced).await {
            Ok(read) => read
                .context("reading the ceiling's address")?
                .context("reading the ceiling's address")?,
            // Dropping `server` stops the process, which ends the read above.
            Err(_) => {
                anyhow::bail!("the ceiling's process did not listen within {START_TIMEOUT:?}")
            }
        };
        server.addr = line
            .trim()
            .strip_prefix(LISTENING)
            .and_then(|addr| addr.parse().ok())
            .with_context(|| {
                format!("the ceiling's process ended before it listened ({line:?})")
            })?;
        Ok(server)
    }
}

impl Drop for CeilingServer {
    fn drop(&mut self) {
        // End of stdin asks it to stop; it cleans up and exits, or is killed after STOP_TIMEOUT.
        drop(self.stop.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side: serves `kind` on a loopback port, prints `listening on <addr>` on stdout, and serves until its
/// stdin closes (the parent stopped it, or died).
pub async fn serve(kind: Kind, redis_url: &str, run_id: &str) -> anyhow::Result<()> {
    let (stop, stopped) = oneshot::channel();
    std::thread::Builder::new()
        .name("ceiling-stdin".into())
        .spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            let _ = stop.send(());
        })
        .context("watching stdin")?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    match kind {
        Kind::AxumRedis => serve_axum_redis(listener, addr, redis_url, run_id, stopped).await,
        Kind::TonicEcho => {
            announce(addr);
            let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
            tonic::transport::Server::builder()
                .add_service(EchoServer::new(EchoService))
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await
                .context("serving the tonic echo")
        }
    }
}

fn announce(addr: SocketAddr) {
    println!("{LISTENING}{addr}");
}

/// Serves `GET /api/auth/get-session` answering the JSON stored under a key of its own in Redis at `redis_url`.
async fn serve_axum_redis(
    listener: TcpListener,
    addr: SocketAddr,
    redis_url: &str,
    run_id: &str,
    stopped: oneshot::Receiver<()>,
) -> anyhow::Result<()> {
    let key: Arc<str> = format!("warden-bench:{run_id}:ceiling").into();
    let client = redis::Client::open(redis_url).context("the Redis URL")?;
    let mut redis = ConnectionManager::new(client)
        .await
        .context("connecting to Redis for the axum ceiling")?;
    let _: () = redis.set_ex(&*key, SESSION_JSON, 3600).await?;
    announce(addr);
    let app = Router::new()
        .route(GET_SESSION, get(read_from_redis))
        .with_state((redis.clone(), key.clone()));
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await;
    let _: Result<(), _> = redis.del(&*key).await;
    served.context("serving the axum ceiling")
}

async fn read_from_redis(
    State((mut redis, key)): State<(ConnectionManager, Arc<str>)>,
) -> axum::response::Response {
    match redis.get::<_, Option<Vec<u8>>>(&*key).await {
        Ok(Some(body)) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

struct EchoService;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn echo(
        &self,
        request: tonic::Request<EchoRequest>,
    ) -> Result<tonic::Response<EchoReply>, tonic::Status> {
        Ok(tonic::Response::new(EchoReply {
            payload: request.into_inner().payload,
        }))
    }
}
