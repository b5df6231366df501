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

/// The split binaries' settings that the all-in-one does not take, and why.
const NOT_FOR_THE_ALL_IN_ONE: &[(&str, &str)] = &[
    (
        "AUTH_URL",
        "auth-svc runs in the process: the gateway calls it in process, task-svc at its own port",
    ),
    (
        "TASK_URL",
        "task-svc runs in the process: the gateway calls it in process",
    ),
    (
        "METRICS_ADDR",
        "one registry for the process, served at the gateway's GET /metrics (METRICS_ALLOW)",
    ),
    (
        "REDIS_URL",
        "one process: the session cache and the rate-limit counts live in it",
    ),
    ("REDIS_KEY_PREFIX", "no Redis, see REDIS_URL"),
];

fn variables(command: &clap::Command) -> Vec<String> {
    command
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_all_in_one_takes_every_setting_of_the_split_binaries_that_applies_to_it() {
    use clap::CommandFactory;
    let mut all_in_one = warden::config::Cli::command();
    let taken = variables(&all_in_one);
    let help = all_in_one.render_long_help().to_string();
    let split = [
        ("auth-svc", auth_svc::config::Cli::command()),
        ("task-svc", task_svc::config::Cli::command()),
        ("gateway", gateway::config::Cli::command()),
    ];
    let mut seen = Vec::new();
    for (binary, command) in &split {
        for variable in variables(command) {
            let reason = NOT_FOR_THE_ALL_IN_ONE
                .iter()
                .find(|(name, _)| *name == variable);
            match reason {
                Some((_, why)) => assert!(
                    !taken.contains(&variable),
                    "{variable} is listed as not applying ({why}) but the all-in-one takes it"
                ),
                None => {
                    assert!(
                        taken.contains(&variable),
                        "{binary}'s {variable} is missing from the all-in-one"
                    );
                    assert!(help.contains(&variable), "{variable} is not in --help");
                }
            }
            seen.push(variable);
        }
    }
    for (variable, _) in NOT_FOR_THE_ALL_IN_ONE {
        assert!(
            seen.iter().any(|seen| seen == variable),
            "{variable} is no split binary's setting"
        );
    }
    for variable in [
        "CLEANUP_INTERVAL",
        "TLS_CERT",
        "TLS_KEY",
        "METRICS_ALLOW",
        "TRUSTED_PROXIES",
        "PLUGINS",
    ] {
        assert!(taken.iter().any(|taken| taken == variable), "{variable}");
    }
}

#[test]
fn a_bad_setting_is_one_line_naming_the_variable_and_exit_code_2_and_creates_nothing() {
    for (variable, value, line) in [
        ("PLUGINS", "sso", "error: PLUGINS: `sso` is not a plugin"),
        (
            "BASE_URL",
            "localhost:3000",
            "error: BASE_URL: `localhost:3000` must be",
        ),
        (
            "TRUSTED_PROXIES",
            "lb",
            "error: TRUSTED_PROXIES: `lb` is not an IP address",
        ),
        (
            "CLEANUP_INTERVAL",
            "hourly",
            "error: CLEANUP_INTERVAL: invalid value 'hourly'",
        ),
        (
            "AUTH_SECRETS",
            "1:short",
            "error: AUTH_SECRETS: must start with a secret",
        ),
        (
            "GITHUB_CLIENT_SECRET",
            "s3cret",
            "error: GITHUB_CLIENT_ID: required with GITHUB_CLIENT_SECRET",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_warden"))
            .current_dir(dir.path())
            .env_clear()
            .env(variable, value)
            .output()
            .unwrap();
        warden_testkit::assert_setting_refused(&output, line);
        if variable != "AUTH_SECRETS" {
            assert!(!dir.path().join(".warden").exists(), "{variable}");
        }
    }
}

/// Reads a child's pipe to its end on a thread of its own, so the child never blocks on a full pipe.
fn drain(pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        BufReader::new(pipe).read_to_string(&mut text).unwrap();
        text
    })
}

/// The value of cookie `name` among a response's `Set-Cookie` headers, percent-decoded.
fn cookie_value(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|header| header.to_str().ok())
        .find_map(|header| header.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .map(|value| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned()
        })
}

/// `name=value` as a browser sends a cookie back: the value percent-encoded as it was set.
fn cookie_pair(name: &str, value: &str) -> String {
    format!(
        "{name}={}",
        percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// A client that, as a test wants, follows no redirect.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The all-in-one at `LOG_LEVEL=debug` in `dir`, its gateway on `http_port`, with `env` besides, once it has printed
/// its URL; its output is read on threads until [`LoggedWarden::stop`] hands it back.
struct LoggedWarden {
    child: std::process::Child,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl LoggedWarden {
    fn start(dir: &std::path::Path, http_port: u16, env: &[(&str, String)]) -> Self {
        let base_url = format!("http://127.0.0.1:{http_port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
            .current_dir(dir)
            .env_remove("AUTH_SECRET")
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .env("LOG_LEVEL", "debug")
            .env("BASE_URL", &base_url)
            .env("GATEWAY_ADDR", format!("127.0.0.1:{http_port}"))
            .env("AUTH_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("TASK_ADDR", format!("127.0.0.1:{}", free_port()))
            .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = drain(child.stderr.take().unwrap());
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        while !first.contains(&base_url) {
            first.clear();
            assert!(stdout.read_line(&mut first).unwrap() > 0, "no URL printed");
        }
        Self {
            child,
            stdout: drain(stdout),
            stderr,
        }
    }

    /// Stops it with Ctrl-C, as an operator would, and returns everything it wrote.
    fn stop(mut self) -> String {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(self.child.wait().unwrap().success());
        format!(
            "{}{}",
            self.stdout.join().unwrap(),
            self.stderr.join().unwrap()
        )
    }
}

#[tokio::test]
async fn a_social_sign_in_logged_at_debug_leaves_no_secret_code_or_token_in_the_logs() {
    use warden_testkit::providers::{OidcProvider, TestClient};
    const CLIENT_SECRET: &str = "client-secret-8d1f3c";
    let dir = tempfile::tempdir().unwrap();
    let http_port = free_port();
    let base_url = format!("http://127.0.0.1:{http_port}");
    let provider = OidcProvider::start(
        &[TestClient {
            id: "warden".into(),
            secret: CLIENT_SECRET.into(),
            redirect_uris: vec![format!("{base_url}/api/auth/callback/oidc")],
        }],
        &[],
    )
    .await;
    let warden = LoggedWarden::start(
        dir.path(),
        http_port,
        &[
            ("OAUTH_PROVIDERS", "oidc".into()),
            (
                "OAUTH_OIDC_DISCOVERY_URL",
                format!("{}/.well-known/openid-configuration", provider.issuer()),
            ),
            ("OAUTH_OIDC_CLIENT_ID", "warden".into()),
            ("OAUTH_OIDC_CLIENT_SECRET", CLIENT_SECRET.into()),
        ],
    );

    // Sign in through the provider, then hand out, refresh and use the provider's tokens.
    let http = client();
    let started = http
        .post(format!("{base_url}/api/auth/sign-in/social"))
        .json(&serde_json::json!({"provider": "oidc", "callbackURL": "/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 200);
    let state_cookie = cookie_value(&started, "better-auth.state").expect("a state cookie");
    let url = started.json::<serde_json::Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let back = provider
        .sign_in(&url, "ada@example.com", "ada password", true)
        .await;
    let query: Vec<(String, String)> = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap()
    };
    let (code, state) = (param("code"), param("state"));
    let signed_in = http
        .get(&back)
        .header("cookie", cookie_pair("better-auth.state", &state_cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 302);
    let session = cookie_value(&signed_in, "better-auth.session_token").expect("signed in");
    let session_token = session.split('.').next().unwrap().to_owned();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{base_url}{path}"))
            .header("authorization", format!("Bearer {session_token}"))
            .json(&body)
            .send()
    };
    let accounts: serde_json::Value = http
        .get(format!("{base_url}/api/auth/list-accounts"))
        .header("authorization", format!("Bearer {session_token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account_id = accounts[0]["id"].as_str().unwrap().to_owned();
    let selection = serde_json::json!({"accountId": account_id});
    let tokens: serde_json::Value = post("/api/auth/get-access-token", selection.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refreshed: serde_json::Value = post("/api/auth/refresh-token", selection.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let info = http
        .get(format!(
            "{base_url}/api/auth/account-info?accountId={account_id}"
        ))
        .header("authorization", format!("Bearer {session_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200, "{:?}", info.text().await);

    let logs = warden.stop();
    assert!(
        logs.contains("http.route=/api/auth/refresh-token"),
        "the requests were logged at all"
    );
    let text = |value: &serde_json::Value| value.as_str().expect("a token").to_owned();
    let secrets = [
        ("the client secret", CLIENT_SECRET.to_owned()),
        ("the authorization code", code),
        ("the state", state),
        ("the state cookie", state_cookie),
        ("the session token", session_token.clone()),
        ("the access token", text(&tokens["accessToken"])),
        ("the ID token", text(&tokens["idToken"])),
        (
            "the refreshed access token",
            text(&refreshed["accessToken"]),
        ),
        ("the refresh token", text(&refreshed["refreshToken"])),
    ];
    for (what, secret) in secrets {
        assert!(secret.len() >= 16, "{what} is a real value: {secret}");
        assert!(!logs.contains(&secret), "{what} is in the logs");
    }
}

#[tokio::test]
async fn two_factor_logged_at_debug_leaves_no_secret_code_challenge_or_token_in_the_logs() {
    use serde_json::json;
    use warden_testkit::totp;
    let dir = tempfile::tempdir().unwrap();
    let http_port = free_port();
    let base_url = format!("http://127.0.0.1:{http_port}");
    let warden = LoggedWarden::start(
        dir.path(),
        http_port,
        &[("RATE_LIMIT_ENABLED", "false".into())],
    );

    let http = client();
    let post = |path: &str, body: serde_json::Value, cookie: Option<String>| {
        let mut request = http
            .post(format!("{base_url}{path}"))
            .header("origin", &base_url)
            .json(&body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    const PASSWORD: &str = "correct horse battery";
    let signed_up = post(
        "/api/auth/sign-up/email",
        json!({"name": "Ada", "email": "ada@example.com", "password": PASSWORD}),
        None,
    )
    .await
    .unwrap();
    let session = cookie_value(&signed_up, "better-auth.session_token").unwrap();
    let cookie = cookie_pair;
    let enabled: serde_json::Value = post(
        "/api/auth/two-factor/enable",
        json!({"password": PASSWORD}),
        Some(cookie("better-auth.session_token", &session)),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let uri = enabled["totpURI"].as_str().unwrap().to_owned();
    let enrolment_code = totp::code(&uri, 0);
    let verified = post(
        "/api/auth/two-factor/verify-totp",
        json!({"code": enrolment_code}),
        Some(cookie("better-auth.session_token", &session)),
    )
    .await
    .unwrap();
    assert_eq!(verified.status(), 200);
    let challenged = post(
        "/api/auth/sign-in/email",
        json!({"email": "ada@example.com", "password": PASSWORD}),
        None,
    )
    .await
    .unwrap();
    let challenge = cookie_value(&challenged, "better-auth.two_factor").expect("a challenge");
    let sent = post(
        "/api/auth/two-factor/send-otp",
        json!({}),
        Some(cookie("better-auth.two_factor", &challenge)),
    )
    .await
    .unwrap();
    assert_eq!(sent.status(), 200);
    let sign_in_code = totp::code(&uri, 1);
    let completed = post(
        "/api/auth/two-factor/verify-totp",
        json!({"code": sign_in_code, "trustDevice": true}),
        Some(cookie("better-auth.two_factor", &challenge)),
    )
    .await
    .unwrap();
    assert_eq!(completed.status(), 200);
    let trust = cookie_value(&completed, "better-auth.trust_device").expect("a trusted device");
    // The mailed code, read from the development outbox.
    let outbox: serde_json::Value = http
        .get(format!("{base_url}/api/dev/outbox"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mail = outbox[0]["text"].as_str().unwrap().to_owned();
    let mailed_code: String = mail
        .split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .unwrap()
        .to_owned();

    // An administrator resets the second factor: a security event in the logs.
    let admin = post(
        "/api/auth/sign-up/email",
        json!({"name": "Root", "email": "root@example.com", "password": PASSWORD}),
        None,
    )
    .await
    .unwrap();
    let admin_session = cookie_value(&admin, "better-auth.session_token").unwrap();
    let db = sea_orm::Database::connect(warden_testkit::sqlite_url(&dir.path().join(".warden")))
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        r#"UPDATE "user" SET role = 'admin' WHERE email = 'root@example.com'"#,
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let user_id = completed.json::<serde_json::Value>().await.unwrap()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset = post(
        "/api/warden/admin/reset-two-factor",
        json!({"userId": user_id}),
        Some(cookie("better-auth.session_token", &admin_session)),
    )
    .await
    .unwrap();
    assert_eq!(reset.status(), 200);

    let logs = warden.stop();
    assert!(
        logs.contains("http.route=/api/auth/two-factor/verify-totp"),
        "the requests were logged at all"
    );
    let event = logs
        .lines()
        .find(|line| line.contains("security_event=\"two_factor_reset\""))
        .expect("the reset is logged as a security event");
    assert!(
        event.contains("WARN") && event.contains(&user_id),
        "{event}"
    );
    let base32_secret = url::Url::parse(&uri)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == "secret")
        .unwrap()
        .1
        .into_owned();
    let raw_secret = String::from_utf8(totp::secret_of(&uri)).unwrap();
    let mut secrets = vec![
        ("the secret, in Base32", base32_secret),
        ("the secret", raw_secret),
        (
            "the challenge",
            challenge.split('.').next().unwrap().to_owned(),
        ),
        (
            "the trusted device's token",
            trust.split('.').next().unwrap().to_owned(),
        ),
        ("the enrolment code", enrolment_code),
        ("the sign-in code", sign_in_code),
        ("the mailed code", mailed_code),
    ];
    for code in enabled["backupCodes"].as_array().unwrap() {
        secrets.push(("a backup code", code.as_str().unwrap().to_owned()));
    }
    for (what, secret) in secrets {
        assert!(secret.len() >= 6, "{what} is a real value: {secret}");
        assert!(!logged(&logs, &secret), "{what} is in the logs");
    }
}

/// Whether `value` is in `logs` as a value of its own: a six-digit code counts only as a whole number, not as digits
/// of a longer one, nor as the microseconds of a timestamp (`21:05:12.123456Z`), which would match by chance.
fn logged(logs: &str, value: &str) -> bool {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return logs.contains(value);
    }
    logs.match_indices(value).any(|(at, _)| {
        let before = logs[..at].chars().next_back();
        let after = logs[at + value.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[tokio::test]
async fn passkeys_logged_at_debug_leave_no_ceremony_or_token_in_the_logs_and_an_ip_base_url_is_told_once()
 {
    use serde_json::json;
    use warden_testkit::webauthn::{Algorithm, Authenticator};
    let dir = tempfile::tempdir().unwrap();
    let http_port = free_port();
    // An IP-literal BASE_URL, as `cargo run`'s default: passkeys cannot work there in a browser, and Warden says so.
    let base_url = format!("http://127.0.0.1:{http_port}");
    let warden = LoggedWarden::start(
        dir.path(),
        http_port,
        &[("RATE_LIMIT_ENABLED", "false".into())],
    );
    let http = client();
    let request = |method: reqwest::Method, path: &str, cookie: &str| {
        http.request(method, format!("{base_url}{path}"))
            .header("origin", &base_url)
            .header("cookie", cookie.to_owned())
    };
    let signed_up = request(reqwest::Method::POST, "/api/auth/sign-up/email", "")
        .json(&json!({"name": "Ada", "email": "ada@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let session = cookie_value(&signed_up, "better-auth.session_token").unwrap();
    let session_cookie = cookie_pair("better-auth.session_token", &session);
    let ceremony_cookie = |response: &reqwest::Response| {
        let value = cookie_value(response, "better-auth.better-auth-passkey").unwrap();
        let cookie = cookie_pair("better-auth.better-auth-passkey", &value);
        (value, cookie)
    };

    let options = request(
        reqwest::Method::GET,
        "/api/auth/passkey/generate-register-options",
        &session_cookie,
    )
    .send()
    .await
    .unwrap();
    let (registration, cookie) = ceremony_cookie(&options);
    let options: serde_json::Value = options.json().await.unwrap();
    let mut authenticator = Authenticator::new(Algorithm::Es256);
    let response = authenticator.register(&options, &base_url);
    let registered = request(
        reqwest::Method::POST,
        "/api/auth/passkey/verify-registration",
        &format!("{session_cookie}; {cookie}"),
    )
    .json(&json!({"response": response, "name": "Laptop"}))
    .send()
    .await
    .unwrap();
    assert_eq!(registered.status(), 200);

    let options = request(
        reqwest::Method::GET,
        "/api/auth/passkey/generate-authenticate-options",
        "",
    )
    .send()
    .await
    .unwrap();
    let (authentication, cookie) = ceremony_cookie(&options);
    let sign_in_options: serde_json::Value = options.json().await.unwrap();
    let assertion = authenticator.assert(&sign_in_options, &base_url);
    let signed_in = request(
        reqwest::Method::POST,
        "/api/auth/passkey/verify-authentication",
        &cookie,
    )
    .json(&json!({"response": assertion}))
    .send()
    .await
    .unwrap();
    assert_eq!(signed_in.status(), 200);
    let passkey_session = cookie_value(&signed_in, "better-auth.session_token").unwrap();

    let logs = warden.stop();
    assert!(
        logs.contains("http.route=/api/auth/passkey/verify-authentication"),
        "the requests were logged at all"
    );
    assert_eq!(
        logs.matches("passkeys need a domain name").count(),
        1,
        "an IP-literal BASE_URL is told once"
    );
    let secrets = [
        (
            "the registration's ceremony",
            registration.split('.').next().unwrap().to_owned(),
        ),
        (
            "the sign-in's ceremony",
            authentication.split('.').next().unwrap().to_owned(),
        ),
        (
            "the passkey session's token",
            passkey_session.split('.').next().unwrap().to_owned(),
        ),
    ];
    for (what, secret) in secrets {
        assert!(secret.len() >= 20, "{what} is a real value: {secret}");
        assert!(!logged(&logs, &secret), "{what} is in the logs");
    }
}

#[tokio::test]
async fn api_keys_logged_at_debug_never_leave_a_key_or_its_hash_in_the_logs() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let http_port = free_port();
    let base_url = format!("http://127.0.0.1:{http_port}");
    let warden = LoggedWarden::start(
        dir.path(),
        http_port,
        &[("RATE_LIMIT_ENABLED", "false".into())],
    );
    let http = client();
    let signed_up = http
        .post(format!("{base_url}/api/auth/sign-up/email"))
        .header("origin", &base_url)
        .json(&json!({"name": "Ada", "email": "ada@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let session = cookie_value(&signed_up, "better-auth.session_token").unwrap();
    let session_cookie = cookie_pair("better-auth.session_token", &session);
    let created: serde_json::Value = http
        .post(format!("{base_url}/api/auth/api-key/create"))
        .header("origin", &base_url)
        .header("cookie", &session_cookie)
        .json(&json!({"name": "logged", "prefix": "wlog_"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    // Used as a header, as a bearer, refused where it is no session, and once with a letter changed.
    for request in [
        http.get(format!("{base_url}/api/v1/tasks"))
            .header("x-api-key", &key),
        http.get(format!("{base_url}/api/v1/tasks"))
            .bearer_auth(&key),
        http.get(format!("{base_url}/api/auth/list-sessions"))
            .bearer_auth(&key),
        http.get(format!("{base_url}/api/v1/tasks"))
            .header("x-api-key", format!("{}X", &key[..key.len() - 1])),
    ] {
        request.send().await.unwrap();
    }

    let logs = warden.stop();
    assert!(
        logs.contains("http.route=/api/v1/tasks"),
        "the requests were logged at all"
    );
    let random_part = key.trim_start_matches("wlog_").to_owned();
    assert_eq!(random_part.len(), 64);
    for (what, secret) in [
        ("the key", random_part.clone()),
        (
            "the key's stored hash",
            warden_common::token::hash_api_key(&key),
        ),
        ("the forged key", format!("{}X", &random_part[..63])),
    ] {
        assert!(!logged(&logs, &secret), "{what} is in the logs");
    }
}
