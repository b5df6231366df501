use std::time::Duration;
use warden_common::settings::UpstreamUrl;

use reqwest::{Response, header::HeaderMap};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use warden_common::AuthSecret;
use warden_testkit::TestDb;

pub const PASSWORD: &str = "correct horse battery";
pub const SESSION_COOKIE: &str = "better-auth.session_token";

/// Runs one async test body against both deployments.
macro_rules! on_both {
    ($( $(#[$meta:meta])* async fn $name:ident($app:ident: TestApp) $body:block )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn case($app: crate::helpers::TestApp) $body

                #[tokio::test]
                async fn on_postgres_and_redis() {
                    case(crate::helpers::TestApp::postgres().await).await
                }

                #[tokio::test]
                async fn on_the_all_in_one_with_sqlite() {
                    case(crate::helpers::TestApp::all_in_one().await).await
                }
            }
        )*
    };
}
pub(crate) use on_both;

pub fn secret() -> AuthSecret {
    AuthSecret::parse("x".repeat(32).into()).unwrap()
}

pub enum Backend {
    Postgres {
        _db: TestDb,
        redis_prefix: String,
        database_url: String,
    },
    Sqlite {
        _dir: tempfile::TempDir,
    },
}

pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
    pub backend: Backend,
    _stop: Vec<oneshot::Sender<()>>,
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

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl TestApp {
    pub async fn postgres() -> Self {
        Self::postgres_with(|_| {}).await
    }

    /// auth-svc and task-svc on their own PostgreSQL database and Redis prefix, and the gateway in front of them.
    pub async fn postgres_with(adjust: impl FnOnce(&mut gateway::Config)) -> Self {
        Self::postgres_configured(|_| {}, adjust).await
    }

    /// Like [`Self::postgres_with`], with auth-svc's settings adjusted too (SMTP, email verification, …).
    pub async fn postgres_configured(
        adjust_auth: impl FnOnce(&mut auth_svc::Config),
        adjust: impl FnOnce(&mut gateway::Config),
    ) -> Self {
        Self::postgres_serving(adjust_auth, adjust, |server, _| server).await
    }

    /// Like [`Self::postgres_configured`], with the gateway server itself adjusted once built (given its config).
    pub async fn postgres_serving(
        adjust_auth: impl FnOnce(&mut auth_svc::Config),
        adjust: impl FnOnce(&mut gateway::Config),
        adjust_server: impl FnOnce(gateway::GatewayServer, &gateway::Config) -> gateway::GatewayServer,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::postgres_on(listener, adjust_auth, adjust, adjust_server).await
    }

    /// Like [`Self::postgres_serving`], the gateway on `listener`, bound beforehand so that the public URL is known
    /// first (an identity provider must know Warden's callback URL before Warden knows the provider).
    pub async fn postgres_on(
        listener: tokio::net::TcpListener,
        adjust_auth: impl FnOnce(&mut auth_svc::Config),
        adjust: impl FnOnce(&mut gateway::Config),
        adjust_server: impl FnOnce(gateway::GatewayServer, &gateway::Config) -> gateway::GatewayServer,
    ) -> Self {
        let db = TestDb::new().await;
        let redis_prefix = warden_testkit::redis_prefix();
        let listen = listener.local_addr().unwrap();
        let base_url = format!("http://{listen}");

        let mut auth = auth_svc::Config::new(db.url.parse().unwrap(), secret());
        auth.listen = "127.0.0.1:0".parse().unwrap();
        auth.db_max_connections = 3;
        auth.redis_url = Some(warden_testkit::redis_url().parse().unwrap());
        auth.redis_key_prefix = redis_prefix.clone();
        auth.base_url = base_url.parse().unwrap();
        auth.rate_limit_enabled = false;
        adjust_auth(&mut auth);
        let auth = auth_svc::AuthServer::build(auth).await.unwrap();
        let auth_url = UpstreamUrl::http(auth.local_addr());
        let (auth_stop, auth_signal) = stopper();
        tokio::spawn(auth.run_until_stopped(auth_signal));

        let mut tasks = task_svc::Config::new(db.url.parse().unwrap());
        tasks.listen = "127.0.0.1:0".parse().unwrap();
        tasks.db_max_connections = 2;
        tasks.auth_url = auth_url.clone();
        tasks.base_url = base_url.parse().unwrap();
        let tasks = task_svc::TaskServer::build(tasks).await.unwrap();
        let task_url = UpstreamUrl::http(tasks.local_addr());
        let (tasks_stop, tasks_signal) = stopper();
        tokio::spawn(tasks.run_until_stopped(tasks_signal));

        let mut config = gateway::Config {
            listen,
            auth_url,
            task_url,
            secret: secret(),
            base_url: base_url.parse().unwrap(),
            trusted_origins: "http://trusted.example".parse().unwrap(),
            limits: gateway::config::Limits {
                rate_limit_enabled: false,
                ..Default::default()
            },
            cookies: Default::default(),
            tls_ca: None,
            plugins: Default::default(),
        };
        adjust(&mut config);
        let server = gateway::GatewayServer::build_on(config.clone(), listener).unwrap();
        let server = adjust_server(server, &config);
        let base_url = format!("http://{}", server.local_addr());
        let (gateway_stop, gateway_signal) = stopper();
        tokio::spawn(server.run_until_stopped(gateway_signal));
        Self {
            base_url,
            http: client(),
            backend: Backend::Postgres {
                database_url: db.url.clone(),
                _db: db,
                redis_prefix,
            },
            _stop: vec![auth_stop, tasks_stop, gateway_stop],
        }
    }

    /// The all-in-one, as `cargo run` starts it, in a temporary data directory.
    pub async fn all_in_one() -> Self {
        Self::all_in_one_with(|_| {}).await
    }

    /// Like [`Self::all_in_one`], with its settings adjusted.
    pub async fn all_in_one_with(adjust: impl FnOnce(&mut warden::Settings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = warden::Settings::new(dir.path());
        settings.gateway_addr = "127.0.0.1:0".parse().unwrap();
        settings.auth_addr = "127.0.0.1:0".parse().unwrap();
        settings.task_addr = "127.0.0.1:0".parse().unwrap();
        settings.secret = Some("x".repeat(32).into());
        settings.trusted_origins = "http://trusted.example".parse().unwrap();
        settings.rate_limit_enabled = false;
        adjust(&mut settings);
        let warden = warden::Warden::build(settings).await.unwrap();
        let base_url = warden.base_url().to_owned();
        let (stop, signal) = stopper();
        tokio::spawn(warden.run_until_stopped(signal));
        Self {
            base_url,
            http: client(),
            backend: Backend::Sqlite { _dir: dir },
            _stop: vec![stop],
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A POST as a browser on the app's own origin sends it.
    pub async fn post(&self, path: &str, body: Value, cookie: Option<&str>) -> Response {
        let mut request = self
            .http
            .post(self.url(path))
            .header("origin", &self.base_url)
            .json(&body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut request = self.http.get(self.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    pub async fn sign_up(&self, email: &str) -> Response {
        self.post(
            "/api/auth/sign-up/email",
            json!({"name": "Ada", "email": email, "password": PASSWORD}),
            None,
        )
        .await
    }

    /// Signs up and returns the `name=value` cookie pair to send back.
    pub async fn signed_up_cookie(&self, email: &str) -> String {
        let response = self.sign_up(email).await;
        assert_eq!(response.status(), 200);
        session_cookie(response.headers()).expect("session cookie set")
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/auth/sign-in/email",
            json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    pub async fn session(&self, cookie: &str) -> Value {
        let response = self.get("/api/auth/get-session", Some(cookie)).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// The signed-in user's id.
    pub async fn user_id(&self, cookie: &str) -> String {
        let session = self.session(cookie).await;
        session["user"]["id"].as_str().unwrap().to_owned()
    }

    /// A request as a browser on the app's own origin sends it, with the cookie if any.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, self.url(path))
            .header("origin", &self.base_url);
        match cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    /// POST /api/v1/tasks.
    pub async fn create_task(&self, cookie: &str, body: Value) -> Response {
        self.request(reqwest::Method::POST, "/api/v1/tasks", Some(cookie))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a task titled `title` and returns its JSON.
    pub async fn new_task(&self, cookie: &str, title: &str) -> Value {
        let response = self.create_task(cookie, json!({ "title": title })).await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    /// GET /api/v1/tasks/{id}.
    pub async fn get_task(&self, cookie: &str, id: &str) -> Response {
        self.get(&format!("/api/v1/tasks/{id}"), Some(cookie)).await
    }

    /// GET /api/v1/tasks?{query}.
    pub async fn list_tasks(&self, cookie: &str, query: &str) -> Response {
        self.get(&format!("/api/v1/tasks?{query}"), Some(cookie))
            .await
    }

    /// PATCH /api/v1/tasks/{id}, with `If-Match` when given.
    pub async fn patch_task(
        &self,
        cookie: &str,
        id: &str,
        body: Value,
        if_match: Option<&str>,
    ) -> Response {
        let mut request = self
            .request(
                reqwest::Method::PATCH,
                &format!("/api/v1/tasks/{id}"),
                Some(cookie),
            )
            .json(&body);
        if let Some(etag) = if_match {
            request = request.header("if-match", etag);
        }
        request.send().await.unwrap()
    }

    /// DELETE /api/v1/tasks/{id}, with `If-Match` when given.
    pub async fn delete_task(&self, cookie: &str, id: &str, if_match: Option<&str>) -> Response {
        let mut request = self.request(
            reqwest::Method::DELETE,
            &format!("/api/v1/tasks/{id}"),
            Some(cookie),
        );
        if let Some(etag) = if_match {
            request = request.header("if-match", etag);
        }
        request.send().await.unwrap()
    }
}

/// Every `set-cookie` header, as sent.
pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The `name=value` pair of the session cookie a response sets, unless it deletes it.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    set_cookies(headers)
        .into_iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")) && !c.contains("Max-Age=0"))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// The raw session token inside a `name=value` cookie pair.
pub fn token_of(cookie: &str) -> String {
    let wire = cookie.split_once('=').unwrap().1;
    secret().verify_cookie(wire).expect("cookie verifies")
}

/// Asserts a Better Auth error body.
pub async fn assert_error(response: Response, status: u16, code: &str, message: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"message": message, "code": code}));
}

/// Asserts the three deletion cookies Better Auth sends on sign-out.
pub fn assert_deletion_cookies(headers: &HeaderMap) {
    let cookies = set_cookies(headers);
    for name in [
        "better-auth.session_token",
        "better-auth.session_data",
        "better-auth.dont_remember",
    ] {
        let expected = format!("{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
        assert!(cookies.contains(&expected), "{expected} not in {cookies:?}");
    }
}
