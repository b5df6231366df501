//! Claim and profile members read as Better Auth reads them.

use serde_json::{Map, Value};

pub(super) fn text<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str)
}

/// An account subject as Better Auth's `String(value)`: a string or a number; empty, `"undefined"` and `"null"` are
/// none (§5.2 step 11).
pub(super) fn subject_of(value: Option<&Value>) -> Option<String> {
    let subject = match value? {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    (!subject.is_empty() && subject != "undefined" && subject != "null").then_some(subject)
}

/// Better Auth's `parseStringBoolean`: `true`, `false` and their exact string forms.
pub(super) fn string_bool(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text == "true" => Some(true),
        Value::String(text) if text == "false" => Some(false),
        _ => None,
    }
}

/// A non-empty string member; Better Auth treats an empty one as absent.
pub(super) fn non_empty(object: &Map<String, Value>, name: &str) -> Option<String> {
    text(object, name)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}
