use std::{net::SocketAddr, sync::Arc};

use auth_svc::AuthServer;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{EncodingKey, Header};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use task_svc::{TaskServer, auth::AuthMetrics};
use tokio::sync::oneshot;
use tonic::{Code, Request, Status, transport::Channel};
use tonic_types::StatusExt;
use warden_common::AuthSecret;
use warden_proto::{
    auth::v1::{
        self as auth_pb, admin_service_client::AdminServiceClient,
        api_key_service_client::ApiKeyServiceClient, auth_service_client::AuthServiceClient,
    },
    task::v1::{self as pb, task_service_client::TaskServiceClient},
};
use warden_testkit::TestDb;

pub const PASSWORD: &str = "correct horse battery";
/// The gateway's public URL, as both services are configured: every JWT's issuer and audience.
pub const BASE_URL: &str = "http://127.0.0.1:8080";

pub fn secret() -> AuthSecret {
    AuthSecret::parse("x".repeat(32).into()).unwrap()
}

/// Knobs a test may turn before the servers start.
pub struct Settings {
    pub auth: auth_svc::Config,
    pub task: task_svc::Config,
}

/// auth-svc and task-svc on one fresh PostgreSQL database, task-svc pointed at auth-svc.
pub struct TestApp {
    pub task_addr: SocketAddr,
    /// task-svc's admin port serving `/metrics`, when the test set `task.metrics_listen`.
    pub metrics_addr: Option<SocketAddr>,
    pub auth: AuthServiceClient<Channel>,
    /// auth-svc's ApiKeyService.
    pub api_keys: ApiKeyServiceClient<Channel>,
    /// auth-svc's AdminService.
    pub admin: AdminServiceClient<Channel>,
    pub tasks: TaskServiceClient<Channel>,
    pub metrics: Arc<AuthMetrics>,
    pub db: DatabaseConnection,
    pub database_url: String,
    _shutdown: (oneshot::Sender<()>, oneshot::Sender<()>),
    _database: Storage,
}

/// What holds the test's database: a PostgreSQL database of its own, or a directory with a SQLite file.
enum Storage {
    Postgres(#[expect(dead_code, reason = "dropping it drops the database")] TestDb),
    Sqlite(#[expect(dead_code, reason = "dropping it removes the file")] tempfile::TempDir),
}

/// A signed-up user and the credentials task-svc accepts for them.
pub struct User {
    pub id: String,
    pub session_token: String,
    pub jwt: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDb::new().await;
        let url = database.url.clone();
        Self::spawn_on(&url, Storage::Postgres(database), |settings| {
            settings.auth.redis_url = Some(warden_testkit::redis_url().parse().unwrap());
            settings.auth.redis_key_prefix = warden_testkit::redis_prefix();
            adjust(settings);
        })
        .await
    }

    /// Both services on one SQLite file (migrated by auth-svc) with auth-svc's in-process cache, as the all-in-one
    /// runs them.
    pub async fn spawn_on_sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = warden_testkit::sqlite_url(dir.path());
        Self::spawn_on(&url, Storage::Sqlite(dir), |settings| {
            settings.auth.migrate = true;
        })
        .await
    }

    async fn spawn_on(
        database_url: &str,
        database: Storage,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let mut auth = auth_svc::Config::new(database_url.parse().unwrap(), secret());
        auth.listen = "127.0.0.1:0".parse().unwrap();
        auth.db_max_connections = 2;
        auth.base_url = BASE_URL.parse().unwrap();
        auth.rate_limit_enabled = false;
        let mut task = task_svc::Config::new(database_url.parse().unwrap());
        task.listen = "127.0.0.1:0".parse().unwrap();
        task.db_max_connections = 2;
        task.base_url = BASE_URL.parse().unwrap();
        let mut settings = Settings { auth, task };
        adjust(&mut settings);

        let auth_server = AuthServer::build(settings.auth)
            .await
            .expect("auth-svc builds");
        let auth_addr = auth_server.local_addr();
        let (stop_auth, auth_stopped) = oneshot::channel::<()>();
        tokio::spawn(auth_server.run_until_stopped(async {
            let _ = auth_stopped.await;
        }));

        settings.task.auth_url = warden_common::settings::UpstreamUrl::http(auth_addr);
        let task_server = TaskServer::build(settings.task)
            .await
            .expect("task-svc builds");
        let task_addr = task_server.local_addr();
        let metrics_addr = task_server.metrics_addr();
        let metrics = task_server.auth_metrics();
        let (stop_task, task_stopped) = oneshot::channel::<()>();
        tokio::spawn(task_server.run_until_stopped(async {
            let _ = task_stopped.await;
        }));

        let mut options = ConnectOptions::new(database_url);
        options.max_connections(1).sqlx_logging(false);
        let db = Database::connect(options).await.unwrap();
        Self {
            task_addr,
            metrics_addr,
            auth: AuthServiceClient::new(channel(auth_addr).await),
            api_keys: ApiKeyServiceClient::new(channel(auth_addr).await),
            admin: AdminServiceClient::new(channel(auth_addr).await),
            tasks: TaskServiceClient::new(channel(task_addr).await),
            metrics,
            db,
            database_url: database_url.to_owned(),
            _shutdown: (stop_auth, stop_task),
            _database: database,
        }
    }

    /// Signs up over gRPC and fetches a JWT for the new session.
    pub async fn sign_up(&self, email: &str) -> User {
        let signed_up = self
            .auth
            .clone()
            .sign_up_email(auth_pb::SignUpEmailRequest {
                name: "Alice".into(),
                email: email.into(),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
            .expect("sign-up succeeds")
            .into_inner();
        let session_token = signed_up.token.expect("a session token");
        let jwt = self.jwt(&session_token).await;
        User {
            id: signed_up.user.expect("a user").id,
            session_token,
            jwt,
        }
    }

    /// A fresh JWT for a session, as `GetSession` hands it out.
    pub async fn jwt(&self, session_token: &str) -> String {
        let session = self
            .auth
            .clone()
            .get_session(bearer(auth_pb::GetSessionRequest::default(), session_token))
            .await
            .expect("GetSession succeeds")
            .into_inner();
        assert!(!session.jwt.is_empty(), "GetSession returns a JWT");
        session.jwt
    }

    pub async fn sign_out(&self, session_token: &str) {
        self.auth
            .clone()
            .sign_out(bearer(auth_pb::SignOutRequest {}, session_token))
            .await
            .expect("sign-out succeeds");
    }

    pub async fn jwks(&self) -> Vec<auth_pb::Jwk> {
        self.auth
            .clone()
            .get_jwks(auth_pb::GetJwksRequest {})
            .await
            .expect("GetJwks succeeds")
            .into_inner()
            .keys
    }

    pub async fn create(&self, token: &str, title: &str) -> Result<pb::Task, Status> {
        self.create_task(
            token,
            pb::Task {
                title: title.into(),
                ..Default::default()
            },
        )
        .await
    }

    pub async fn create_task(&self, token: &str, task: pb::Task) -> Result<pb::Task, Status> {
        let request = pb::CreateTaskRequest { task: Some(task) };
        self.tasks
            .clone()
            .create_task(bearer(request, token))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn get(&self, token: &str, id: &str) -> Result<pb::Task, Status> {
        let request = pb::GetTaskRequest { id: id.into() };
        self.tasks
            .clone()
            .get_task(bearer(request, token))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn list(
        &self,
        token: &str,
        request: pb::ListTasksRequest,
    ) -> Result<pb::ListTasksResponse, Status> {
        self.tasks
            .clone()
            .list_tasks(bearer(request, token))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Every task the caller can list, following page tokens.
    pub async fn list_all(&self, token: &str) -> Vec<pb::Task> {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .list(
                    token,
                    pb::ListTasksRequest {
                        page_token,
                        ..Default::default()
                    },
                )
                .await
                .expect("listing succeeds");
            all.extend(page.tasks);
            if page.next_page_token.is_empty() {
                return all;
            }
            page_token = page.next_page_token;
        }
    }

    pub async fn update(
        &self,
        token: &str,
        task: pb::Task,
        paths: &[&str],
    ) -> Result<pb::Task, Status> {
        let request = pb::UpdateTaskRequest {
            task: Some(task),
            update_mask: Some(prost_types::FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            }),
        };
        self.tasks
            .clone()
            .update_task(bearer(request, token))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn delete(&self, token: &str, id: &str, etag: &str) -> Result<(), Status> {
        let request = pb::DeleteTaskRequest {
            id: id.into(),
            etag: etag.into(),
        };
        self.tasks
            .clone()
            .delete_task(bearer(request, token))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn execute(&self, sql: &str) {
        self.db
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The text column `v` of every row `sql` returns.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        self.db
            .query_all_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|row| row.try_get::<String>("", "v").unwrap())
            .collect()
    }

    /// Publishes a key of the test's own in auth-svc's JWKS (as an expired key still in its grace period, so
    /// auth-svc never signs with it), for tokens that differ from genuine ones in one claim only.
    pub async fn trusted_test_key(&self) -> TestKey {
        let key = TestKey::generate(&format!("test-{}", uuid::Uuid::now_v7().simple()));
        let public = json!({"crv": "Ed25519", "x": key.x, "kty": "OKP"}).to_string();
        self.execute(&format!(
            r#"INSERT INTO jwks ("id", "publicKey", "privateKey", "createdAt", "expiresAt", "alg", "crv")
               VALUES ('{}', '{public}', '"unused"', now() - interval '1 hour', now() - interval '1 minute',
                       'EdDSA', 'Ed25519')"#,
            key.kid
        ))
        .await;
        key
    }
}

async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connects")
}

/// An Ed25519 key pair held by the test.
pub struct TestKey {
    pub kid: String,
    pub x: String,
    encoding: EncodingKey,
}

impl TestKey {
    pub fn generate(kid: &str) -> Self {
        let signing = ed25519_dalek::SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let der = signing.to_pkcs8_der().expect("PKCS#8 encoding");
        Self {
            kid: kid.to_owned(),
            x: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
        }
    }

    /// An EdDSA JWT with this key's `kid` over `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing")
    }
}

/// Claims as auth-svc writes them for `user_id`, valid for 15 minutes from now.
pub fn claims(user_id: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "id": user_id,
        "name": "Alice",
        "email": "alice@example.com",
        "emailVerified": false,
        "image": null,
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "role": null,
        "banned": null,
        "banReason": null,
        "banExpires": null,
        "iat": now,
        "sub": user_id,
        "exp": now + 900,
        "iss": BASE_URL,
        "aud": BASE_URL,
    })
}

pub fn kid_of(jwt: &str) -> String {
    jsonwebtoken::decode_header(jwt)
        .expect("a JWT header")
        .kid
        .expect("a kid")
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
    assert_eq!(info.reason, reason, "{status:?}");
    assert_eq!(info.domain, "warden.task.v1");
}

pub fn assert_unauthenticated(result: Result<impl std::fmt::Debug, Status>) {
    let status = result.expect_err("the call is refused");
    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
    assert_eq!(status.message(), "Unauthorized");
}
