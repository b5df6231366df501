//! Responses out: the RPC's response message as proto3 JSON, written straight into the response body.
//!
//! Keys are the fields' JSON names (lowerCamelCase), in declaration order; every field without presence is written
//! even when it holds its default (`"completed": false`, `"nextPageToken": ""`), so a client never has to guess a
//! missing key; a message field or `optional` field that is unset is left out. Timestamps are RFC 3339 in UTC with
//! exactly three decimals (`2026-11-23T11:08:21.797Z`), as every other date Warden writes; 64-bit integers are
//! strings, as proto3 JSON requires.

use std::fmt::Write as _;

use base64::Engine;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, ReflectMessage, Value};

use super::fields::WellKnown;

/// `message` as proto3 JSON.
pub fn to_json(message: &DynamicMessage) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    write_message(&mut out, message);
    out.into_bytes()
}

fn write_message(out: &mut String, message: &DynamicMessage) {
    let descriptor = message.descriptor();
    if let Some(known) = WellKnown::of(&Kind::Message(descriptor.clone())) {
        write_well_known(out, known, message);
        return;
    }
    out.push('{');
    let mut first = true;
    for field in descriptor.fields() {
        if field.supports_presence() && !message.has_field(&field) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        write_str(out, field.json_name());
        out.push(':');
        write_field(out, &field, &message.get_field(&field));
    }
    out.push('}');
}

fn write_field(out: &mut String, field: &FieldDescriptor, value: &Value) {
    let kind = field.kind();
    match value {
        Value::List(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, &kind, item);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let value_kind = match &kind {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                other => other.clone(),
            };
            let mut entries: Vec<_> = entries.iter().collect();
            entries.sort_by_key(|(a, _)| map_key(a));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_str(out, &map_key(key));
                out.push(':');
                write_value(out, &value_kind, item);
            }
            out.push('}');
        }
        single => write_value(out, &kind, single),
    }
}

fn map_key(key: &MapKey) -> String {
    match key {
        MapKey::Bool(value) => value.to_string(),
        MapKey::I32(value) => value.to_string(),
        MapKey::I64(value) => value.to_string(),
        MapKey::U32(value) => value.to_string(),
        MapKey::U64(value) => value.to_string(),
        MapKey::String(value) => value.clone(),
    }
}

fn write_value(out: &mut String, kind: &Kind, value: &Value) {
    match value {
        Value::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
        Value::I32(value) => {
            let _ = write!(out, "{value}");
        }
        Value::U32(value) => {
            let _ = write!(out, "{value}");
        }
        Value::I64(value) => {
            let _ = write!(out, "\"{value}\"");
        }
        Value::U64(value) => {
            let _ = write!(out, "\"{value}\"");
        }
        Value::F32(value) => write_float(out, f64::from(*value)),
        Value::F64(value) => write_float(out, *value),
        Value::String(text) => write_str(out, text),
        Value::Bytes(bytes) => {
            write_str(
                out,
                &base64::engine::general_purpose::STANDARD.encode(bytes),
            );
        }
        Value::EnumNumber(number) => match kind {
            Kind::Enum(values) => match values.get_value(*number) {
                Some(value) => write_str(out, value.name()),
                None => {
                    let _ = write!(out, "{number}");
                }
            },
            _ => {
                let _ = write!(out, "{number}");
            }
        },
        Value::Message(message) => write_message(out, message),
        Value::List(_) | Value::Map(_) => out.push_str("null"),
    }
}

pub fn write_float(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("\"NaN\"");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else {
        let _ = write!(out, "{value}");
    }
}

/// `text` as a JSON string, escaped as serde_json escapes it (short forms for `\b \f \n \r \t`, `\u00xx` for the
/// other control characters), written in place.
pub fn write_str(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let mut plain = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[plain..at]);
        plain = at + 1;
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(&text[plain..]);
    out.push('"');
}

fn i64_field(message: &DynamicMessage, name: &str) -> i64 {
    message
        .get_field_by_name(name)
        .and_then(|value| value.as_i64())
        .unwrap_or_default()
}

fn i32_field(message: &DynamicMessage, name: &str) -> i32 {
    message
        .get_field_by_name(name)
        .and_then(|value| value.as_i32())
        .unwrap_or_default()
}

fn write_well_known(out: &mut String, known: WellKnown, message: &DynamicMessage) {
    match known {
        WellKnown::Timestamp => {
            let timestamp = prost_types::Timestamp {
                seconds: i64_field(message, "seconds"),
                nanos: i32_field(message, "nanos"),
            };
            match crate::json::iso_date(Some(&timestamp)) {
                Some(date) => write_str(out, &date),
                None => out.push_str("null"),
            }
        }
        WellKnown::Duration => {
            let seconds = i64_field(message, "seconds");
            let nanos = i32_field(message, "nanos");
            let sign = if seconds < 0 || nanos < 0 { "-" } else { "" };
            let (seconds, nanos) = (seconds.unsigned_abs(), nanos.unsigned_abs());
            if nanos == 0 {
                let _ = write!(out, "\"{sign}{seconds}s\"");
            } else {
                let fraction = format!("{nanos:09}");
                let _ = write!(
                    out,
                    "\"{sign}{seconds}.{}s\"",
                    fraction.trim_end_matches('0')
                );
            }
        }
        WellKnown::FieldMask => {
            let paths: Vec<String> = message
                .get_field_by_name("paths")
                .and_then(|value| value.as_list().map(<[Value]>::to_vec))
                .unwrap_or_default()
                .iter()
                .filter_map(|path| path.as_str().map(camel_case))
                .collect();
            write_str(out, &paths.join(","));
        }
        WellKnown::Empty => out.push_str("{}"),
        WellKnown::Wrapper => {
            let descriptor = message.descriptor();
            match descriptor.get_field_by_name("value") {
                Some(field) => write_value(out, &field.kind(), &message.get_field(&field)),
                None => out.push_str("null"),
            }
        }
        WellKnown::Struct | WellKnown::Value | WellKnown::ListValue => write_struct(out, message),
    }
}

/// `google.protobuf.Struct`, `Value` and `ListValue` as the JSON they stand for.
fn write_struct(out: &mut String, message: &DynamicMessage) {
    let descriptor = message.descriptor();
    match descriptor.full_name() {
        "google.protobuf.Struct" => match descriptor.get_field_by_name("fields") {
            Some(field) => write_field(out, &field, &message.get_field(&field)),
            None => out.push_str("{}"),
        },
        "google.protobuf.ListValue" => match descriptor.get_field_by_name("values") {
            Some(field) => write_field(out, &field, &message.get_field(&field)),
            None => out.push_str("[]"),
        },
        _ => {
            let set = descriptor.fields().find(|field| message.has_field(field));
            match set {
                None => out.push_str("null"),
                Some(field) if field.name() == "null_value" => out.push_str("null"),
                Some(field) => write_value(out, &field.kind(), &message.get_field(&field)),
            }
        }
    }
}

/// snake_case to lowerCamelCase, as field masks are written in JSON.
fn camel_case(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper = false;
    for c in path.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
