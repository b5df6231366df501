use std::{future::Future, net::SocketAddr, time::Duration};

use auth_svc::{AuthServer, Config};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::sync::oneshot;
use tonic::{Code, Request, Status, transport::Channel};
use tonic_types::StatusExt;
use warden_common::AuthSecret;
use warden_proto::auth::v1::{self as pb, auth_service_client::AuthServiceClient};
use warden_testkit::TestDb;

pub const PASSWORD: &str = "correct horse battery";

pub fn secret() -> AuthSecret {
    AuthSecret::parse("x".repeat(32).into()).unwrap()
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// The admin port serving `/metrics`, when the test set `metrics_listen`.
    pub metrics_addr: Option<SocketAddr>,
    pub client: AuthServiceClient<Channel>,
    pub db: DatabaseConnection,
    pub database_url: String,
    pub redis_prefix: String,
    pub redis: Option<redis::Client>,
    _shutdown: oneshot::Sender<()>,
    _database: TestDb,
}

impl TestApp {
    /// auth-svc on a fresh PostgreSQL database and its own Redis key prefix.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_on(TestDb::new().await, adjust).await
    }

    pub async fn spawn_on(database: TestDb, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::new(database.url.parse().unwrap(), secret());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.db_max_connections = 3;
        config.redis_url = Some(warden_testkit::redis_url().parse().unwrap());
        config.redis_key_prefix = warden_testkit::redis_prefix();
        // Rate limits and the sign-in back-off have their own tests; elsewhere they would only get in the way.
        config.rate_limit_enabled = false;
        adjust(&mut config);
        let server = AuthServer::build(config.clone())
            .await
            .expect("auth-svc builds");
        let addr = server.local_addr();
        let metrics_addr = server.metrics_addr();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(server.run_until_stopped(async {
            let _ = rx.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .expect("connects to auth-svc");
        let db = Database::connect(database.url.as_str()).await.unwrap();
        Self {
            addr,
            metrics_addr,
            client: AuthServiceClient::new(channel),
            db,
            database_url: database.url.clone(),
            redis: config
                .redis_url
                .as_ref()
                .map(|url| redis::Client::open(url.expose()).unwrap()),
            redis_prefix: config.redis_key_prefix,
            _shutdown: tx,
            _database: database,
        }
    }

    pub async fn sign_up(&self, email: &str) -> pb::SignUpEmailResponse {
        self.client
            .clone()
            .sign_up_email(pb::SignUpEmailRequest {
                name: "Alice".into(),
                email: email.into(),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
            .expect("sign-up succeeds")
            .into_inner()
    }

    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
    ) -> Result<pb::SignInEmailResponse, Status> {
        self.client
            .clone()
            .sign_in_email(pb::SignInEmailRequest {
                email: email.into(),
                password: password.into(),
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Signs up and returns the raw session token.
    pub async fn user_token(&self, email: &str) -> String {
        self.sign_up(email).await.token.unwrap()
    }

    pub async fn get_session(&self, token: &str) -> Result<pb::GetSessionResponse, Status> {
        self.client
            .clone()
            .get_session(bearer(pb::GetSessionRequest::default(), token))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn issue_token(&self, token: &str) -> Result<String, Status> {
        self.client
            .clone()
            .issue_token(bearer(pb::IssueTokenRequest {}, token))
            .await
            .map(|r| r.into_inner().token)
    }

    pub async fn jwks(&self) -> Vec<pb::Jwk> {
        self.client
            .clone()
            .get_jwks(pb::GetJwksRequest {})
            .await
            .expect("GetJwks succeeds")
            .into_inner()
            .keys
    }

    pub async fn list_sessions(&self, token: &str) -> Result<Vec<pb::Session>, Status> {
        self.client
            .clone()
            .list_sessions(bearer(pb::ListSessionsRequest {}, token))
            .await
            .map(|r| r.into_inner().sessions)
    }

    pub async fn execute(&self, sql: &str) {
        self.db
            .execute_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        self.db
            .query_all_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).unwrap())
            .collect()
    }

    /// Drops a session's cache entry, so the next read goes to the database.
    pub async fn evict(&self, token: &str) {
        if let Some(client) = &self.redis {
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let key = format!(
                "{}session:{}",
                self.redis_prefix,
                warden_common::token::hash_token(token)
            );
            let _: () = redis::cmd("DEL")
                .arg(key)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
    }
}

pub fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// Asserts a status's code and its ErrorInfo reason.
pub fn assert_error(status: &Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo attached");
    assert_eq!(info.reason, reason);
    assert_eq!(info.domain, "warden.auth.v1");
}

/// Runs `f` and returns how long it took.
pub async fn timed<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let start = std::time::Instant::now();
    let out = f.await;
    (out, start.elapsed())
}
