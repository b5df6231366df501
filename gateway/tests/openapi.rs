//! The OpenAPI document against the router: every route `router.rs` lists, and every binding the transcoder serves
//! (with the older clients' aliases), is in `paths` with each of its methods; a plugin's routes are there exactly when
//! `PLUGINS` serves the plugin; and the document the router serves is the one built here.

use std::collections::BTreeSet;

use axum::body::Body;
use gateway::config::Config;
use gateway::openapi::{self, better_auth};
use gateway::router::router;
use gateway::state::AppState;
use gateway::transcode::hooks::OLDER_CLIENTS;
use http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;
use warden_common::AuthSecret;
use warden_common::settings::{Plugins, UpstreamUrl};

const ROUTER: &str = include_str!("../src/router.rs");

/// The functions of `router.rs` that list a plugin's routes, and the plugin's id.
const PLUGIN_ROUTE_FUNCTIONS: [(&str, &str); 5] = [
    ("jwt_routes", "jwt"),
    ("admin_routes", "admin"),
    ("two_factor_routes", "two-factor"),
    ("passkey_routes", "passkey"),
    ("api_key_routes", "api-key"),
];

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

/// One method of one route: `GET /api/auth/ok`, and the plugin whose routes list it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    path: String,
    method: String,
    plugin: Option<&'static str>,
}

fn state(plugins: Plugins) -> AppState {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        // Nothing listens on port 1: the document never calls a service.
        auth_url: UpstreamUrl::parse("AUTH_URL", "http://127.0.0.1:1").unwrap(),
        task_url: UpstreamUrl::parse("TASK_URL", "http://127.0.0.1:1").unwrap(),
        secret: AuthSecret::parse("x".repeat(32).into()).unwrap(),
        base_url: "http://localhost:3000".parse().unwrap(),
        trusted_origins: Default::default(),
        limits: Default::default(),
        cookies: Default::default(),
        tls_ca: None,
        plugins,
    };
    AppState::new(&config).unwrap()
}

/// The source of function `name` in `router.rs`: from its `fn` to the next top-level item.
fn function_source(name: &str) -> &'static str {
    let start = ROUTER
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("router.rs has no fn {name}"));
    let rest = &ROUTER[start..];
    let end = rest.find("\n}\n").map_or(rest.len(), |end| end + 3);
    &rest[..end]
}

/// The text of each `.route(…)` call in `source`, its parentheses balanced (string literals skipped).
fn route_calls(source: &str) -> Vec<&str> {
    let mut calls = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find(".route(") {
        let call = &rest[start + ".route(".len()..];
        let (mut depth, mut in_string, mut end) = (1, false, call.len());
        for (index, c) in call.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        end = index;
                        break;
                    }
                }
                _ => {}
            }
        }
        calls.push(&call[..end]);
        rest = &call[end..];
    }
    calls
}

/// The path and methods of one `.route("…", get(a).post(b))` call: a method is a method name called as a function,
/// `get(` at the start or after `.`, `::` or whitespace, never inside a handler's name (`get_session`).
fn path_and_methods(call: &str) -> (String, Vec<String>) {
    let open = call.find('"').expect("a route's path is a string literal");
    let close = open + 1 + call[open + 1..].find('"').unwrap();
    let path = call[open + 1..close].to_owned();
    let handler = &call[close + 1..];
    let mut methods = Vec::new();
    for (index, _) in handler.char_indices() {
        for method in METHODS {
            let called = handler[index..].starts_with(method)
                && handler[index + method.len()..].starts_with('(');
            let before = handler[..index].chars().next_back();
            let separated = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            if called && separated {
                methods.push(method.to_owned());
            }
        }
    }
    (path, methods)
}

/// Every method of every `.route(…)` in `router.rs`, with the plugin of the function that lists it.
fn router_routes() -> BTreeSet<Route> {
    let mut routes = BTreeSet::new();
    let plugin_of = |call: &str| {
        PLUGIN_ROUTE_FUNCTIONS
            .iter()
            .find(|(function, _)| function_source(function).contains(call))
            .map(|(_, plugin)| *plugin)
    };
    for call in route_calls(ROUTER) {
        let (path, methods) = path_and_methods(call);
        assert!(!methods.is_empty(), "no method found in .route({call})");
        for method in methods {
            routes.insert(Route {
                path: path.clone(),
                method,
                plugin: plugin_of(call),
            });
        }
    }
    routes
}

/// Every method of every binding the transcoder serves, and its alias under the older clients' prefix.
fn transcoded_routes(state: &AppState) -> BTreeSet<Route> {
    let mut routes = BTreeSet::new();
    for op in state.transcoder.operations() {
        let path = op.binding.axum_path();
        let method = op.binding.verb.as_str().to_ascii_lowercase();
        if let Some(rest) = path.strip_prefix(OLDER_CLIENTS.0) {
            routes.insert(Route {
                path: format!("{}{rest}", OLDER_CLIENTS.1),
                method: method.clone(),
                plugin: None,
            });
        }
        routes.insert(Route {
            path,
            method,
            plugin: None,
        });
    }
    routes
}

fn described(document: &Value, route: &Route) -> bool {
    document["paths"][route.path.as_str()]
        .get(route.method.as_str())
        .is_some()
}

fn missing<'a>(document: &Value, routes: impl IntoIterator<Item = &'a Route>) -> Vec<String> {
    routes
        .into_iter()
        .filter(|route| !described(document, route))
        .map(|route| format!("{} {}", route.method.to_uppercase(), route.path))
        .collect()
}

#[test]
fn the_router_source_is_read_as_routes() {
    let routes = router_routes();
    let has = |method: &str, path: &str, plugin: Option<&str>| {
        routes
            .iter()
            .any(|route| route.method == method && route.path == path && route.plugin == plugin)
    };
    assert!(has("get", "/api/auth/ok", None));
    assert!(has("get", "/api/auth/get-session", None));
    assert!(has("post", "/api/auth/get-session", None));
    assert!(has("get", "/api/auth/reset-password/{token}", None));
    assert!(has("get", "/api/auth/jwks", Some("jwt")));
    assert!(has("post", "/api/auth/admin/set-role", Some("admin")));
    assert!(has("get", "/api/auth/admin/get-user", Some("admin")));
    assert!(has(
        "post",
        "/api/auth/two-factor/verify-totp",
        Some("two-factor")
    ));
    assert!(
        !routes
            .iter()
            .any(|route| route.path.contains("get_session"))
    );
}

#[tokio::test]
async fn every_route_of_the_router_is_described_with_each_of_its_methods() {
    let state = state(Plugins::all());
    let document = openapi::build(Plugins::all(), &state.transcoder);
    let routes = router_routes();
    assert!(routes.len() > 40, "only {} routes read", routes.len());
    let missing = missing(&document, &routes);
    assert!(
        missing.is_empty(),
        "routes in router.rs missing from the OpenAPI document: {missing:?}"
    );
}

#[tokio::test]
async fn every_transcoded_binding_and_its_alias_is_described() {
    let state = state(Plugins::all());
    let document = openapi::build(Plugins::all(), &state.transcoder);
    let routes = transcoded_routes(&state);
    assert!(
        routes
            .iter()
            .any(|route| route.path == "/api/v1/tasks/{id}")
    );
    assert!(
        routes
            .iter()
            .any(|route| route.path == "/api/{user_id}/tasks")
    );
    let missing = missing(&document, &routes);
    assert!(
        missing.is_empty(),
        "transcoded routes missing from the OpenAPI document: {missing:?}"
    );
}

#[tokio::test]
async fn without_plugins_their_routes_are_absent_and_the_rest_stay() {
    let state = state(Plugins::none());
    let document = openapi::build(Plugins::none(), &state.transcoder);
    let (plugin, core): (Vec<Route>, Vec<Route>) = router_routes()
        .into_iter()
        .partition(|route| route.plugin.is_some());
    assert!(!plugin.is_empty());
    let present: Vec<String> = plugin
        .iter()
        .filter(|route| described(&document, route))
        .map(|route| format!("{} {}", route.method.to_uppercase(), route.path))
        .collect();
    assert!(
        present.is_empty(),
        "plugin routes described with every plugin off: {present:?}"
    );
    let missing = missing(&document, &core);
    assert!(missing.is_empty(), "core routes missing: {missing:?}");
}

#[tokio::test]
async fn the_hand_written_and_generated_parts_define_no_name_twice() {
    let state = state(Plugins::all());
    let hand_written = better_auth::describe(Plugins::all());
    let generated = openapi::transcoded::describe(&state.transcoder);
    let names = |part: &Value, section: &str| -> BTreeSet<String> {
        part["components"][section]
            .as_object()
            .map(|entries| entries.keys().cloned().collect())
            .unwrap_or_default()
    };
    for section in ["schemas", "responses"] {
        let both: Vec<String> = names(&hand_written, section)
            .intersection(&names(&generated, section))
            .cloned()
            .collect();
        assert!(both.is_empty(), "{section} defined by both parts: {both:?}");
    }
    assert!(
        !names(&hand_written, "schemas").contains(openapi::ERROR_SCHEMA),
        "the Error schema is mod.rs's own"
    );
    let paths = |part: &Value| -> BTreeSet<String> {
        part["paths"].as_object().unwrap().keys().cloned().collect()
    };
    let both: Vec<String> = paths(&hand_written)
        .intersection(&paths(&generated))
        .cloned()
        .collect();
    assert!(both.is_empty(), "paths described by both parts: {both:?}");
}

#[tokio::test]
async fn the_router_serves_the_document_for_its_plugins() {
    for plugins in [Plugins::all(), Plugins::none()] {
        let state = state(plugins);
        let expected = openapi::build(plugins, &state.transcoder);
        let request = Request::get("/api/openapi.json")
            .body(Body::empty())
            .unwrap();
        let response = router(state).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "application/json"
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let served: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(served, expected, "{plugins:?}");
        for target in better_auth::references(&served) {
            assert!(
                better_auth::resolve(&served, &target).is_some(),
                "{target} does not resolve ({plugins:?})"
            );
        }
    }
}
