//! The two yardsticks, served from this process on runtimes of their own (so they compete for the cores as a
//! separate server would): a bare axum handler that does one Redis GET, and a bare tonic unary echo. Each is the
//! most a server of that shape can do on this machine, which makes a ratio to it comparable across runs.

use std::{net::SocketAddr, sync::Arc, thread::JoinHandle};

use anyhow::Context;
use axum::{Router, extract::State, response::IntoResponse, routing::get, serve::ListenerExt};
use http::{StatusCode, header};
use redis::{AsyncCommands, aio::ConnectionManager};
use tokio::{net::TcpListener, sync::oneshot};
use tonic::transport::server::TcpIncoming;

use crate::echo::{
    EchoReply, EchoRequest,
    echo_server::{Echo, EchoServer},
};
use crate::rest::GET_SESSION;

/// A get-session body of the usual size, which the axum ceiling keeps in Redis and sends back.
const SESSION_JSON: &str = r#"{"session":{"id":"0196f6a3-4c1e-7a42-9d7b-3a1f5e8c2b10","token":"Zp3kQ8vN2mR7xT4wY6bC9dF1gH5jL0sA","userId":"0196f6a3-4c1e-7a42-9d7b-3a1f5e8c2b0f","expiresAt":"2026-12-01T12:00:00.000Z","ipAddress":"127.0.0.1","userAgent":"bench","createdAt":"2026-11-24T12:00:00.000Z","updatedAt":"2026-11-24T12:00:00.000Z"},"user":{"id":"0196f6a3-4c1e-7a42-9d7b-3a1f5e8c2b0f","name":"Bench User","email":"bench@bench.example.com","emailVerified":false,"image":null,"createdAt":"2026-11-24T12:00:00.000Z","updatedAt":"2026-11-24T12:00:00.000Z"}}"#;

/// A ceiling server on its own thread and runtime; dropping it stops the server and waits for the thread.
pub struct CeilingServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for CeilingServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves `GET /api/auth/get-session` answering the JSON stored under a key of its own in Redis at `redis_url`.
pub async fn start_axum_redis(redis_url: &str, run_id: &str) -> anyhow::Result<CeilingServer> {
    let redis_url = redis_url.to_owned();
    let key: Arc<str> = format!("warden-bench:{run_id}:ceiling").into();
    start(move |stop, ready| async move {
        let prepared = async {
            let client = redis::Client::open(redis_url.as_str()).context("the Redis URL")?;
            let mut redis = ConnectionManager::new(client)
                .await
                .context("connecting to Redis for the axum ceiling")?;
            let _: () = redis.set_ex(&*key, SESSION_JSON, 3600).await?;
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            anyhow::Ok((redis, listener))
        };
        let (redis, listener) = match prepared.await {
            Ok(prepared) => prepared,
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        let _ = ready.send(listener.local_addr().map_err(Into::into));
        let app = Router::new()
            .route(GET_SESSION, get(read_from_redis))
            .with_state((redis.clone(), key.clone()));
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop.await;
            })
            .await;
        let _: Result<(), _> = redis.clone().del(&*key).await;
    })
    .await
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

/// Serves `warden.bench.v1.Echo`, which answers every request with its own payload.
pub async fn start_tonic_echo() -> anyhow::Result<CeilingServer> {
    start(|stop, ready| async move {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(error) => {
                let _ = ready.send(Err(error.into()));
                return;
            }
        };
        let _ = ready.send(listener.local_addr().map_err(Into::into));
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let _ = tonic::transport::Server::builder()
            .add_service(EchoServer::new(EchoService))
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop.await;
            })
            .await;
    })
    .await
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

type Ready = oneshot::Sender<anyhow::Result<SocketAddr>>;

/// Runs `serve` on a new thread with a multi-threaded runtime as wide as the machine, and waits until it reports
/// its address (or why it could not start).
async fn start<F, Fut>(serve: F) -> anyhow::Result<CeilingServer>
where
    F: FnOnce(oneshot::Receiver<()>, Ready) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let (stop, stopped) = oneshot::channel();
    let (ready, started) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("ceiling".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("ceiling-worker")
                .build();
            match runtime {
                Ok(runtime) => runtime.block_on(serve(stopped, ready)),
                Err(error) => {
                    let _ = ready.send(Err(error.into()));
                }
            }
        })
        .context("starting the ceiling's thread")?;
    let addr = started
        .await
        .context("the ceiling's thread ended before it started serving")??;
    Ok(CeilingServer {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}
