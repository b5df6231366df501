//! The router answered in-process, with auth-svc unreachable: everything here is decided by the gateway itself.

use axum::Router;
use axum::body::Body;
use gateway::config::Config;
use gateway::router::router;
use gateway::state::AppState;
use http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;
use warden_common::AuthSecret;
use warden_common::settings::UpstreamUrl;

const SECRET: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
const APP_ORIGIN: &str = "http://localhost:3000";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect()
    }
}

fn app() -> Router {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        // Nothing listens on port 1: any call to auth-svc fails at once.
        auth_url: UpstreamUrl::parse("AUTH_URL", "http://127.0.0.1:1").unwrap(),
        task_url: UpstreamUrl::parse("TASK_URL", "http://127.0.0.1:1").unwrap(),
        secret: AuthSecret::parse(SECRET.into()).unwrap(),
        base_url: APP_ORIGIN.parse().unwrap(),
        trusted_origins: "https://*.example.com".parse().unwrap(),
        limits: Default::default(),
        cookies: Default::default(),
        tls_ca: None,
        plugins: Default::default(),
    };
    router(AppState::new(&config).unwrap())
}

async fn send(request: Request<Body>) -> Answer {
    let response = app().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn get(uri: &str) -> http::request::Builder {
    Request::builder().method(Method::GET).uri(uri)
}

fn post(uri: &str) -> http::request::Builder {
    Request::builder().method(Method::POST).uri(uri)
}

fn json_post(uri: &str, body: Value) -> Request<Body> {
    post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn signed_cookie(value: &str) -> String {
    AuthSecret::parse(SECRET.into()).unwrap().sign_cookie(value)
}

fn assert_bare_404(answer: &Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{what}");
    assert!(answer.body.is_empty(), "{what}: body {:?}", answer.body);
    assert!(
        answer.headers.get(header::CONTENT_TYPE).is_none(),
        "{what}: has a content type"
    );
}

#[tokio::test]
async fn ok_answers_ok_with_a_request_id() {
    let answer = send(get("/api/auth/ok").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"ok": true}));
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    assert!(answer.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn unknown_paths_trailing_slashes_and_double_slashes_are_bare_404s() {
    for uri in [
        "/api/auth",
        "/api/auth/nope",
        "/api/auth/ok/",
        "/api/auth//ok",
        "//api/auth/ok",
        "/api/auth/sign-in/email/",
    ] {
        let answer = send(get(uri).body(Body::empty()).unwrap()).await;
        assert_bare_404(&answer, uri);
    }
}

#[tokio::test]
async fn wrong_methods_are_bare_404s() {
    let cases = [
        (Method::POST, "/api/auth/ok"),
        (Method::GET, "/api/auth/sign-in/email"),
        (Method::GET, "/api/auth/sign-out"),
        (Method::DELETE, "/api/auth/get-session"),
        (Method::PUT, "/api/auth/revoke-session"),
        (Method::POST, "/api/auth/list-sessions"),
    ];
    for (method, uri) in cases {
        let request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        assert_bare_404(&send(request).await, &format!("{method} {uri}"));
    }
}

#[tokio::test]
async fn a_text_body_is_refused_with_415() {
    let request = post("/api/auth/sign-in/email")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("hello"))
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        answer.json(),
        json!({
            "message": "Content-Type \"text/plain\" is not allowed. Allowed types: application/x-www-form-urlencoded, application/json",
            "code": "UNSUPPORTED_MEDIA_TYPE"
        })
    );
}

#[tokio::test]
async fn a_form_body_is_refused_where_only_json_is_allowed() {
    let request = post("/api/auth/revoke-session")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("token=abc"))
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        answer.json()["message"],
        "Content-Type \"application/x-www-form-urlencoded\" is not allowed. Allowed types: application/json"
    );
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let request = post("/api/auth/sign-up/email")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"name\":"))
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"message": "Invalid JSON in request body", "code": "BAD_REQUEST"})
    );
}

#[tokio::test]
async fn a_json_array_body_is_a_400() {
    let answer = send(json_post("/api/auth/sign-in/email", json!([1, 2]))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"message": "[body] Invalid input: expected object, received array", "code": "VALIDATION_ERROR"})
    );
}

#[tokio::test]
async fn sign_up_with_missing_fields_lists_every_issue() {
    let answer = send(json_post(
        "/api/auth/sign-up/email",
        json!({"email": "a@b.c"}),
    ))
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({
            "message": "[body.name] Invalid input: expected string, received undefined; [body.password] Invalid input: expected string, received undefined",
            "code": "VALIDATION_ERROR"
        })
    );
}

#[tokio::test]
async fn an_empty_sign_in_body_without_content_type_is_undefined_to_the_schema() {
    let answer = send(post("/api/auth/sign-in/email").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"message": "[body] Invalid input: expected object, received undefined", "code": "VALIDATION_ERROR"})
    );
}

#[tokio::test]
async fn a_form_sign_in_is_validated_like_json() {
    let request = post("/api/auth/sign-in/email")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("email=a%40b.c"))
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json()["message"],
        "[body.password] Invalid input: expected string, received undefined"
    );
}

#[tokio::test]
async fn sign_up_may_not_set_the_role() {
    let body = json!({"name": "A", "email": "a@b.c", "password": "password123", "role": "admin"});
    let answer = send(json_post("/api/auth/sign-up/email", body)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"message": "role is not allowed to be set", "code": "FIELD_NOT_ALLOWED"})
    );
}

#[tokio::test]
async fn revoke_session_needs_a_token_string() {
    let answer = send(json_post("/api/auth/revoke-session", json!({"token": 7}))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"message": "[body.token] Invalid input: expected string, received number", "code": "VALIDATION_ERROR"})
    );
}

#[tokio::test]
async fn a_cookie_request_without_origin_is_refused_before_validation() {
    let request = post("/api/auth/revoke-session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, "theme=dark")
        .body(Body::from("{}"))
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.json(),
        json!({"message": "Missing or null Origin", "code": "MISSING_OR_NULL_ORIGIN"})
    );
}

#[tokio::test]
async fn the_media_type_is_checked_before_the_origin() {
    let request = post("/api/auth/sign-out")
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::COOKIE, "theme=dark")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        send(request).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn a_cookie_request_from_an_untrusted_origin_is_refused() {
    let request = post("/api/auth/sign-out")
        .header(header::COOKIE, "theme=dark")
        .header(header::ORIGIN, "https://evil.com")
        .body(Body::empty())
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.json(),
        json!({"message": "Invalid origin", "code": "INVALID_ORIGIN"})
    );
}

#[tokio::test]
async fn a_cross_site_navigation_cannot_sign_in() {
    let request = post("/api/auth/sign-in/email")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-dest", "document")
        .body(Body::from("email=a%40b.c&password=password123"))
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.json(),
        json!({
            "message": "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
            "code": "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"
        })
    );
}

#[tokio::test]
async fn an_untrusted_callback_url_is_refused() {
    let body = json!({"email": "a@b.c", "password": "password123", "callbackURL": "https://evil.com/next"});
    let answer = send(json_post("/api/auth/sign-in/email", body)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.json(),
        json!({"message": "Invalid callbackURL", "code": "INVALID_CALLBACK_URL"})
    );
}

#[tokio::test]
async fn get_session_without_a_cookie_is_null_and_not_cached() {
    let answer = send(get("/api/auth/get-session").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, b"null");
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(answer.headers[header::PRAGMA], "no-cache");
    assert!(answer.set_cookies().is_empty());
}

#[tokio::test]
async fn get_session_with_a_badly_signed_cookie_is_null_and_leaves_cookies_alone() {
    let forged = signed_cookie("token123").replace("token123", "token124");
    let request = get("/api/auth/get-session")
        .header(
            header::COOKIE,
            format!("better-auth.session_token={forged}"),
        )
        .body(Body::empty())
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, b"null");
    assert!(answer.set_cookies().is_empty());
}

#[tokio::test]
async fn get_session_with_a_tampered_bearer_is_null() {
    let request = get("/api/auth/get-session")
        .header(
            header::AUTHORIZATION,
            "Bearer token123.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .body(Body::empty())
        .unwrap();
    let answer = send(request).await;
    assert_eq!(
        (answer.status, answer.body.as_slice()),
        (StatusCode::OK, &b"null"[..])
    );
}

#[tokio::test]
async fn get_session_with_auth_service_down_is_a_503_and_keeps_the_cookie() {
    let request = get("/api/auth/get-session")
        .header(
            header::COOKIE,
            format!("better-auth.session_token={}", signed_cookie("token123")),
        )
        .body(Body::empty())
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        answer.json(),
        json!({"message": "Service Unavailable", "code": "SERVICE_UNAVAILABLE"})
    );
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    assert!(answer.set_cookies().is_empty());
}

#[tokio::test]
async fn posting_to_get_session_is_a_405() {
    let answer = send(json_post("/api/auth/get-session", json!({}))).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        answer.json(),
        json!({
            "message": "POST method requires deferSessionRefresh to be enabled in session config",
            "code": "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED"
        })
    );
}

#[tokio::test]
async fn signing_out_without_a_session_still_clears_the_cookies() {
    let answer = send(json_post("/api/auth/sign-out", json!({}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"success": true}));
    assert_eq!(
        answer.set_cookies(),
        [
            "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
        ]
    );
    assert!(answer.headers.get("set-auth-token").is_none());
}

#[tokio::test]
async fn a_valid_sign_in_with_auth_service_down_is_a_503() {
    let request = post("/api/auth/sign-in/email")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "https://app.example.com")
        .header("sec-fetch-mode", "cors")
        .body(Body::from(
            json!({"email": "a@b.c", "password": "password123", "callbackURL": "/home"})
                .to_string(),
        ))
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.set_cookies().is_empty());
}

#[tokio::test]
async fn cors_preflight_is_answered_for_trusted_origins_only() {
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/auth/sign-in/email")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let trusted = send(preflight("https://app.example.com")).await;
    assert_eq!(
        trusted.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example.com"
    );
    assert_eq!(
        trusted.headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS],
        "true"
    );
    let methods = trusted.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );

    let untrusted = send(preflight("https://evil.com")).await;
    assert!(
        untrusted
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
}

#[tokio::test]
async fn cors_responses_expose_the_auth_headers() {
    let request = get("/api/auth/ok")
        .header(header::ORIGIN, APP_ORIGIN)
        .body(Body::empty())
        .unwrap();
    let answer = send(request).await;
    assert_eq!(
        answer.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        APP_ORIGIN
    );
    let exposed = answer.headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        exposed.contains("set-auth-token") && exposed.contains("set-auth-jwt"),
        "{exposed}"
    );
}

#[tokio::test]
async fn a_well_formed_request_id_is_kept_and_a_bad_one_replaced() {
    let kept = send(
        get("/api/auth/ok")
            .header("x-request-id", "abc-123")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(kept.headers["x-request-id"], "abc-123");

    let replaced = send(
        get("/api/auth/ok")
            .header("x-request-id", "a b")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let id = replaced.headers["x-request-id"].to_str().unwrap();
    assert_ne!(id, "a b");
    assert!(uuid_like(id), "{id}");
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn cookie_header() -> String {
    format!("better-auth.session_token={}", signed_cookie("token123"))
}

#[tokio::test]
async fn task_routes_without_a_session_are_401() {
    let cases = [
        (Method::GET, "/api/v1/tasks"),
        (
            Method::GET,
            "/api/v1/tasks/0190b7c2-3c1e-7a8b-9c0d-1e2f3a4b5c6d",
        ),
        (Method::DELETE, "/api/v1/tasks/t1"),
        (Method::GET, "/api/someone/tasks"),
        (Method::GET, "/api/someone/tasks/t1"),
        (Method::GET, "/api/auth/token"),
    ];
    for (method, uri) in cases {
        let request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header("x-user-id", "someone")
            .body(Body::empty())
            .unwrap();
        let answer = send(request).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(
            answer.json(),
            json!({"message": "Unauthorized", "code": "UNAUTHORIZED"}),
            "{method} {uri}"
        );
    }
    let answer = send(json_post("/api/v1/tasks", json!({"title": "t"}))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_task_body_is_checked_before_the_session() {
    let request = post("/api/v1/tasks")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("title"))
        .unwrap();
    assert_eq!(
        send(request).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );

    let answer = send(json_post(
        "/api/v1/tasks",
        json!({"title": "t", "owner": "u"}),
    ))
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"message": "[body] Unrecognized key: \"owner\"", "code": "VALIDATION_ERROR"})
    );

    let request = Request::builder()
        .method(Method::PATCH)
        .uri("/api/v1/tasks/t1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"completed\":"))
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["code"], "BAD_REQUEST");
}

#[tokio::test]
async fn a_cookie_write_to_tasks_needs_a_trusted_origin() {
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        let request = Request::builder()
            .method(method.clone())
            .uri(if method == Method::POST {
                "/api/v1/tasks"
            } else {
                "/api/v1/tasks/t1"
            })
            .header(header::COOKIE, cookie_header())
            .header(header::ORIGIN, "https://evil.com")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"title":"t"}"#))
            .unwrap();
        let answer = send(request).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method}");
        assert_eq!(answer.json()["code"], "INVALID_ORIGIN", "{method}");
    }
}

#[tokio::test]
async fn a_malformed_list_query_is_a_400() {
    let answer = send(
        get("/api/v1/tasks?completed=maybe")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({
            "message": "[query.completed] Invalid input: expected \"true\" or \"false\", received \"maybe\"",
            "code": "VALIDATION_ERROR"
        })
    );
}

#[tokio::test]
async fn task_routes_with_auth_service_down_are_503() {
    let request = get("/api/v1/tasks")
        .header(header::COOKIE, cookie_header())
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(request).await.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn other_task_paths_and_methods_are_bare_404s() {
    let cases = [
        (Method::PUT, "/api/v1/tasks/t1"),
        (Method::DELETE, "/api/v1/tasks"),
        (Method::PATCH, "/api/v1/tasks"),
        (Method::GET, "/api/v1/tasks/"),
        (Method::GET, "/api/v1/tasks/t1/extra"),
        (Method::POST, "/api/auth/token"),
        (Method::POST, "/api/auth/jwks"),
    ];
    for (method, uri) in cases {
        let request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        assert_bare_404(&send(request).await, &format!("{method} {uri}"));
    }
}

#[tokio::test]
async fn cors_lets_task_clients_send_if_match_and_read_etag_and_location() {
    let request = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/v1/tasks/t1")
        .header(header::ORIGIN, APP_ORIGIN)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PATCH")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "content-type, if-match",
        )
        .body(Body::empty())
        .unwrap();
    let preflight = send(request).await;
    let methods = preflight.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        methods.contains("PATCH") && methods.contains("DELETE"),
        "{methods}"
    );
    let headers = preflight.headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(headers.contains("if-match"), "{headers}");

    let answer = send(
        get("/api/auth/ok")
            .header(header::ORIGIN, APP_ORIGIN)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let exposed = answer.headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        exposed.contains("etag") && exposed.contains("location"),
        "{exposed}"
    );
}
