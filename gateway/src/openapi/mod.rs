//! The OpenAPI 3.1 document at `/api/openapi.json`: every route [`crate::router`] serves, with its request and
//! response schemas and its security schemes. The `/api/v1/*` routes are generated from the descriptors the
//! transcoder serves them from ([`transcoded`]); the routes whose handlers are written by hand (Better Auth's, and
//! Warden's own pages, readiness, metrics and outbox) are described beside them in [`better_auth`]. The document is
//! built once, when the router is, for the plugins `PLUGINS` serves; `tests/openapi.rs` fails when a route is missing.

pub mod better_auth;
pub mod transcoded;

use std::sync::Arc;

use serde_json::{Map, Value, json};
use warden_common::settings::Plugins;

use crate::transcode::Transcoder;

/// The session cookie, as Better Auth names it (`__Secure-` prefixed over https).
pub const SESSION_COOKIE_SCHEME: &str = "sessionCookie";
/// `Authorization: Bearer`: a session token (Better Auth's bearer plugin), or a JWT on the task routes.
pub const BEARER_SCHEME: &str = "bearerAuth";

/// `x-api-key`: an API key (the api-key plugin), on the task routes.
pub const API_KEY_SCHEME: &str = "apiKeyHeader";

/// The error body every route answers with: Better Auth's `{message, code}`.
pub const ERROR_SCHEMA: &str = "Error";

/// The encoded document, shared by every request.
#[derive(Clone)]
pub struct Document(Arc<[u8]>);

impl Document {
    pub fn new(plugins: Plugins, transcoder: &Transcoder) -> Self {
        let document = build(plugins, transcoder);
        Self(
            serde_json::to_vec(&document)
                .expect("a JSON value always encodes")
                .into(),
        )
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The whole document as a JSON value.
pub fn build(plugins: Plugins, transcoder: &Transcoder) -> Value {
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Warden",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Better Auth's REST API under /api/auth, and the task API under /api/v1, served by Warden's gateway.",
        },
        "paths": {},
        "components": {
            "schemas": {
                ERROR_SCHEMA: {
                    "type": "object",
                    "properties": {
                        "message": {"type": "string"},
                        "code": {"type": "string", "description": "Better Auth's error code, e.g. `UNAUTHORIZED`; absent on a few of its errors."},
                    },
                    "required": ["message"],
                },
            },
            "securitySchemes": {
                SESSION_COOKIE_SCHEME: {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "better-auth.session_token",
                    "description": "The signed session cookie sign-in sets (`__Secure-better-auth.session_token` over https).",
                },
                BEARER_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A session token (from `set-auth-token`), or on /api/v1 a JWT from /api/auth/token or an API key.",
                },
                API_KEY_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-api-key",
                    "description": "An API key from /api/auth/api-key/create, on /api/v1 (with `api-key` in PLUGINS). Acts as its owner with at most its permissions (`task`: `read`, `create`, `update`, `delete`).",
                },
            },
        },
    });
    merge(&mut document, better_auth::describe(plugins));
    merge(&mut document, transcoded::describe(transcoder));
    document
}

/// Adds `part`'s `paths` and each of its `components` sections (`schemas`, `responses`) to `document`. A name
/// defined twice keeps the later definition; the tests check the parts define none twice.
fn merge(document: &mut Value, part: Value) {
    let Value::Object(mut part) = part else {
        return;
    };
    if let Some(Value::Object(paths)) = part.remove("paths") {
        extend(&mut document["paths"], paths);
    }
    if let Some(Value::Object(components)) = part.remove("components") {
        for (section, entries) in components {
            if let Value::Object(entries) = entries {
                extend(&mut document["components"][section.as_str()], entries);
            }
        }
    }
}

/// `slot`'s entries and `entries`, in one object.
fn extend(slot: &mut Value, entries: Map<String, Value>) {
    match slot {
        Value::Object(slot) => slot.extend(entries),
        _ => *slot = Value::Object(entries),
    }
}
