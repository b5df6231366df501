//! Requests in: a JSON body, query parameters and path variables into the RPC's request message, under proto3 JSON's
//! rules and reporting problems as the hand-written routes do (zod's `[body.title] Invalid input: expected string,
//! received null`), every problem at once.
//!
//! Bodies are strict: a key that names no field is refused, so a typo is never silently ignored. Query parameters
//! that name no field are ignored, as on the rest of the API. Both the JSON name and the proto name of a field are
//! accepted, as proto3 JSON parsers do; `null` stands for the field's default, except for a `REQUIRED` field.

use base64::Engine;
use chrono::{DateTime, Utc};
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage, Value,
};
use serde_json::{Map, Value as Json};

use super::binding::FieldPath;
use super::fields::{Catalog, WellKnown};

/// Collects every problem found while reading one request.
pub struct Reader<'a> {
    catalog: &'a Catalog,
    pub issues: Vec<String>,
}

/// What a field of `kind` expects, in zod's words.
fn expected(kind: &Kind) -> String {
    match WellKnown::of(kind) {
        Some(WellKnown::Timestamp) => return "an RFC 3339 date".into(),
        Some(WellKnown::Duration) => return "a duration such as \"1.5s\"".into(),
        Some(WellKnown::FieldMask) => return "a comma-separated list of field names".into(),
        Some(WellKnown::ListValue) => return "array".into(),
        Some(WellKnown::Value) => return "a JSON value".into(),
        Some(WellKnown::Wrapper) => {
            if let Kind::Message(wrapper) = kind
                && let Some(inner) = wrapper.get_field_by_name("value")
            {
                return expected(&inner.kind());
            }
        }
        _ => {}
    }
    match kind {
        Kind::String => "string".into(),
        Kind::Bool => "boolean".into(),
        Kind::Double | Kind::Float => "number".into(),
        Kind::Bytes => "a base64 string".into(),
        Kind::Enum(values) => {
            let names: Vec<String> = values.values().map(|v| format!("{:?}", v.name())).collect();
            format!("one of {}", names.join("|"))
        }
        Kind::Message(_) => "object".into(),
        _ => "an integer".into(),
    }
}

impl<'a> Reader<'a> {
    pub fn new(catalog: &'a Catalog) -> Self {
        Self {
            catalog,
            issues: Vec::new(),
        }
    }

    fn invalid(&mut self, at: &str, kind: &Kind, value: Option<&Json>) {
        self.issues.push(format!(
            "[{at}] Invalid input: expected {}, received {}",
            expected(kind),
            crate::json::received(value)
        ));
    }

    fn invalid_text(&mut self, at: &str, expected: &str, raw: &str) {
        self.issues.push(format!(
            "[{at}] Invalid input: expected {expected}, received {raw:?}"
        ));
    }

    /// Reads `object` into `message`; in an `update`, required fields may be left out. Returns the fields the object
    /// set (`null` included), in declaration order, for an update mask; server-set fields are not among them.
    pub fn object(
        &mut self,
        message: &mut DynamicMessage,
        object: &Map<String, Json>,
        at: &str,
        update: bool,
    ) -> Vec<FieldDescriptor> {
        let info = self.catalog.message(&message.descriptor());
        let mut present = Vec::new();
        for field in &info.fields {
            let descriptor = &field.field;
            let value = object
                .get(descriptor.json_name())
                .or_else(|| object.get(descriptor.name()));
            if field.server_set {
                continue;
            }
            let here = format!("{at}.{}", descriptor.json_name());
            match value {
                None if field.required && !update => {
                    self.invalid(&here, &descriptor.kind(), None);
                }
                None => {}
                Some(Json::Null) if field.required => {
                    self.invalid(&here, &descriptor.kind(), Some(&Json::Null));
                }
                Some(Json::Null) if WellKnown::of(&descriptor.kind()) != Some(WellKnown::Value) => {
                    present.push(descriptor.clone());
                }
                Some(value) => {
                    if let Some(value) = self.field(descriptor, value, &here) {
                        message.set_field(descriptor, value);
                    }
                    present.push(descriptor.clone());
                }
            }
        }
        let unknown: Vec<String> = object
            .keys()
            .filter(|key| info.get(key).is_none())
            .map(|key| format!("{key:?}"))
            .collect();
        match unknown.as_slice() {
            [] => {}
            [key] => self.issues.push(format!("[{at}] Unrecognized key: {key}")),
            keys => self
                .issues
                .push(format!("[{at}] Unrecognized keys: {}", keys.join(", "))),
        }
        present
    }

    /// A field's JSON value: a list, a map or a single value.
    fn field(&mut self, field: &FieldDescriptor, value: &Json, at: &str) -> Option<Value> {
        let kind = field.kind();
        if field.is_map() {
            let Json::Object(entries) = value else {
                self.issues.push(format!(
                    "[{at}] Invalid input: expected record, received {}",
                    crate::json::received(Some(value))
                ));
                return None;
            };
            let Kind::Message(entry) = kind else {
                return None;
            };
            let (key_field, value_field) =
                (entry.map_entry_key_field(), entry.map_entry_value_field());
            let mut map = std::collections::HashMap::new();
            for (key, item) in entries {
                let here = format!("{at}.{key}");
                let key = self.map_key(&key_field.kind(), key, &here);
                let item = self.single(&value_field.kind(), item, &here);
                if let (Some(key), Some(item)) = (key, item) {
                    map.insert(key, item);
                }
            }
            return Some(Value::Map(map));
        }
        if field.is_list() {
            let Json::Array(items) = value else {
                self.issues.push(format!(
                    "[{at}] Invalid input: expected array, received {}",
                    crate::json::received(Some(value))
                ));
                return None;
            };
            let items: Vec<Option<Value>> = items
                .iter()
                .enumerate()
                .map(|(index, item)| self.single(&kind, item, &format!("{at}.{index}")))
                .collect();
            return items
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(Value::List);
        }
        self.single(&kind, value, at)
    }

    fn map_key(&mut self, kind: &Kind, key: &str, at: &str) -> Option<MapKey> {
        Some(match self.text(kind, key, at)? {
            Value::String(text) => MapKey::String(text),
            Value::Bool(value) => MapKey::Bool(value),
            Value::I32(value) => MapKey::I32(value),
            Value::I64(value) => MapKey::I64(value),
            Value::U32(value) => MapKey::U32(value),
            Value::U64(value) => MapKey::U64(value),
            _ => return None,
        })
    }

    /// One value of `kind` from JSON.
    fn single(&mut self, kind: &Kind, value: &Json, at: &str) -> Option<Value> {
        if let Some(known) = WellKnown::of(kind) {
            return self.well_known(known, kind, value, at);
        }
        let read = match (kind, value) {
            (Kind::String, Json::String(text)) => Some(Value::String(text.clone())),
            (Kind::Bool, Json::Bool(value)) => Some(Value::Bool(*value)),
            (Kind::Double | Kind::Float, Json::Number(number)) => {
                number.as_f64().map(|n| float(kind, n))
            }
            (Kind::Message(inner), Json::Object(object)) => {
                let mut message = DynamicMessage::new(inner.clone());
                self.object(&mut message, object, at, false);
                Some(Value::Message(message))
            }
            (Kind::Enum(_), Json::Number(number)) => number
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .map(Value::EnumNumber),
            (_, Json::Number(number)) if is_integer(kind) => integer(kind, &number.to_string()),
            // proto3 JSON writes 64-bit integers, special floats, bytes and enums as strings.
            (_, Json::String(text))
                if !matches!(kind, Kind::String | Kind::Bool | Kind::Message(_)) =>
            {
                return self.text(kind, text, at);
            }
            _ => None,
        };
        if read.is_none() {
            self.invalid(at, kind, Some(value));
        }
        read
    }

    fn well_known(
        &mut self,
        known: WellKnown,
        kind: &Kind,
        value: &Json,
        at: &str,
    ) -> Option<Value> {
        let Kind::Message(descriptor) = kind else {
            return None;
        };
        let read = match (known, value) {
            (
                WellKnown::Timestamp | WellKnown::Duration | WellKnown::FieldMask,
                Json::String(text),
            ) => {
                return self.text(kind, text, at);
            }
            (WellKnown::Empty, Json::Object(object)) if object.is_empty() => {
                Some(DynamicMessage::new(descriptor.clone()))
            }
            (WellKnown::Wrapper, _) => {
                let inner = descriptor.get_field_by_name("value")?;
                let read = self.single(&inner.kind(), value, at)?;
                let mut message = DynamicMessage::new(descriptor.clone());
                message.set_field(&inner, read);
                return Some(Value::Message(message));
            }
            (WellKnown::Value | WellKnown::Struct | WellKnown::ListValue, _) => {
                struct_value(descriptor, value)
            }
            _ => None,
        };
        if read.is_none() {
            self.invalid(at, kind, Some(value));
        }
        read.map(Value::Message)
    }

    /// One value of `kind` from text: a query parameter, a path segment, a map key, or a JSON string.
    pub fn text(&mut self, kind: &Kind, raw: &str, at: &str) -> Option<Value> {
        let read = match kind {
            Kind::String => Some(Value::String(raw.to_owned())),
            Kind::Bool => match raw {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => {
                    self.invalid_text(at, "\"true\" or \"false\"", raw);
                    return None;
                }
            },
            Kind::Double | Kind::Float => match raw {
                "NaN" => Some(float(kind, f64::NAN)),
                "Infinity" => Some(float(kind, f64::INFINITY)),
                "-Infinity" => Some(float(kind, f64::NEG_INFINITY)),
                _ => raw
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .map(|n| float(kind, n)),
            },
            Kind::Bytes => base64::engine::general_purpose::STANDARD
                .decode(raw)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(raw))
                .ok()
                .map(|bytes| Value::Bytes(bytes.into())),
            Kind::Enum(values) => values
                .get_value_by_name(raw)
                .map(|value| Value::EnumNumber(value.number()))
                .or_else(|| raw.parse::<i32>().ok().map(Value::EnumNumber)),
            Kind::Message(descriptor) => match WellKnown::of(kind) {
                Some(WellKnown::Timestamp) => timestamp(descriptor, raw),
                Some(WellKnown::Duration) => duration(descriptor, raw),
                Some(WellKnown::FieldMask) => field_mask(descriptor, raw),
                Some(WellKnown::Wrapper) => {
                    let inner = descriptor.get_field_by_name("value")?;
                    let value = self.text(&inner.kind(), raw, at)?;
                    let mut message = DynamicMessage::new(descriptor.clone());
                    message.set_field(&inner, value);
                    Some(Value::Message(message))
                }
                _ => None,
            },
            _ => integer(kind, raw.trim()),
        };
        if read.is_none() {
            self.invalid_text(at, &expected(kind), raw);
        }
        read
    }

    /// Query parameters into the fields `allowed` lets through (those neither the path nor the body fills). A
    /// singular field takes its first value; a repeated field every value.
    pub fn query(
        &mut self,
        message: &mut DynamicMessage,
        query: &str,
        allowed: impl Fn(&FieldDescriptor) -> bool,
    ) {
        let mut seen = std::collections::HashSet::new();
        for (key, raw) in url::form_urlencoded::parse(query.as_bytes()) {
            let Some((path, label)) = self.query_field(&message.descriptor(), &key) else {
                continue;
            };
            if !allowed(&path.0[0]) {
                continue;
            }
            let leaf = path.leaf().clone();
            if !leaf.is_list() && !seen.insert(path.dotted()) {
                continue;
            }
            let Some(value) = self.text(&leaf.kind(), &raw, &format!("query.{label}")) else {
                continue;
            };
            let parent = path.parent_mut(message);
            if leaf.is_list() {
                if let Some(list) = parent.get_field_mut(&leaf).as_list_mut() {
                    list.push(value);
                }
            } else {
                parent.set_field(&leaf, value);
            }
        }
    }

    /// The field a parameter name (`pageSize`, `page_size`, `filter.state`) reaches, and its JSON-named label.
    fn query_field(&self, message: &MessageDescriptor, key: &str) -> Option<(FieldPath, String)> {
        let mut current = message.clone();
        let mut fields = Vec::new();
        let mut labels = Vec::new();
        let mut names = key.split('.').peekable();
        while let Some(name) = names.next() {
            let field = self.catalog.message(&current).get(name)?.field.clone();
            let kind = field.kind();
            if names.peek().is_some() {
                match kind {
                    Kind::Message(inner)
                        if WellKnown::of(&field.kind()).is_none()
                            && !field.is_list()
                            && !field.is_map() =>
                    {
                        current = inner;
                    }
                    _ => return None,
                }
            } else if field.is_map()
                || matches!(
                    WellKnown::of(&kind),
                    Some(
                        WellKnown::Struct
                            | WellKnown::Value
                            | WellKnown::ListValue
                            | WellKnown::Empty
                    )
                )
                || (matches!(kind, Kind::Message(_)) && WellKnown::of(&kind).is_none())
            {
                return None;
            }
            labels.push(field.json_name().to_owned());
            fields.push(field);
        }
        Some((FieldPath(fields), labels.join(".")))
    }

    /// A path variable's text into its field.
    pub fn path_variable(&mut self, message: &mut DynamicMessage, path: &FieldPath, raw: &str) {
        let leaf = path.leaf().clone();
        if let Some(value) = self.text(&leaf.kind(), raw, &format!("path.{}", path.dotted())) {
            path.parent_mut(message).set_field(&leaf, value);
        }
    }
}

fn is_integer(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Int32
            | Kind::Sint32
            | Kind::Sfixed32
            | Kind::Int64
            | Kind::Sint64
            | Kind::Sfixed64
            | Kind::Uint32
            | Kind::Fixed32
            | Kind::Uint64
            | Kind::Fixed64
    )
}

/// An integer of `kind` from its decimal text; `None` when it is not one or out of range.
fn integer(kind: &Kind, raw: &str) -> Option<Value> {
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => raw.parse().ok().map(Value::I32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => raw.parse().ok().map(Value::I64),
        Kind::Uint32 | Kind::Fixed32 => raw.parse().ok().map(Value::U32),
        Kind::Uint64 | Kind::Fixed64 => raw.parse().ok().map(Value::U64),
        _ => None,
    }
}

fn float(kind: &Kind, value: f64) -> Value {
    if matches!(kind, Kind::Float) {
        #[allow(clippy::cast_possible_truncation)]
        Value::F32(value as f32)
    } else {
        Value::F64(value)
    }
}

fn seconds_and_nanos(descriptor: &MessageDescriptor, seconds: i64, nanos: i32) -> Option<Value> {
    let mut message = DynamicMessage::new(descriptor.clone());
    message.set_field_by_name("seconds", Value::I64(seconds));
    message.set_field_by_name("nanos", Value::I32(nanos));
    Some(Value::Message(message))
}

fn timestamp(descriptor: &MessageDescriptor, raw: &str) -> Option<Value> {
    let date: DateTime<Utc> = DateTime::parse_from_rfc3339(raw).ok()?.with_timezone(&Utc);
    let nanos = i32::try_from(date.timestamp_subsec_nanos()).ok()?;
    seconds_and_nanos(descriptor, date.timestamp(), nanos)
}

/// `"1.5s"`, `"-0.000000001s"`: seconds with up to nine decimals.
fn duration(descriptor: &MessageDescriptor, raw: &str) -> Option<Value> {
    let number = raw.strip_suffix('s')?;
    let (negative, number) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 9
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let seconds: i64 = whole.parse().ok()?;
    let nanos: i32 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    let sign = if negative { -1 } else { 1 };
    seconds_and_nanos(descriptor, sign * seconds, sign as i32 * nanos)
}

/// `"title,ownerId"` into the proto names `title`, `owner_id`.
fn field_mask(descriptor: &MessageDescriptor, raw: &str) -> Option<Value> {
    let paths: Vec<Value> = raw
        .split(',')
        .filter(|path| !path.is_empty())
        .map(|path| Value::String(snake_case(path)))
        .collect();
    let mut message = DynamicMessage::new(descriptor.clone());
    message.set_field_by_name("paths", Value::List(paths));
    Some(Value::Message(message))
}

/// lowerCamelCase to snake_case, segment by segment (`task.ownerId` → `task.owner_id`).
pub fn snake_case(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Any JSON as `google.protobuf.Value`, `Struct` or `ListValue` (whichever `descriptor` is).
fn struct_value(descriptor: &MessageDescriptor, value: &Json) -> Option<DynamicMessage> {
    let pool = descriptor.parent_pool();
    let value_type = pool.get_message_by_name("google.protobuf.Value")?;
    let struct_type = pool.get_message_by_name("google.protobuf.Struct")?;
    let list_type = pool.get_message_by_name("google.protobuf.ListValue")?;
    let to_value = |json: &Json| struct_value(&value_type, json).map(Value::Message);
    match descriptor.full_name() {
        "google.protobuf.Struct" => {
            let Json::Object(object) = value else {
                return None;
            };
            let mut fields = std::collections::HashMap::new();
            for (key, item) in object {
                fields.insert(MapKey::String(key.clone()), to_value(item)?);
            }
            let mut message = DynamicMessage::new(struct_type);
            message.set_field_by_name("fields", Value::Map(fields));
            Some(message)
        }
        "google.protobuf.ListValue" => {
            let Json::Array(items) = value else {
                return None;
            };
            let values = items.iter().map(to_value).collect::<Option<Vec<_>>>()?;
            let mut message = DynamicMessage::new(list_type);
            message.set_field_by_name("values", Value::List(values));
            Some(message)
        }
        _ => {
            let mut message = DynamicMessage::new(value_type);
            match value {
                Json::Null => message.set_field_by_name("null_value", Value::EnumNumber(0)),
                Json::Bool(b) => message.set_field_by_name("bool_value", Value::Bool(*b)),
                Json::Number(n) => {
                    message.set_field_by_name("number_value", Value::F64(n.as_f64()?))
                }
                Json::String(s) => {
                    message.set_field_by_name("string_value", Value::String(s.clone()))
                }
                Json::Array(_) => message.set_field_by_name(
                    "list_value",
                    Value::Message(struct_value(&list_type, value)?),
                ),
                Json::Object(_) => message.set_field_by_name(
                    "struct_value",
                    Value::Message(struct_value(&struct_type, value)?),
                ),
            }
            Some(message)
        }
    }
}
