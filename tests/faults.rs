//! Fault tests: each starts its own services on loopback ports and breaks what they depend on (a private
//! `redis-server` it kills, a TCP proxy in front of PostgreSQL it cuts, auth-svc it stops), then checks that
//! Warden degrades as promised and recovers by itself. The machine's shared PostgreSQL and Redis are never stopped.

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    sync::oneshot,
    task::JoinHandle,
};
use tonic_health::pb::health_check_response::ServingStatus;
use warden_common::AuthSecret;
use warden_common::settings::UpstreamUrl;
use warden_testkit::TestDb;

const PASSWORD: &str = "correct horse battery";
const SESSION_COOKIE: &str = "better-auth.session_token";
const AUTH_SERVICE: &str = "warden.auth.v1.AuthService";

fn secret() -> AuthSecret {
    AuthSecret::parse("x".repeat(32).into()).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn stopper() -> (
    oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (tx, rx) = oneshot::channel::<()>();
    (tx, async move {
        let _ = rx.await;
    })
}

/// auth-svc, task-svc and the gateway in-process, on a database of their own.
struct Stack {
    base_url: String,
    http: reqwest::Client,
    auth_addr: SocketAddr,
    task_addr: SocketAddr,
    auth_stop: Option<oneshot::Sender<()>>,
    _stops: Vec<oneshot::Sender<()>>,
    _db: TestDb,
}

impl Stack {
    /// `auth_database_url` maps the test database's URL to the one auth-svc gets (a proxy, say).
    async fn start(
        redis_url: String,
        redis_prefix: &str,
        auth_database_url: impl FnOnce(&str) -> String,
    ) -> Self {
        let db = TestDb::new().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listen = listener.local_addr().unwrap();
        let base_url = format!("http://{listen}");

        let mut auth = auth_svc::Config::new(auth_database_url(&db.url).parse().unwrap(), secret());
        auth.listen = "127.0.0.1:0".parse().unwrap();
        auth.db_max_connections = 3;
        auth.redis_url = Some(redis_url.parse().unwrap());
        auth.redis_key_prefix = redis_prefix.to_owned();
        auth.base_url = base_url.parse().unwrap();
        auth.rate_limit_enabled = false;
        auth.metrics_listen = None;
        let auth = auth_svc::AuthServer::build(auth).await.unwrap();
        let auth_addr = auth.local_addr();
        let auth_url = UpstreamUrl::http(auth_addr);
        let (auth_stop, auth_signal) = stopper();
        tokio::spawn(auth.run_until_stopped(auth_signal));

        let mut tasks = task_svc::Config::new(db.url.parse().unwrap());
        tasks.listen = "127.0.0.1:0".parse().unwrap();
        tasks.db_max_connections = 2;
        tasks.auth_url = auth_url.clone();
        tasks.base_url = base_url.parse().unwrap();
        let tasks = task_svc::TaskServer::build(tasks).await.unwrap();
        let task_addr = tasks.local_addr();
        let task_url = UpstreamUrl::http(task_addr);
        let (tasks_stop, tasks_signal) = stopper();
        tokio::spawn(tasks.run_until_stopped(tasks_signal));

        let config = gateway::Config {
            listen,
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
            tls_ca: None,
            plugins: Default::default(),
        };
        let server = gateway::GatewayServer::build_on(config, listener).unwrap();
        let (gateway_stop, gateway_signal) = stopper();
        tokio::spawn(server.run_until_stopped(gateway_signal));
        Self {
            base_url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            auth_addr,
            task_addr,
            auth_stop: Some(auth_stop),
            _stops: vec![tasks_stop, gateway_stop],
            _db: db,
        }
    }

    async fn sign_up(&self, email: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}/api/auth/sign-up/email", self.base_url))
            .header("origin", &self.base_url)
            .json(&json!({"name": "Ada", "email": email, "password": PASSWORD}))
            .send()
            .await
    }

    async fn sign_in(&self, email: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}/api/auth/sign-in/email", self.base_url))
            .header("origin", &self.base_url)
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
    }

    /// Signs up and returns the `name=value` session cookie pair.
    async fn signed_up_cookie(&self, email: &str) -> String {
        let response = self.sign_up(email).await.unwrap();
        assert_eq!(response.status(), 200);
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
            .map(|c| c.split(';').next().unwrap().to_owned())
            .expect("session cookie set")
    }

    async fn get_session(&self, cookie: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .get(format!("{}/api/auth/get-session", self.base_url))
            .header("cookie", cookie)
            .send()
            .await
    }

    /// The gateway's `GET /readyz`: its status and body.
    async fn readyz(&self) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}/readyz", self.base_url))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Polls `/readyz` until it answers `status`, for up to `within`; returns the last answer.
    async fn readyz_until(&self, status: u16, within: Duration) -> (u16, Value) {
        let deadline = Instant::now() + within;
        loop {
            let answer = self.readyz().await;
            if answer.0 == status || Instant::now() >= deadline {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base_url))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }
}

/// The Redis key auth-svc caches the session of a cookie under.
fn session_key(prefix: &str, cookie: &str) -> String {
    let wire = cookie.split_once('=').unwrap().1;
    let token = secret().verify_cookie(wire).expect("cookie verifies");
    format!(
        "{prefix}session:{}",
        warden_common::token::hash_token(&token)
    )
}

/// A `redis-server` of the test's own, without persistence, killed on drop.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    async fn start() -> Self {
        let mut redis = Self {
            port: free_port(),
            child: None,
        };
        redis.restart().await;
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn exists(&self, key: &str) -> bool {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("EXISTS")
            .arg(key)
            .query_async::<i64>(&mut conn)
            .await
            .unwrap()
            == 1
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP proxy on a fixed loopback port that can be cut (listener and every connection closed) and restored. Its
/// target is set once, before the first connection.
struct Proxy {
    addr: SocketAddr,
    target: Arc<OnceLock<SocketAddr>>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut proxy = Self {
            addr: listener.local_addr().unwrap(),
            target: Arc::default(),
            accept: None,
        };
        proxy.serve(listener);
        proxy
    }

    fn forward_to(&self, target: SocketAddr) {
        self.target.set(target).unwrap();
    }

    fn serve(&mut self, listener: TcpListener) {
        let target = self.target.clone();
        self.accept = Some(tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every connection with it.
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = *target.get().expect("proxy target set");
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    async fn cut(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
    }

    async fn restore(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_under_load_fails_no_get_session_and_the_cache_refills() {
    let mut redis = PrivateRedis::start().await;
    let prefix = warden_testkit::redis_prefix();
    let stack = Arc::new(Stack::start(redis.url(), &prefix, str::to_owned).await);
    let cookie = Arc::new(stack.signed_up_cookie("redis-fault@example.com").await);
    let key = session_key(&prefix, &cookie);
    assert_eq!(stack.get_session(&cookie).await.unwrap().status(), 200);

    const CALLS: usize = 200;
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (stack, cookie, done, failures) = (
            stack.clone(),
            cookie.clone(),
            done.clone(),
            failures.clone(),
        );
        workers.push(tokio::spawn(async move {
            while done.fetch_add(1, Ordering::SeqCst) < CALLS {
                let ok = match stack.get_session(&cookie).await {
                    Ok(response) if response.status() == 200 => response
                        .json::<Value>()
                        .await
                        .is_ok_and(|body| body["user"]["email"] == "redis-fault@example.com"),
                    _ => false,
                };
                if !ok {
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    let started = Instant::now();
    while done.load(Ordering::SeqCst) < 50 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    redis.kill();
    let killed_at = done.load(Ordering::SeqCst);
    while done.load(Ordering::SeqCst) < 120 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    redis.restart().await;
    let restarted_at = done.load(Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }
    eprintln!(
        "{CALLS} get-session calls in {:?}; Redis killed after {killed_at}, back after {restarted_at}",
        started.elapsed()
    );
    assert!(restarted_at < CALLS, "calls ran on after the restart");
    assert_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "failed get-session calls"
    );

    // The restarted Redis is empty; once the breaker lets a trial through, a read refills the entry.
    assert!(!redis.exists(&key).await);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert_eq!(stack.get_session(&cookie).await.unwrap().status(), 200);
        if redis.exists(&key).await {
            break;
        }
        assert!(Instant::now() < deadline, "the cache never refilled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("cache refilled {:?} after the restart", started.elapsed());
}

/// ListTasks straight on task-svc with a JWT as the bearer.
async fn list_tasks_with_jwt(task_addr: SocketAddr, jwt: &str) -> Result<usize, tonic::Status> {
    use warden_proto::task::v1::{ListTasksRequest, task_service_client::TaskServiceClient};
    let mut client = TaskServiceClient::connect(format!("http://{task_addr}"))
        .await
        .unwrap();
    let mut request = tonic::Request::new(ListTasksRequest::default());
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {jwt}").parse().unwrap());
    Ok(client.list_tasks(request).await?.into_inner().tasks.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auth_svc_down_the_gateway_answers_503_at_once_and_task_svc_still_serves_jwts() {
    let prefix = warden_testkit::redis_prefix();
    let mut stack = Stack::start(warden_testkit::redis_url(), &prefix, str::to_owned).await;
    let cookie = stack.signed_up_cookie("auth-down@example.com").await;
    let response = stack.get("/api/auth/token", &cookie).await;
    assert_eq!(response.status(), 200);
    let jwt = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The first JWT makes task-svc fetch and cache auth-svc's keys.
    assert_eq!(list_tasks_with_jwt(stack.task_addr, &jwt).await.unwrap(), 0);
    assert_eq!(
        stack.readyz().await,
        (
            200,
            json!({"status": "ready", "auth": "SERVING", "tasks": "SERVING"})
        )
    );

    drop(stack.auth_stop.take());
    tokio::time::sleep(Duration::from_millis(200)).await;

    for attempt in 0..5 {
        let started = Instant::now();
        let session = stack.get_session(&cookie).await.unwrap();
        let session_time = started.elapsed();
        assert_eq!(session.status(), 503, "get-session, attempt {attempt}");
        let body: Value = session.json().await.unwrap();
        assert_eq!(body["code"], "SERVICE_UNAVAILABLE");

        let started = Instant::now();
        let sign_in = stack.sign_in("auth-down@example.com").await.unwrap();
        let sign_in_time = started.elapsed();
        assert_eq!(sign_in.status(), 503, "sign-in, attempt {attempt}");
        eprintln!(
            "auth-svc down: get-session 503 in {session_time:?}, sign-in 503 in {sign_in_time:?}"
        );
        assert!(session_time < Duration::from_secs(2), "{session_time:?}");
        assert!(sign_in_time < Duration::from_secs(2), "{sign_in_time:?}");
    }

    for _ in 0..20 {
        assert_eq!(list_tasks_with_jwt(stack.task_addr, &jwt).await.unwrap(), 0);
    }
    let started = Instant::now();
    let (status, body) = stack.readyz().await;
    eprintln!(
        "auth-svc down: /readyz {status} {body} in {:?}",
        started.elapsed()
    );
    assert_eq!(
        (status, body),
        (
            503,
            json!({"status": "not ready", "auth": "UNREACHABLE", "tasks": "SERVING"})
        )
    );
}

/// The same database URL with its host and port replaced by `addr`.
fn via(database_url: &str, addr: SocketAddr) -> String {
    let mut url = url::Url::parse(database_url).unwrap();
    url.set_host(Some(&addr.ip().to_string())).unwrap();
    url.set_port(Some(addr.port())).unwrap();
    url.to_string()
}

fn postgres_addr(database_url: &str) -> SocketAddr {
    let url = url::Url::parse(database_url).unwrap();
    let host = url.host_str().unwrap_or("127.0.0.1");
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    SocketAddr::new(host.parse().unwrap(), url.port().unwrap_or(5432))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_cut_cached_sessions_read_writes_fail_fast_and_all_recovers_unaided() {
    let prefix = warden_testkit::redis_prefix();
    let mut proxy = Proxy::start().await;
    let stack = Stack::start(warden_testkit::redis_url(), &prefix, |url| {
        proxy.forward_to(postgres_addr(url));
        via(url, proxy.addr)
    })
    .await;

    let cookie = stack.signed_up_cookie("pg-cut@example.com").await;
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(stack.get_session(&cookie).await.unwrap().status(), 200);
    }
    eprintln!("PostgreSQL up: 20 get-session in {:?}", started.elapsed());

    let readiness =
        |service: &'static str| warden_testkit::grpc::health_status(stack.auth_addr, service);
    assert_eq!(readiness(AUTH_SERVICE).await, ServingStatus::Serving);
    assert_eq!(stack.readyz().await.0, 200);

    proxy.cut().await;
    // auth-svc's readiness turns within two checks (2 s apart, each allowed 2 s); its liveness does not.
    let (status, body) = stack.readyz_until(503, Duration::from_secs(8)).await;
    eprintln!("PostgreSQL cut: /readyz {status} {body}");
    assert_eq!(
        (status, body),
        (
            503,
            json!({"status": "not ready", "auth": "NOT_SERVING", "tasks": "SERVING"})
        )
    );
    assert_eq!(readiness(AUTH_SERVICE).await, ServingStatus::NotServing);
    assert_eq!(readiness("").await, ServingStatus::Serving);
    let started = Instant::now();
    for _ in 0..20 {
        let response = stack.get_session(&cookie).await.unwrap();
        assert_eq!(response.status(), 200, "a cached session reads");
    }
    eprintln!(
        "PostgreSQL cut: 20 cached get-session in {:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let response = stack.sign_up("pg-cut-2@example.com").await.unwrap();
    let write_time = started.elapsed();
    eprintln!(
        "PostgreSQL cut: sign-up answered {} in {write_time:?}",
        response.status()
    );
    assert_eq!(response.status(), 503);
    assert!(write_time < Duration::from_secs(7), "{write_time:?}");

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let started = Instant::now();
    loop {
        let response = stack.sign_up("pg-cut-3@example.com").await.unwrap();
        if response.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "writes never recovered: {}",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "PostgreSQL restored: sign-up succeeded again after {:?}",
        started.elapsed()
    );
    let (status, body) = stack.readyz_until(200, Duration::from_secs(8)).await;
    assert_eq!(status, 200, "ready again: {body}");
    assert_eq!(readiness(AUTH_SERVICE).await, ServingStatus::Serving);
    let cookie = stack.signed_up_cookie("pg-cut-4@example.com").await;
    assert_eq!(stack.get_session(&cookie).await.unwrap().status(), 200);
}

/// How close to SIGTERM a request may be sent and still find its connection being closed unread.
const SHUTDOWN_RACE: Duration = Duration::from_millis(100);

/// A request's outcome during a shutdown.
#[derive(Debug)]
#[expect(
    dead_code,
    reason = "the error texts are read through Debug, in assertion messages"
)]
enum Outcome {
    /// A status and a whole JSON body.
    Complete(u16),
    /// The connection was refused: the server no longer listens.
    Refused,
    /// The connection failed before any response (reset or closed).
    NoResponse(String),
    /// A response started and broke off.
    Broken(String),
}

async fn outcome(sent: reqwest::Result<reqwest::Response>) -> Outcome {
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.json::<Value>().await {
                Ok(_) => Outcome::Complete(status),
                Err(error) => Outcome::Broken(format!("{status} with a cut body: {error}")),
            }
        }
        Err(error) if error.is_connect() => Outcome::Refused,
        Err(error) => Outcome::NoResponse(format!("{error:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_completes_every_request_in_flight_and_exits_0_within_the_drain_timeout()
{
    use std::io::BufRead;

    let dir = tempfile::tempdir().unwrap();
    let (http_port, grpc_port, task_port) = (free_port(), free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .current_dir(dir.path())
        .env_remove("AUTH_SECRET")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("WARDEN_DATA_DIR", dir.path().join("data"))
        .env("GATEWAY_ADDR", format!("127.0.0.1:{http_port}"))
        .env("AUTH_ADDR", format!("127.0.0.1:{grpc_port}"))
        .env("TASK_ADDR", format!("127.0.0.1:{task_port}"))
        .env("RATE_LIMIT_ENABLED", "false")
        .env("DRAIN_DELAY", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Wait for the printed URL, then keep reading so that the process never writes to a closed pipe.
    let (printed, url_line) = oneshot::channel();
    std::thread::spawn(move || {
        let mut lines = std::io::BufReader::new(stdout).lines();
        let _ = printed.send(lines.next());
        lines.for_each(drop);
    });
    assert!(matches!(url_line.await, Ok(Some(Ok(_)))), "warden started");
    let base_url = format!("http://127.0.0.1:{http_port}");
    // A fresh connection per request, so no request races the server closing an idle keep-alive connection.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let sign_up = http
        .post(format!("{base_url}/api/auth/sign-up/email"))
        .header("origin", &base_url)
        .json(&json!({"name": "Ada", "email": "sigterm@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(sign_up.status(), 200);
    let cookie = sign_up
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .unwrap();

    // Readers loop until the server stops taking connections.
    let answered = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (http, url, cookie, answered) = (
            http.clone(),
            format!("{base_url}/api/auth/get-session"),
            cookie.clone(),
            answered.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let sent = Instant::now();
                let result = outcome(http.get(&url).header("cookie", &cookie).send().await).await;
                let stop = !matches!(result, Outcome::Complete(_));
                outcomes.push((result, sent));
                answered.fetch_add(1, Ordering::SeqCst);
                if stop || outcomes.len() > 5_000 {
                    return outcomes;
                }
            }
        }));
    }
    while answered.load(Ordering::SeqCst) < 100 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Sign-ins whose headers and half their body the server has read when SIGTERM arrives: accepted, so they
    // must complete.
    let body = json!({"email": "sigterm@example.com", "password": PASSWORD}).to_string();
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", http_port))
            .await
            .unwrap();
        let head = format!(
            "POST /api/auth/sign-in/email HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {base_url}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            body.len(),
            &body[..body.len() / 2]
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        slow.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let terminated = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());

    // Health turns first, seen from outside while everything still serves: auth-svc's gRPC health, then the
    // gateway's /readyz.
    let auth_addr: SocketAddr = ([127, 0, 0, 1], grpc_port).into();
    let not_serving_at = loop {
        match warden_testkit::grpc::health_status(auth_addr, "").await {
            ServingStatus::NotServing => break Instant::now(),
            status => {
                assert!(
                    terminated.elapsed() < Duration::from_millis(500),
                    "still {status:?} 500 ms after SIGTERM"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    // The gateway turns on its own task, a moment before or after the services.
    let readiness = loop {
        let ready = http.get(format!("{base_url}/readyz")).send().await.unwrap();
        if ready.status() == 503 {
            break ready.json::<Value>().await.unwrap();
        }
        assert!(
            terminated.elapsed() < Duration::from_millis(500),
            "/readyz still {} 500 ms after SIGTERM",
            ready.status()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(readiness, json!({"status": "draining"}));
    eprintln!(
        "SIGTERM: auth-svc health NOT_SERVING and /readyz 503 after {:?}",
        not_serving_at - terminated
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    for mut stream in slow {
        stream
            .write_all(&body.as_bytes()[body.len() / 2..])
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains("sigterm@example.com"), "{response}");
        assert!(response.ends_with('}'), "a complete body: {response}");
    }
    eprintln!(
        "2 sign-ins half-sent before SIGTERM and finished 300 ms after it: both complete 200"
    );
    let mut complete = 0;
    let mut complete_after_not_serving = 0;
    let mut not_taken = 0;
    for reader in readers {
        for (result, sent) in reader.await.unwrap() {
            match result {
                Outcome::Complete(200) => {
                    complete += 1;
                    if sent > not_serving_at {
                        complete_after_not_serving += 1;
                    }
                }
                Outcome::Refused => not_taken += 1,
                // No response at all to a request sent as SIGTERM landed: its connection was still in the accept
                // queue, or it was written onto an idle keep-alive connection the server was closing. The server
                // never read it, so nothing it accepted was lost (the half-sent sign-ins above show accepted
                // requests complete). A response that starts and breaks off is never allowed.
                Outcome::NoResponse(_) if sent + SHUTDOWN_RACE >= terminated => not_taken += 1,
                other => panic!(
                    "a get-session sent at {sent:?} (SIGTERM at {terminated:?}) broke: {other:?}"
                ),
            }
        }
    }

    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if terminated.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("still running 10 s after SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!(
        "SIGTERM: {complete} complete get-session ({complete_after_not_serving} sent after health turned), \
         {not_taken} refused after the listener closed; exit {status} after {:?}",
        terminated.elapsed()
    );
    assert!(
        complete_after_not_serving > 0,
        "requests kept being served after health turned NOT_SERVING"
    );
    assert!(status.success(), "{status}");
}
