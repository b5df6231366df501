//! Every route whose handler is written by hand, in the OpenAPI document: Better Auth's routes under `/api/auth` (their
//! shapes are Better Auth's JSON, not proto3 JSON, so nothing generates them) and Warden's own pages, readiness,
//! metrics and development outbox. They are described in `better_auth.json`, beside this file, with the schemas and
//! responses they share; the route-coverage test in `tests/openapi.rs` fails when a route in [`crate::router`] is
//! missing from it.
//!
//! An operation of a Better Auth plugin carries `"x-warden-plugin": "<id>"`, and so do the schemas only its routes
//! use: [`describe`] leaves them out when `PLUGINS` does not serve the plugin, as the router leaves out its routes.

use std::sync::LazyLock;

use serde_json::{Map, Value};
use warden_common::settings::{Plugin, Plugins};

/// The extension that names the plugin an operation or schema belongs to.
pub const PLUGIN_EXTENSION: &str = "x-warden-plugin";

/// `better_auth.json`, parsed once: it is compiled in, so a parse error is caught by the tests, never at run time.
static DESCRIPTION: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("better_auth.json")).expect("better_auth.json is valid JSON")
});

/// `{"paths": …, "components": {"schemas": …, "responses": …}}` for the hand-written routes `plugins` serves.
pub fn describe(plugins: Plugins) -> Value {
    let mut description = DESCRIPTION.clone();
    let served = |item: &Value| match item.get(PLUGIN_EXTENSION).and_then(Value::as_str) {
        None => true,
        Some(id) => plugins.is_enabled(plugin(id)),
    };
    if let Some(Value::Object(paths)) = description.get_mut("paths") {
        for item in paths.values_mut() {
            if let Value::Object(operations) = item {
                operations.retain(|_, operation| served(operation));
            }
        }
        paths.retain(|_, item| item.as_object().is_some_and(|item| !item.is_empty()));
    }
    if let Some(Value::Object(components)) = description.get_mut("components") {
        for section in components.values_mut() {
            if let Value::Object(entries) = section {
                entries.retain(|_, entry| served(entry));
            }
        }
    }
    description
}

/// The plugin `better_auth.json` names; the tests check every name is one.
fn plugin(id: &str) -> Plugin {
    id.parse()
        .unwrap_or_else(|_| panic!("better_auth.json names an unknown plugin `{id}`"))
}

/// Every `$ref` in `value`, as written.
pub fn references(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_references(value, &mut found);
    found
}

fn collect_references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(target)) = object.get("$ref") {
                found.push(target.clone());
            }
            object
                .values()
                .for_each(|value| collect_references(value, found));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|value| collect_references(value, found)),
        _ => {}
    }
}

/// What a local `$ref` (`#/components/schemas/User`) points at in `document`, if anything.
pub fn resolve<'a>(document: &'a Value, target: &str) -> Option<&'a Value> {
    let pointer = target.strip_prefix('#')?;
    document.pointer(pointer)
}

/// The plugin of every operation in `paths` that names one, as `(path, method, plugin id)`.
pub fn plugin_operations(paths: &Map<String, Value>) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if let Some(id) = operation.get(PLUGIN_EXTENSION).and_then(Value::as_str) {
                found.push((path.clone(), method.clone(), id.to_owned()));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    fn operations(document: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
        document["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(path, item)| {
                item.as_object()
                    .into_iter()
                    .flatten()
                    .map(move |(method, operation)| (path.as_str(), method.as_str(), operation))
            })
    }

    #[test]
    fn the_description_parses_and_names_known_plugins_only() {
        let description = &*DESCRIPTION;
        assert!(description["paths"].is_object());
        for (path, method, id) in plugin_operations(description["paths"].as_object().unwrap()) {
            assert!(
                id.parse::<Plugin>().is_ok(),
                "{method} {path}: unknown plugin {id}"
            );
        }
        for (name, schema) in description["components"]["schemas"].as_object().unwrap() {
            if let Some(id) = schema.get(PLUGIN_EXTENSION).and_then(Value::as_str) {
                assert!(id.parse::<Plugin>().is_ok(), "schema {name}: {id}");
            }
        }
    }

    #[test]
    fn every_operation_has_an_id_a_tag_a_summary_security_and_responses() {
        let mut ids = std::collections::HashSet::new();
        for (path, method, operation) in operations(&DESCRIPTION) {
            assert!(METHODS.contains(&method), "{path}: {method}");
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{method} {path}: no operationId");
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            assert!(
                operation["tags"]
                    .as_array()
                    .is_some_and(|tags| !tags.is_empty()),
                "{method} {path}: no tag"
            );
            assert!(operation["summary"].is_string(), "{method} {path}");
            assert!(operation["security"].is_array(), "{method} {path}");
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("default"), "{method} {path}");
            assert!(
                responses.keys().any(|status| status != "default"),
                "{method} {path}: only a default response"
            );
        }
    }

    #[tokio::test]
    async fn every_reference_resolves_in_the_merged_document() {
        let transcoder = crate::transcode::Transcoder::warden(unreachable_transport()).unwrap();
        let document = super::super::build(Plugins::all(), &transcoder);
        for target in references(&document) {
            assert!(
                resolve(&document, &target).is_some(),
                "{target} does not resolve"
            );
        }
        // With the plugins off their schemas go too, and nothing left points at them.
        let document = super::super::build(Plugins::none(), &transcoder);
        for target in references(&document) {
            assert!(
                resolve(&document, &target).is_some(),
                "{target} does not resolve without plugins"
            );
        }
    }

    #[test]
    fn a_plugin_off_takes_its_operations_and_schemas_with_it() {
        let all = describe(Plugins::all());
        let none = describe(Plugins::none());
        let plugin_paths = plugin_operations(all["paths"].as_object().unwrap());
        assert!(plugin_paths.iter().any(|(_, _, id)| id == "jwt"));
        assert!(plugin_paths.iter().any(|(_, _, id)| id == "admin"));
        assert!(plugin_operations(none["paths"].as_object().unwrap()).is_empty());
        assert!(none["paths"].get("/api/auth/jwks").is_none());
        assert!(none["components"]["schemas"].get("Jwks").is_none());
        assert!(none["paths"].get("/api/auth/get-session").is_some());

        let jwt_only = describe(Plugins::none().with(Plugin::Jwt));
        assert!(jwt_only["paths"].get("/api/auth/jwks").is_some());
        assert!(
            jwt_only["paths"]
                .get("/api/auth/admin/list-users")
                .is_none()
        );
    }

    #[test]
    fn request_bodies_do_not_claim_to_refuse_unknown_keys() {
        // Better Auth's schemas, and Warden's reading of them, ignore keys they do not name.
        for (path, method, operation) in operations(&DESCRIPTION) {
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            assert_ne!(
                schema.get("additionalProperties"),
                Some(&Value::Bool(false)),
                "{method} {path}"
            );
        }
    }

    fn unreachable_transport() -> warden_common::in_process::Transport {
        // Nothing listens on port 1; the document never calls the service.
        let endpoint = tonic::transport::Endpoint::from_static("http://127.0.0.1:1");
        warden_common::in_process::Transport::Network(endpoint.connect_lazy())
    }
}
