//! The web UI's routes, answered in-process: the page and its assets are compiled in, so no service is needed.

use axum::body::Body;
use gateway::config::Config;
use gateway::router::router;
use gateway::state::AppState;
use http::{HeaderMap, Method, Request, StatusCode, header};
use tower::ServiceExt;
use warden_common::AuthSecret;
use warden_common::settings::UpstreamUrl;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
}

async fn send(method: Method, uri: &str) -> Answer {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        // Nothing listens on port 1: the UI must not need the services.
        auth_url: UpstreamUrl::parse("AUTH_URL", "http://127.0.0.1:1").unwrap(),
        task_url: UpstreamUrl::parse("TASK_URL", "http://127.0.0.1:1").unwrap(),
        secret: AuthSecret::parse("x".repeat(32).into()).unwrap(),
        base_url: "http://127.0.0.1:8080".parse().unwrap(),
        trusted_origins: Default::default(),
        limits: Default::default(),
        cookies: Default::default(),
        tls_ca: None,
        plugins: Default::default(),
    };
    let app = router(AppState::new(&config).unwrap());
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn get(uri: &str) -> Answer {
    send(Method::GET, uri).await
}

fn assert_protected(answer: &Answer, what: &str) {
    assert_eq!(
        answer.header(header::CONTENT_SECURITY_POLICY),
        CSP,
        "{what}"
    );
    assert_eq!(
        answer.header(header::X_CONTENT_TYPE_OPTIONS),
        "nosniff",
        "{what}"
    );
    assert_eq!(
        answer.header(header::REFERRER_POLICY),
        "no-referrer",
        "{what}"
    );
}

#[tokio::test]
async fn the_root_is_the_html_page_with_a_strict_content_security_policy() {
    let answer = get("/").await;

    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header(header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert_protected(&answer, "/");
    assert!(answer.body.starts_with("<!doctype html>"));
    assert!(answer.body.contains(r#"<meta name="viewport""#));
}

#[tokio::test]
async fn the_script_and_stylesheet_have_their_media_types_and_the_same_headers() {
    for (uri, content_type, marker) in [
        (
            "/app.js",
            "text/javascript; charset=utf-8",
            "/api/auth/get-session",
        ),
        ("/app.css", "text/css; charset=utf-8", ":focus-visible"),
        (
            "/docs.js",
            "text/javascript; charset=utf-8",
            "/api/openapi.json",
        ),
        ("/docs.css", "text/css; charset=utf-8", ".docs-method"),
        (
            "/qrcode.mjs",
            "text/javascript; charset=utf-8",
            "export default qrcode",
        ),
    ] {
        let answer = get(uri).await;

        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        assert_eq!(answer.header(header::CONTENT_TYPE), content_type, "{uri}");
        assert_protected(&answer, uri);
        assert!(answer.body.contains(marker), "{uri} lacks {marker}");
    }
}

/// Whether some ` on<letters>=` appears, as in `onclick="…"`.
fn has_event_handler_attribute(page: &str) -> bool {
    page.match_indices(" on").any(|(at, _)| {
        let name: String = page[at + 3..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        !name.is_empty() && page[at + 3 + name.len()..].starts_with('=')
    })
}

fn assert_nothing_inline(page: &str, what: &str) {
    assert_eq!(
        page.matches("<script").count(),
        1,
        "{what}: one script, loaded by src"
    );
    assert!(!page.contains("<style"), "{what}: no inline stylesheet");
    assert!(!page.contains("style="), "{what}: no style attribute");
    assert!(
        !has_event_handler_attribute(page),
        "{what}: no inline event handler"
    );
    assert!(!page.contains("javascript:"), "{what}: no javascript: URL");
}

#[tokio::test]
async fn the_page_loads_only_the_served_assets_and_holds_nothing_inline() {
    let page = get("/").await.body;

    assert!(page.contains(r#"<script type="module" src="/app.js"></script>"#));
    assert!(page.contains(r#"<link rel="stylesheet" href="/app.css">"#));
    assert_nothing_inline(&page, "/");
}

#[tokio::test]
async fn the_docs_page_is_html_that_loads_its_own_script_and_stylesheet_and_holds_nothing_inline() {
    let answer = get("/docs").await;

    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header(header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert_protected(&answer, "/docs");
    assert!(answer.body.starts_with("<!doctype html>"));
    assert!(
        answer
            .body
            .contains(r#"<script type="module" src="/docs.js"></script>"#)
    );
    assert!(
        answer
            .body
            .contains(r#"<link rel="stylesheet" href="/docs.css">"#)
    );
    assert_nothing_inline(&answer.body, "/docs");
}

#[tokio::test]
async fn the_docs_page_and_its_assets_name_no_other_origin() {
    for uri in ["/docs", "/docs.js", "/docs.css"] {
        let body = get(uri).await.body;

        // Absolute URLs, and protocol-relative ones in an attribute, a string or a CSS `url(..)`.
        for origin in ["http://", "https://", "\"//", "'//", "(//"] {
            assert!(!body.contains(origin), "{uri} holds {origin}");
        }
    }
}

#[tokio::test]
async fn the_index_page_has_a_footer_that_links_the_api_docs() {
    let page = get("/").await.body;
    let footer = page
        .split("<footer")
        .nth(1)
        .and_then(|rest| rest.split("</footer>").next())
        .expect("the page has a footer");

    assert!(
        footer.contains(r#"<a href="/docs">API docs</a>"#),
        "{footer}"
    );
}

/// Asserts that every input, textarea and select of `page` sits inside a `<label>` (task checkboxes aside).
fn assert_every_input_labelled(page: &str) {
    let mut open_labels = 0_i32;
    let mut rest = page;
    while let Some(start) = rest.find('<') {
        rest = &rest[start..];
        if rest.starts_with("<label") {
            open_labels += 1;
        } else if rest.starts_with("</label") {
            open_labels -= 1;
        } else if (rest.starts_with("<input") && !rest.starts_with("<input type=\"checkbox\""))
            || rest.starts_with("<textarea")
            || rest.starts_with("<select")
        {
            assert!(
                open_labels > 0,
                "unlabelled: {}",
                &rest[..rest.find('>').unwrap()]
            );
        }
        rest = &rest[1..];
    }
}

#[tokio::test]
async fn every_input_of_the_page_is_inside_a_label() {
    let page = get("/").await.body;

    assert_every_input_labelled(&page);
    // Task checkboxes are labelled by their title, which the script points at them with `for`.
    assert!(page.contains(r#"<label class="task-title">"#));
}

#[tokio::test]
async fn every_input_of_the_docs_page_is_inside_a_label() {
    let page = get("/docs").await.body;

    assert_every_input_labelled(&page);
    assert!(page.contains(r#"id="docs-filter""#));
}

#[tokio::test]
async fn the_scripts_never_parse_text_as_html() {
    for uri in ["/app.js", "/docs.js"] {
        let script = get(uri).await.body;

        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "createContextualFragment",
            "eval(",
            "new Function",
        ] {
            assert!(!script.contains(sink), "{uri} uses {sink}");
        }
    }
}

#[tokio::test]
async fn the_page_has_the_admin_outbox_and_password_reset_views() {
    let page = get("/").await.body;
    let script = get("/app.js").await.body;

    for id in [
        r#"id="admin""#,
        r#"id="outbox""#,
        r#"id="forgot""#,
        r#"id="reset""#,
        r#"id="user-template""#,
        r#"id="mail-template""#,
    ] {
        assert!(page.contains(id), "the page lacks {id}");
    }
    for route in [
        "/api/auth/admin/list-users",
        "/api/auth/admin/ban-user",
        "/api/auth/request-password-reset",
        "/api/auth/reset-password",
        "/api/dev/outbox",
    ] {
        assert!(script.contains(route), "app.js never calls {route}");
    }
}

#[tokio::test]
async fn the_sign_in_pages_have_provider_buttons_and_there_is_an_account_page() {
    let page = get("/").await.body;
    let script = get("/app.js").await.body;

    for html in [
        // Hidden until the server names a provider.
        r#"<div class="social" id="sign-in-social" hidden>"#,
        r#"<div class="social" id="sign-up-social" hidden>"#,
        r#"id="accounts""#,
        r#"id="linked-template""#,
        r##"href="#accounts""##,
    ] {
        assert!(page.contains(html), "the page lacks {html}");
    }
    for route in [
        "/api/warden/providers",
        "/api/auth/sign-in/social",
        "/api/auth/link-social",
        "/api/auth/list-accounts",
        "/api/auth/unlink-account",
    ] {
        assert!(script.contains(route), "app.js never calls {route}");
    }
}

#[tokio::test]
async fn head_requests_are_answered_without_a_body() {
    let answer = send(Method::HEAD, "/").await;

    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header(header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert!(answer.body.is_empty());
}

#[tokio::test]
async fn unknown_paths_and_other_methods_near_the_ui_are_still_bare_404s() {
    let cases = [
        (Method::GET, "/index.html"),
        (Method::GET, "/app.js/"),
        (Method::GET, "//app.js"),
        (Method::GET, "/favicon.ico"),
        (Method::GET, "/ui/app.js"),
        (Method::POST, "/"),
        (Method::DELETE, "/"),
        (Method::PUT, "/app.css"),
        (Method::GET, "/docs/"),
        (Method::GET, "/docs.html"),
        (Method::POST, "/docs"),
    ];
    for (method, uri) in cases {
        let answer = send(method.clone(), uri).await;

        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert!(answer.body.is_empty(), "{method} {uri}: {}", answer.body);
        assert!(
            answer.headers.get(header::CONTENT_TYPE).is_none(),
            "{method} {uri}"
        );
        assert!(
            answer.headers.get(header::ALLOW).is_none(),
            "{method} {uri}"
        );
    }
}
