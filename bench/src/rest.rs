//! The REST scenarios through the gateway: each signs up a user of its own and seeds what it needs, then builds one
//! [`HttpCaller`] per connection repeating the scenario's request.

use std::sync::{Arc, atomic::AtomicU64};

use anyhow::{Context, bail};
use bytes::Bytes;
use http::{Method, StatusCode, header};

use crate::cli::Scenario;
use crate::http_client::{Answer, Body, Connection, HttpCaller, Template};
use crate::target::HttpTarget;

/// Every user the tool creates has this password.
pub const PASSWORD: &str = "bench-password-123";

pub const SIGN_UP: &str = "/api/auth/sign-up/email";
pub const SIGN_IN: &str = "/api/auth/sign-in/email";
pub use crate::ceiling::GET_SESSION;
pub const TASKS: &str = "/api/v1/tasks";
pub const LIST_TASKS: &str = "/api/v1/tasks?pageSize=20";

/// Sets up `scenario` against the gateway and returns its request. Its user is `bench-<run_id>-<label>@…`, so
/// scenarios of one run (different labels) and of different runs (different ids) never share one.
pub async fn template(
    scenario: Scenario,
    target: &HttpTarget,
    run_id: &str,
    label: &str,
) -> anyhow::Result<Template> {
    let mut setup = Setup::new(target);
    let email = format!("bench-{run_id}-{label}@bench.example.com");
    let template = match scenario {
        Scenario::GetSession | Scenario::GetSessionDuringSignIn => {
            let cookie = setup.sign_up(&email).await?;
            let answer = setup.get(GET_SESSION, &cookie).await?;
            if answer.status != StatusCode::OK || !contains(&answer.body, "\"session\"") {
                bail!(
                    "get-session with a fresh cookie answered {} {}",
                    answer.status,
                    excerpt(&answer.body)
                );
            }
            setup
                .template(Method::GET, GET_SESSION, Body::Empty, StatusCode::OK)
                .with_cookie(&cookie)
        }
        Scenario::ListTasks => {
            let cookie = setup.sign_up(&email).await?;
            for n in 1..=20 {
                setup
                    .create_task(&cookie, &format!("seeded task {n}"))
                    .await?;
            }
            let answer = setup.get(LIST_TASKS, &cookie).await?;
            let listed = serde_json::from_slice::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|body| body["tasks"].as_array().map(Vec::len));
            if answer.status != StatusCode::OK || listed != Some(20) {
                bail!(
                    "listing the 20 seeded tasks answered {} {}",
                    answer.status,
                    excerpt(&answer.body)
                );
            }
            setup
                .template(Method::GET, LIST_TASKS, Body::Empty, StatusCode::OK)
                .with_cookie(&cookie)
        }
        Scenario::CreateTask => {
            let cookie = setup.sign_up(&email).await?;
            let body = Body::Fixed(Bytes::from_static(
                br#"{"title":"bench task","description":"created by the load tool"}"#,
            ));
            setup
                .template(Method::POST, TASKS, body, StatusCode::CREATED)
                .with_cookie(&cookie)
        }
        Scenario::SignIn => {
            setup.sign_up(&email).await?;
            let body = serde_json::json!({ "email": email, "password": PASSWORD });
            setup.template(
                Method::POST,
                SIGN_IN,
                Body::Fixed(Bytes::from(body.to_string())),
                StatusCode::OK,
            )
        }
        Scenario::SignUp => {
            let body = Body::SignUp {
                run_id: run_id.to_owned(),
                password: PASSWORD.to_owned(),
                counter: AtomicU64::new(0),
            };
            setup.template(Method::POST, SIGN_UP, body, StatusCode::OK)
        }
        other => bail!("{} is not a REST scenario", other.name()),
    };
    Ok(template)
}

/// One caller per connection, all repeating `template`.
pub fn callers(target: &HttpTarget, template: Template, connections: usize) -> Vec<HttpCaller> {
    let template = Arc::new(template);
    (0..connections)
        .map(|_| HttpCaller::new(target.addr, template.clone()))
        .collect()
}

/// The requests that prepare a scenario, on one connection of their own.
struct Setup<'a> {
    target: &'a HttpTarget,
    connection: Connection,
}

impl<'a> Setup<'a> {
    fn new(target: &'a HttpTarget) -> Self {
        Self {
            target,
            connection: Connection::new(target.addr),
        }
    }

    fn template(&self, method: Method, path: &str, body: Body, expect: StatusCode) -> Template {
        Template::new(
            method,
            path,
            &self.target.authority,
            &self.target.origin,
            body,
            expect,
        )
    }

    async fn send(&mut self, template: Template) -> anyhow::Result<Answer> {
        let path = template.uri.to_string();
        self.connection
            .send(template.request())
            .await
            .map_err(|error| anyhow::anyhow!("{} {path}: {error}", self.target.origin))
    }

    async fn get(&mut self, path: &str, cookie: &str) -> anyhow::Result<Answer> {
        let template = self
            .template(Method::GET, path, Body::Empty, StatusCode::OK)
            .with_cookie(cookie);
        self.send(template).await
    }

    /// Signs up `email` and returns the session cookie (`name=value`) to send back.
    async fn sign_up(&mut self, email: &str) -> anyhow::Result<String> {
        let body =
            serde_json::json!({ "name": "Bench User", "email": email, "password": PASSWORD });
        let template = self.template(
            Method::POST,
            SIGN_UP,
            Body::Fixed(Bytes::from(body.to_string())),
            StatusCode::OK,
        );
        let answer = self.send(template).await?;
        expect_success(&answer, "sign-up")?;
        session_cookie(&answer).context("sign-up answered 200 without a session cookie")
    }

    async fn create_task(&mut self, cookie: &str, title: &str) -> anyhow::Result<()> {
        let body = serde_json::json!({ "title": title, "description": "seeded by the load tool" });
        let template = self
            .template(
                Method::POST,
                TASKS,
                Body::Fixed(Bytes::from(body.to_string())),
                StatusCode::CREATED,
            )
            .with_cookie(cookie);
        let answer = self.send(template).await?;
        expect_success(&answer, "creating a task")
    }
}

fn expect_success(answer: &Answer, what: &str) -> anyhow::Result<()> {
    if answer.status.is_success() {
        return Ok(());
    }
    if answer.status == StatusCode::TOO_MANY_REQUESTS {
        bail!("{what} was rate limited (429): run the target with RATE_LIMIT_ENABLED=false");
    }
    bail!(
        "{what} answered {} {}",
        answer.status,
        excerpt(&answer.body)
    )
}

/// The `…session_token=value` pair among the answer's cookies, whatever the prefix.
fn session_cookie(answer: &Answer) -> Option<String> {
    answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|cookie| cookie.split(';').next())
        .find(|pair| {
            pair.split_once('=')
                .is_some_and(|(name, value)| name.ends_with("session_token") && !value.is_empty())
        })
        .map(str::to_owned)
}

fn contains(body: &[u8], needle: &str) -> bool {
    body.windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
}
