//! Identity providers for social sign-in tests: a real, certified OpenID Connect provider (npm `oidc-provider`, with
//! its own login and consent pages) and the GitHub stand-in, both from `interop/providers/`, run with Node.js.
//!
//! `scripts/test` installs their npm packages (`interop/npm-install`) before the Rust tests. [`OidcProvider::sign_in`]
//! and [`Github::sign_in`] play a person at the provider's pages over HTTP (the steps are documented at the top of
//! each `.mjs` file) and return where the provider sends the browser back, without following it.

use std::process::Stdio;
use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A client registered at a provider.
#[derive(Clone, Debug)]
pub struct TestClient {
    pub id: String,
    pub secret: String,
    pub redirect_uris: Vec<String>,
}

impl TestClient {
    fn arg(&self) -> String {
        format!(
            "{}:{}:{}",
            self.id,
            self.secret,
            self.redirect_uris.join(",")
        )
    }
}

/// The local OpenID Connect provider, stopped when dropped. Accounts: `ada@example.com` / `ada password` and
/// `grace@example.com` / `grace password` (verified), `mallory@example.com` / `mallory password` (not verified).
pub struct OidcProvider {
    issuer: String,
    _child: Child,
}

impl OidcProvider {
    /// Starts the provider with `clients` registered and waits until it serves. `extra` are more CLI arguments
    /// (`--access-token-ttl 5`, `--accounts '[…]'`).
    pub async fn start(clients: &[TestClient], extra: &[&str]) -> Self {
        let (child, line) = start_node("oidc.mjs", clients, extra).await;
        let issuer = line["issuer"].as_str().expect("an issuer").to_owned();
        Self {
            issuer,
            _child: child,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs in at the provider's pages as `email` and consents (or denies, when `approve` is false); the redirect
    /// back to the client, not followed.
    pub async fn sign_in(
        &self,
        authorization_url: &str,
        email: &str,
        password: &str,
        approve: bool,
    ) -> String {
        let http = browser();
        let origin = self.issuer.trim_end_matches('/').to_owned();
        let absolute = |location: &str| {
            if location.starts_with('/') {
                format!("{origin}{location}")
            } else {
                location.to_owned()
            }
        };
        // The authorization request leads, through the provider's own redirects, to its login page.
        let mut url = authorization_url.to_owned();
        let mut stage = 0;
        loop {
            let response = http.get(&url).send().await.expect("reaching the provider");
            if let Some(location) = location(&response) {
                let next = absolute(&location);
                if !next.starts_with(&format!("{origin}/")) {
                    return next;
                }
                url = next;
                continue;
            }
            assert_eq!(response.status(), 200, "the provider's page {url}");
            let page = response.text().await.unwrap();
            let (path, fields): (String, Vec<(&str, String)>) =
                if page.contains("name=\"password\"") {
                    (
                        format!("{url}/login"),
                        vec![
                            ("email", email.to_owned()),
                            ("password", password.to_owned()),
                        ],
                    )
                } else {
                    let decision = if approve { "allow" } else { "deny" };
                    (
                        format!("{url}/consent"),
                        vec![("decision", decision.to_owned())],
                    )
                };
            stage += 1;
            assert!(stage <= 4, "the provider keeps asking: {page}");
            let answer = http.post(&path).form(&fields).send().await.unwrap();
            let next = location(&answer)
                .unwrap_or_else(|| panic!("the provider refused the form at {path}"));
            url = absolute(&next);
        }
    }
}

impl OidcProvider {
    /// A genuine ID token for `client` (registered with `redirect_uri`), through a code flow with S256 PKCE and
    /// `nonce`, as the provider's account `name` (`ada`, `grace`, `mallory`): what a native app holds after signing
    /// in with the provider itself.
    pub async fn id_token(
        &self,
        client: (&str, &str),
        redirect_uri: &str,
        name: &str,
        nonce: Option<&str>,
    ) -> String {
        let (client_id, client_secret) = client;
        let verifier = "v".repeat(64);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut url = url::Url::parse(&format!("{}/auth", self.issuer)).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", "s")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(nonce) = nonce {
            url.query_pairs_mut().append_pair("nonce", nonce);
        }
        let email = format!("{name}@example.com");
        let password = format!("{name} password");
        let back = self.sign_in(url.as_str(), &email, &password, true).await;
        let code = url::Url::parse(&back)
            .unwrap()
            .query_pairs()
            .find(|(key, _)| key == "code")
            .map(|(_, code)| code.into_owned())
            .unwrap_or_else(|| panic!("no code in {back}"));
        let tokens: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", &verifier),
                ("client_id", client_id),
                ("client_secret", client_secret),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens["id_token"].as_str().expect("an ID token").to_owned()
    }
}

/// The GitHub stand-in (GitHub is not OpenID Connect, so there is no certified server to run), stopped when
/// dropped. Users: `ada` (1001, verified), `mallory` (1002, unverified), `grace` (1003, private email); each
/// password is `<login> password`.
pub struct Github {
    base_url: String,
    _child: Child,
}

impl Github {
    pub async fn start(clients: &[TestClient], extra: &[&str]) -> Self {
        let (child, line) = start_node("github.mjs", clients, extra).await;
        let base_url = line["baseUrl"].as_str().expect("a base URL").to_owned();
        Self {
            base_url,
            _child: child,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Signs in as `login` and authorizes (or not); the redirect back to the client, not followed.
    pub async fn sign_in(&self, authorization_url: &str, login: &str, approve: bool) -> String {
        let http = browser();
        let base = self.base_url.trim_end_matches('/').to_owned();
        let page = http.get(authorization_url).send().await.unwrap();
        assert_eq!(page.status(), 200, "GitHub's sign-in page");
        let page = page.text().await.unwrap();
        let return_to = hidden(&page, "return_to");
        let signed_in = http
            .post(format!("{base}/session"))
            .form(&[
                ("login", login.to_owned()),
                ("password", format!("{login} password")),
                ("return_to", return_to),
            ])
            .send()
            .await
            .unwrap();
        let back = location(&signed_in).expect("GitHub's sign-in redirect");
        let back = if back.starts_with('/') {
            format!("{base}{back}")
        } else {
            back
        };
        let page = http.get(&back).send().await.unwrap().text().await.unwrap();
        let mut fields: Vec<(String, String)> = hidden_fields(&page);
        fields.push(("authorize".into(), if approve { "1" } else { "0" }.into()));
        let answer = http
            .post(format!("{base}/login/oauth/authorize"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        location(&answer).expect("GitHub's redirect back")
    }
}

/// A cookie-keeping client that does not follow redirects, as a browser's steps are replayed here.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("warden-tests")
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .status()
        .is_redirection()
        .then(|| response.headers()["location"].to_str().unwrap().to_owned())
}

/// The value of the hidden input `name` in an HTML page.
fn hidden(page: &str, name: &str) -> String {
    hidden_fields(page)
        .into_iter()
        .find(|(field, _)| field == name)
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no hidden {name} in {page}"))
}

/// Every `<input type="hidden" name="…" value="…">` of a page, HTML entities in values decoded.
fn hidden_fields(page: &str) -> Vec<(String, String)> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(
            tag[start..end]
                .replace("&amp;", "&")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">"),
        )
    };
    page.split("<input")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| {
            Some((
                attribute(tag, "name")?,
                attribute(tag, "value").unwrap_or_default(),
            ))
        })
        .collect()
}

/// Runs `interop/providers/<script>` and reads the JSON line it prints once it serves.
async fn start_node(
    script: &str,
    clients: &[TestClient],
    extra: &[&str],
) -> (Child, serde_json::Value) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits in the workspace");
    let path = root.join("interop/providers").join(script);
    assert!(
        root.join("interop/node_modules/oidc-provider").exists(),
        "the provider harness needs its npm packages: run interop/npm-install (scripts/test does)"
    );
    let mut command = Command::new("node");
    command.arg(&path);
    for client in clients {
        command.arg("--client").arg(client.arg());
    }
    let mut child = command
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starting node (Node.js 20 or newer is needed)");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("{script} did not start within 30 s"))
        .expect("reading the provider's output")
        .unwrap_or_else(|| panic!("{script} exited before serving"));
    let value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{script} printed {line}"));
    (child, value)
}
