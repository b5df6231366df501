//! Abuse protection end to end, with the limits on: Better Auth's rate limits by client address (shared by gateway
//! replicas through Redis; `X-Forwarded-For` believed only from trusted proxies; auth-svc not counting again what
//! the gateway counted), the body size and time limits, security headers, and the redirect URL checks.

use std::time::Duration;
use warden_common::settings::UpstreamUrl;

use reqwest::Response;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use warden_testkit::TestDb;

use crate::helpers::{PASSWORD, assert_error, secret, session_cookie};

const BASE_URL: &str = "http://localhost:3000";

/// auth-svc (limits on) behind one or more gateway replicas (limits on) sharing one Redis prefix.
struct Limited {
    gateways: Vec<String>,
    http: reqwest::Client,
    _db: TestDb,
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

impl Limited {
    async fn start(replicas: usize, adjust: impl Fn(&mut gateway::config::Limits)) -> Self {
        let db = TestDb::new().await;
        let prefix = warden_testkit::redis_prefix();
        let mut auth = auth_svc::Config::new(db.url.parse().unwrap(), secret());
        auth.listen = "127.0.0.1:0".parse().unwrap();
        auth.db_max_connections = 2;
        auth.redis_url = Some(warden_testkit::redis_url().parse().unwrap());
        auth.redis_key_prefix = prefix.clone();
        auth.base_url = BASE_URL.parse().unwrap();
        // On, and trusting the gateways on loopback (the default): it must not count their requests again.
        auth.rate_limit_enabled = true;
        let auth = auth_svc::AuthServer::build(auth).await.unwrap();
        let auth_url = UpstreamUrl::http(auth.local_addr());
        let (auth_stop, auth_signal) = stopper();
        tokio::spawn(auth.run_until_stopped(auth_signal));
        let mut stops = vec![auth_stop];

        let mut gateways = Vec::new();
        for _ in 0..replicas {
            let mut limits = gateway::config::Limits {
                rate_limit_enabled: true,
                redis_url: Some(warden_testkit::redis_url().parse().unwrap()),
                redis_key_prefix: prefix.clone(),
                ..Default::default()
            };
            adjust(&mut limits);
            let server = gateway::GatewayServer::build(gateway::Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                auth_url: auth_url.clone(),
                // Not needed here: nothing listens on port 1.
                task_url: UpstreamUrl::http(([127, 0, 0, 1], 1).into()),
                secret: secret(),
                base_url: BASE_URL.parse().unwrap(),
                trusted_origins: Default::default(),
                limits,
                cookies: Default::default(),
                tls_ca: None,
                plugins: Default::default(),
            })
            .await
            .unwrap();
            gateways.push(format!("http://{}", server.local_addr()));
            let (stop, signal) = stopper();
            tokio::spawn(server.run_until_stopped(signal));
            stops.push(stop);
        }
        Self {
            gateways,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            _db: db,
            _stop: stops,
        }
    }

    async fn post(
        &self,
        replica: usize,
        path: &str,
        body: Value,
        forwarded_for: Option<&str>,
    ) -> Response {
        let mut request = self
            .http
            .post(format!("{}{path}", self.gateways[replica]))
            .json(&body);
        if let Some(ip) = forwarded_for {
            request = request.header("x-forwarded-for", ip);
        }
        request.send().await.unwrap()
    }

    async fn sign_up(&self, email: &str) {
        let body = json!({"name": "Ada", "email": email, "password": PASSWORD});
        let response = self.post(0, "/api/auth/sign-up/email", body, None).await;
        assert_eq!(response.status(), 200);
    }

    async fn sign_in(&self, replica: usize, email: &str, forwarded_for: Option<&str>) -> Response {
        let body = json!({"email": email, "password": PASSWORD});
        self.post(replica, "/api/auth/sign-in/email", body, forwarded_for)
            .await
    }

    async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.gateways[0]))
            .send()
            .await
            .unwrap()
    }
}

/// Asserts Better Auth's 429 and returns its `X-Retry-After`.
async fn assert_too_many_requests(response: Response) -> u64 {
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["x-retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "Too many requests. Please try again later."})
    );
    retry
}

fn assert_security_headers(response: &Response) {
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["content-security-policy"], "frame-ancestors 'none'");
}

#[tokio::test]
async fn the_fourth_sign_in_within_ten_seconds_is_429_with_x_retry_after() {
    let app = Limited::start(1, |_| {}).await;
    app.sign_up("ada@example.com").await;
    // All three succeed: auth-svc, behind the gateway, does not count them a second time.
    for _ in 0..3 {
        assert_eq!(app.sign_in(0, "ada@example.com", None).await.status(), 200);
    }
    let refused = app.sign_in(0, "ada@example.com", None).await;
    assert_security_headers(&refused);
    let retry = assert_too_many_requests(refused).await;
    assert!((1..=10).contains(&retry), "{retry}");
    // The limit is per path: the same client still reads its session.
    assert_eq!(app.get("/api/auth/get-session").await.status(), 200);
}

#[tokio::test]
async fn a_social_callback_is_limited_like_a_sign_in() {
    let app = Limited::start(1, |_| {}).await;
    // Guessed codes: each is sent back to the error page, and the fourth within ten seconds is not tried at all.
    for attempt in 0..3 {
        let path = format!("/api/auth/callback/google?state=s{attempt}&code=c{attempt}");
        assert_eq!(app.get(&path).await.status(), 302, "{path}");
    }
    let refused = app.get("/api/auth/callback/google?state=s&code=c").await;
    let retry = assert_too_many_requests(refused).await;
    assert!((1..=10).contains(&retry), "{retry}");
}

#[tokio::test]
async fn guessing_second_factor_codes_is_limited_like_a_sign_in() {
    let app = Limited::start(1, |_| {}).await;
    // Without a challenge each guess is refused; the fourth within ten seconds is not even looked at.
    for _ in 0..3 {
        let response = app
            .post(
                0,
                "/api/auth/two-factor/verify-totp",
                json!({"code": "123456"}),
                None,
            )
            .await;
        assert_error(
            response,
            401,
            "INVALID_TWO_FACTOR_COOKIE",
            "Invalid two factor cookie",
        )
        .await;
    }
    let refused = app
        .post(
            0,
            "/api/auth/two-factor/verify-totp",
            json!({"code": "123456"}),
            None,
        )
        .await;
    let retry = assert_too_many_requests(refused).await;
    assert!((1..=10).contains(&retry), "{retry}");
}

#[tokio::test]
async fn two_gateway_replicas_sharing_redis_count_together() {
    let app = Limited::start(2, |_| {}).await;
    app.sign_up("replicas@example.com").await;
    for replica in [0, 1, 0] {
        let response = app.sign_in(replica, "replicas@example.com", None).await;
        assert_eq!(response.status(), 200, "replica {replica}");
    }
    assert_too_many_requests(app.sign_in(1, "replicas@example.com", None).await).await;
    assert_too_many_requests(app.sign_in(0, "replicas@example.com", None).await).await;
}

#[tokio::test]
async fn a_forged_x_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let app = Limited::start(1, |_| {}).await;
    app.sign_up("forger@example.com").await;
    let mut cookie = None;
    for n in 0..3 {
        let forged = format!("203.0.113.{n}");
        let response = app.sign_in(0, "forger@example.com", Some(&forged)).await;
        assert_eq!(response.status(), 200);
        cookie = session_cookie(response.headers());
    }
    let refused = app
        .sign_in(0, "forger@example.com", Some("203.0.113.77"))
        .await;
    assert_too_many_requests(refused).await;
    // auth-svc was told the socket peer, not the forged address.
    let session: Value = app
        .http
        .get(format!("{}/api/auth/get-session", app.gateways[0]))
        .header("cookie", cookie.unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["session"]["ipAddress"], "127.0.0.1");
}

#[tokio::test]
async fn behind_a_trusted_proxy_x_forwarded_for_picks_the_bucket() {
    let app = Limited::start(1, |limits| {
        limits.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()].into();
    })
    .await;
    app.sign_up("proxied@example.com").await;
    for n in 0..5 {
        let client = format!("198.51.100.{n}");
        // A proxy appends the address it saw; what the client claimed before it is ignored.
        let chain = format!("10.9.9.9, {client}");
        let response = app.sign_in(0, "proxied@example.com", Some(&chain)).await;
        assert_eq!(response.status(), 200, "{client}");
        let cookie = session_cookie(response.headers()).unwrap();
        let session: Value = app
            .http
            .get(format!("{}/api/auth/get-session", app.gateways[0]))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(session["session"]["ipAddress"], client.as_str());
    }
    for _ in 0..2 {
        let response = app
            .sign_in(0, "proxied@example.com", Some("198.51.100.0"))
            .await;
        assert_eq!(response.status(), 200);
    }
    let refused = app
        .sign_in(0, "proxied@example.com", Some("198.51.100.0"))
        .await;
    assert_too_many_requests(refused).await;
    let other = app
        .sign_in(0, "proxied@example.com", Some("198.51.100.1"))
        .await;
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = Limited::start(1, |_| {}).await;
    let padding = "x".repeat(1024 * 1024 + 1);
    let body = json!({"email": "big@example.com", "password": PASSWORD, "name": padding});
    let response = app.post(0, "/api/auth/sign-up/email", body, None).await;
    assert_security_headers(&response);
    assert_error(
        response,
        413,
        "PAYLOAD_TOO_LARGE",
        "Request body is too large",
    )
    .await;
    // Below the limit the same route answers normally.
    let body =
        json!({"email": "small@example.com", "password": PASSWORD, "name": "x".repeat(1000)});
    let response = app.post(0, "/api/auth/sign-up/email", body, None).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let app = Limited::start(1, |limits| limits.body_limit = 2048).await;
    let body = json!({"token": "t".repeat(4096)});
    let response = app.post(0, "/api/auth/revoke-session", body, None).await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn security_headers_are_on_every_answer_but_a_page_keeps_its_own_policy() {
    let app = Limited::start(1, |_| {}).await;
    let ok = app.get("/api/auth/ok").await;
    assert_eq!(ok.status(), 200);
    assert_security_headers(&ok);
    let missing = app.get("/api/auth/nope").await;
    assert_eq!(missing.status(), 404);
    assert_security_headers(&missing);
    let error = app
        .post(0, "/api/auth/sign-in/email", json!({}), None)
        .await;
    assert_eq!(error.status(), 400);
    assert_security_headers(&error);
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn a_request_that_takes_too_long_is_408() {
    let app = Limited::start(1, |limits| {
        limits.request_timeout = Duration::from_millis(500);
    })
    .await;
    let address = app.gateways[0].trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // Promises 100 bytes of body and sends a few.
    stream
        .write_all(
            b"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered before the client gave up")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"REQUEST_TIMEOUT""#), "{answer}");
}

#[tokio::test]
async fn every_redirect_url_is_checked_on_every_route() {
    let app = Limited::start(1, |_| {}).await;
    let cases = [
        (
            "/api/auth/sign-in/email",
            json!({"email": "a@example.com", "password": PASSWORD, "callbackURL": "https://evil.example"}),
            "INVALID_CALLBACK_URL",
            "Invalid callbackURL",
        ),
        (
            "/api/auth/sign-out",
            json!({"redirectTo": "//evil.example"}),
            "INVALID_REDIRECT_URL",
            "Invalid redirectURL",
        ),
        (
            "/api/auth/sign-in/email",
            json!({"email": "a@example.com", "password": PASSWORD, "errorCallbackURL": "https://evil.example/e"}),
            "INVALID_ERROR_CALLBACK_URL",
            "Invalid errorCallbackURL",
        ),
        (
            "/api/auth/sign-up/email",
            json!({"name": "A", "email": "a@example.com", "password": PASSWORD, "newUserCallbackURL": "https://evil.example/n"}),
            "INVALID_NEW_USER_CALLBACK_URL",
            "Invalid newUserCallbackURL",
        ),
    ];
    for (path, body, code, message) in cases {
        let response = app.post(0, path, body, None).await;
        assert_error(response, 403, code, message).await;
    }
    // The links a mail carries are GETs: their callbackURL is checked too.
    let response = app
        .get("/api/auth/verify-email?token=t&callbackURL=https%3A%2F%2Fevil.example")
        .await;
    assert_error(response, 403, "INVALID_CALLBACK_URL", "Invalid callbackURL").await;
    // Relative paths and the app's own origin are fine.
    let body = json!({"redirectTo": "/after", "callbackURL": format!("{BASE_URL}/x")});
    let response = app.post(0, "/api/auth/sign-out", body, None).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_all_in_one_limits_sign_ins_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = warden::Settings::new(dir.path());
    settings.gateway_addr = "127.0.0.1:0".parse().unwrap();
    settings.auth_addr = "127.0.0.1:0".parse().unwrap();
    settings.task_addr = "127.0.0.1:0".parse().unwrap();
    settings.secret = Some("x".repeat(32).into());
    assert!(settings.rate_limit_enabled, "on by default");
    let warden = warden::Warden::build(settings).await.unwrap();
    let base_url = warden.base_url().to_owned();
    let (stop, signal) = stopper();
    tokio::spawn(warden.run_until_stopped(signal));
    let http = reqwest::Client::new();
    let sign_in = || {
        http.post(format!("{base_url}/api/auth/sign-in/email"))
            .json(&json!({"email": "nobody@example.com", "password": PASSWORD}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(sign_in().await.unwrap().status(), 401);
    }
    assert_too_many_requests(sign_in().await.unwrap()).await;
    drop(stop);
}

#[tokio::test]
async fn an_attacker_rotating_addresses_still_meets_the_account_back_off() {
    let app = Limited::start(1, |limits| {
        limits.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()].into();
    })
    .await;
    app.sign_up("target@example.com").await;
    for n in 0..5 {
        let body = json!({"email": "target@example.com", "password": "wrong password"});
        let address = format!("192.0.2.{n}");
        let response = app
            .post(0, "/api/auth/sign-in/email", body, Some(&address))
            .await;
        assert_eq!(response.status(), 401);
    }
    // A fresh address, the right password: still inside the account's back-off.
    let refused = app
        .sign_in(0, "target@example.com", Some("192.0.2.100"))
        .await;
    let retry = assert_too_many_requests(refused).await;
    assert_eq!(retry, 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = app
        .sign_in(0, "target@example.com", Some("192.0.2.101"))
        .await;
    assert_eq!(response.status(), 200);
}
