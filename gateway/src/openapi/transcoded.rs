//! The transcoded routes in the OpenAPI document, generated from the same bindings and descriptors that serve them:
//! paths and methods from `google.api.http`, parameters and bodies from the request messages, responses from the
//! response messages, required and read-only fields from `google.api.field_behavior`, and descriptions from the
//! comments in the `.proto` files. A route added to the protos is documented as soon as it is served.

use std::collections::BTreeMap;

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use super::{API_KEY_SCHEME, BEARER_SCHEME, ERROR_SCHEMA, SESSION_COOKIE_SCHEME};
use crate::transcode::binding::{BodyRule, Segment};
use crate::transcode::fields::{Catalog, WellKnown};
use crate::transcode::hooks::{self, OLDER_CLIENTS};
use crate::transcode::{Operation, Transcoder};

/// `{"paths": …, "components": {"schemas": …}}` for every transcoded route, the older clients' aliases included.
pub fn describe(transcoder: &Transcoder) -> Value {
    let mut schemas = Schemas {
        catalog: &transcoder.catalog,
        named: BTreeMap::new(),
    };
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for op in transcoder.operations() {
        let path = openapi_path(op);
        let operation = schemas.operation(op, None);
        paths
            .entry(path.clone())
            .or_default()
            .insert(op.binding.verb.as_str().to_ascii_lowercase(), operation);
        let (from, to) = OLDER_CLIENTS;
        if let Some(rest) = path.strip_prefix(from) {
            let operation = schemas.operation(op, Some(to));
            paths
                .entry(format!("{to}{rest}"))
                .or_default()
                .insert(op.binding.verb.as_str().to_ascii_lowercase(), operation);
        }
    }
    json!({
        "paths": paths,
        "components": {"schemas": schemas.named},
    })
}

/// The template with each variable named after its field's JSON name (`{task.id}` → `{id}`), so that the bindings of
/// one resource share one OpenAPI path, as they share one route.
fn openapi_path(op: &Operation) -> String {
    op.binding
        .segments
        .iter()
        .map(|segment| match segment {
            Segment::Literal(text) => format!("/{text}"),
            Segment::Variable(path) => format!("/{{{}}}", path.leaf().json_name()),
        })
        .collect()
}

/// The `.proto` comment above a descriptor, trimmed.
fn comment(file: &prost_reflect::FileDescriptor, path: &[i32]) -> Option<String> {
    let info = file.file_descriptor_proto().source_code_info.as_ref()?;
    let location = info
        .location
        .iter()
        .find(|location| location.path == path)?;
    let text = location.leading_comments.as_deref()?;
    let text = text
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_owned();
    (!text.is_empty()).then_some(text)
}

fn field_comment(field: &FieldDescriptor) -> Option<String> {
    comment(&field.parent_file(), field.path())
}

struct Schemas<'a> {
    catalog: &'a Catalog,
    named: BTreeMap<String, Value>,
}

impl Schemas<'_> {
    fn operation(&mut self, op: &Operation, alias: Option<&str>) -> Value {
        let method = &op.binding.method;
        let description = comment(&method.parent_file(), method.path()).unwrap_or_default();
        let summary = description
            .split_inclusive(". ")
            .next()
            .unwrap_or_default()
            .trim()
            .trim_end_matches('.')
            .to_owned();
        let mut parameters = Vec::new();
        if alias.is_some() {
            parameters.push(json!({
                "name": "user_id", "in": "path", "required": true, "schema": {"type": "string"},
                "description": "The caller's own user id; any other is 403.",
            }));
        }
        let mut bound = Vec::new();
        for path in op.binding.variables() {
            let leaf = path.leaf();
            bound.push(path.0[0].clone());
            parameters.push(json!({
                "name": leaf.json_name(),
                "in": "path",
                "required": true,
                "schema": self.scalar(&leaf.kind()),
                "description": field_comment(leaf).unwrap_or_else(|| format!("Sets `{}`.", path.dotted())),
            }));
        }
        let body_field = match &op.binding.body {
            BodyRule::Field(field) => Some(field.clone()),
            _ => None,
        };
        if !matches!(op.binding.body, BodyRule::Whole) {
            for field in method.input().fields() {
                if bound.contains(&field) || Some(&field) == body_field.as_ref() {
                    continue;
                }
                if let Some(schema) = self.query_schema(&field) {
                    let mut parameter =
                        json!({"name": field.json_name(), "in": "query", "schema": schema});
                    if let Some(text) = field_comment(&field) {
                        parameter["description"] = json!(text);
                    }
                    parameters.push(parameter);
                }
            }
        }
        if hooks::etag_field(&op.binding).is_some() && op.binding.verb != http::Method::GET {
            parameters.push(json!({
                "name": "If-Match", "in": "header", "schema": {"type": "string"},
                "description": "Entity tags (or `*`) of the versions the write may replace; otherwise 412.",
            }));
        }

        let mut operation = json!({
            "operationId": match alias {
                None => method.name().to_owned(),
                Some(_) => format!("{}ForUser", method.name()),
            },
            "tags": [method.parent_service().name()],
            "summary": summary,
            "description": description,
            "security": match alias {
                None => json!([{SESSION_COOKIE_SCHEME: []}, {BEARER_SCHEME: []}, {API_KEY_SCHEME: []}]),
                Some(_) => json!([{SESSION_COOKIE_SCHEME: []}, {BEARER_SCHEME: []}]),
            },
            "parameters": parameters,
            "responses": self.responses(op),
        });
        if alias.is_some() {
            operation["deprecated"] = json!(true);
        }
        match &op.binding.body {
            BodyRule::None => {}
            BodyRule::Whole => {
                operation["requestBody"] = json!({"required": true, "content": {"application/json": {
                    "schema": self.input(&method.input(), op.update_mask_field().is_some(), &bound)}}});
            }
            BodyRule::Field(field) => {
                if let Kind::Message(resource) = field.kind() {
                    let update = op.update_mask_field().is_some();
                    operation["requestBody"] = json!({"required": true, "content": {"application/json": {
                        "schema": self.input(&resource, update, &[])}}});
                }
            }
        }
        operation
    }

    fn responses(&mut self, op: &Operation) -> Value {
        let output = op.binding.method.output();
        let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{ERROR_SCHEMA}")}}}});
        let mut responses = Map::new();
        if output.full_name() == "google.protobuf.Empty" {
            responses.insert("204".into(), json!({"description": "Done; no body."}));
        } else {
            let mut success = json!({
                "description": "The result.",
                "content": {"application/json": {"schema": self.reference(&output)}},
            });
            if output.get_field_by_name("etag").is_some() {
                success["headers"] = json!({"ETag": {"schema": {"type": "string"}, "description": "The version returned, quoted."}});
            }
            if op.binding.verb == http::Method::POST
                && op.binding.method.name().starts_with("Create")
            {
                success["description"] = json!("Created.");
                success["headers"]["Location"] = json!({"schema": {"type": "string"}, "description": "The new resource's path."});
                responses.insert("201".into(), success);
            } else {
                responses.insert("200".into(), success);
            }
        }
        responses.insert("400".into(), error("A malformed body, query or path (`VALIDATION_ERROR`, `BAD_REQUEST`), or a service refusal."));
        responses.insert(
            "401".into(),
            error("No live session, or a JWT that does not verify (`UNAUTHORIZED`)."),
        );
        responses.insert("403".into(), error("An untrusted origin on a cookie write (`INVALID_ORIGIN`), or another user's path (`FORBIDDEN`)."));
        responses.insert(
            "404".into(),
            error("Not found, or another user's: the same answer (`TASK_NOT_FOUND` on the task routes)."),
        );
        if hooks::etag_field(&op.binding).is_some() {
            responses.insert(
                "412".into(),
                error(
                    "The version named in `If-Match` or `etag` is not current (`ETAG_MISMATCH`).",
                ),
            );
        }
        if !matches!(op.binding.body, BodyRule::None) || op.binding.verb != http::Method::GET {
            responses.insert("413".into(), error("The body is over the size limit."));
            responses.insert("415".into(), error("The body is not JSON."));
        }
        responses.insert(
            "default".into(),
            error("Rate limited (429), or the service is unavailable (5xx)."),
        );
        Value::Object(responses)
    }

    /// A request body schema: server-set fields read-only, required fields required outside an update, strict keys.
    fn input(
        &mut self,
        message: &MessageDescriptor,
        update: bool,
        skip: &[FieldDescriptor],
    ) -> Value {
        let info = self.catalog.message(message);
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in &info.fields {
            if skip.contains(&field.field) {
                continue;
            }
            let mut schema = self.field(&field.field, true);
            if field.server_set {
                schema = json!({"allOf": [schema], "readOnly": true, "description": "Set by the server; ignored."});
            } else if field.required && !update {
                required.push(field.field.json_name().to_owned());
            }
            properties.insert(field.field.json_name().to_owned(), schema);
        }
        let mut schema =
            json!({"type": "object", "properties": properties, "additionalProperties": false});
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        if update {
            schema["description"] = json!("The fields to change; any field left out is kept.");
        }
        schema
    }

    /// A query parameter's schema: scalars, enums and the well-known types written as strings, or lists of them.
    fn query_schema(&mut self, field: &FieldDescriptor) -> Option<Value> {
        if field.is_map() {
            return None;
        }
        let kind = field.kind();
        let scalar = match (&kind, WellKnown::of(&kind)) {
            (
                _,
                Some(
                    WellKnown::Timestamp
                    | WellKnown::Duration
                    | WellKnown::FieldMask
                    | WellKnown::Wrapper,
                ),
            ) => self.well_known_schema(&kind, false),
            (Kind::Message(_), _) => return None,
            _ => self.scalar(&kind),
        };
        Some(if field.is_list() {
            json!({"type": "array", "items": scalar})
        } else {
            scalar
        })
    }

    fn field(&mut self, field: &FieldDescriptor, input: bool) -> Value {
        let kind = field.kind();
        let item = |this: &mut Self, kind: &Kind| match kind {
            Kind::Message(message) if WellKnown::of(kind).is_none() => this.reference(message),
            Kind::Message(_) => this.well_known_schema(kind, input),
            _ if input => this.scalar_input(kind),
            _ => this.scalar(kind),
        };
        let mut schema = if field.is_map() {
            let Kind::Message(entry) = &kind else {
                return json!({});
            };
            let value = entry.map_entry_value_field().kind();
            json!({"type": "object", "additionalProperties": item(self, &value)})
        } else if field.is_list() {
            json!({"type": "array", "items": item(self, &kind)})
        } else {
            item(self, &kind)
        };
        if let Some(text) = field_comment(field)
            && schema.get("$ref").is_none()
        {
            schema["description"] = json!(text);
        }
        schema
    }

    /// `$ref` to a message's response schema, defining it on first use.
    fn reference(&mut self, message: &MessageDescriptor) -> Value {
        let name = message.name().to_owned();
        if !self.named.contains_key(&name) {
            self.named.insert(name.clone(), json!({}));
            let schema = self.output(message);
            self.named.insert(name.clone(), schema);
        }
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    /// A response message: every field without presence is always written.
    fn output(&mut self, message: &MessageDescriptor) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in message.fields() {
            if !field.supports_presence() {
                required.push(field.json_name().to_owned());
            }
            let schema = self.field(&field, false);
            properties.insert(field.json_name().to_owned(), schema);
        }
        let mut schema = json!({"type": "object", "properties": properties, "required": required});
        if let Some(text) = comment(&message.parent_file(), message.path()) {
            schema["description"] = json!(text);
        }
        schema
    }

    fn well_known_schema(&mut self, kind: &Kind, input: bool) -> Value {
        let Kind::Message(message) = kind else {
            return json!({});
        };
        match WellKnown::of(kind) {
            Some(WellKnown::Timestamp) => json!({"type": "string", "format": "date-time"}),
            Some(WellKnown::Duration) => {
                json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$"})
            }
            Some(WellKnown::FieldMask) => {
                json!({"type": "string", "description": "Comma-separated field names."})
            }
            Some(WellKnown::Empty) => json!({"type": "object", "maxProperties": 0}),
            Some(WellKnown::Struct) => json!({"type": "object"}),
            Some(WellKnown::ListValue) => json!({"type": "array"}),
            Some(WellKnown::Value) => json!({}),
            Some(WellKnown::Wrapper) => match message.get_field_by_name("value") {
                Some(inner) if input => self.scalar_input(&inner.kind()),
                Some(inner) => self.scalar(&inner.kind()),
                None => json!({}),
            },
            None => self.reference(message),
        }
    }

    /// A scalar as the responses write it.
    fn scalar(&self, kind: &Kind) -> Value {
        match kind {
            Kind::String => json!({"type": "string"}),
            Kind::Bool => json!({"type": "boolean"}),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                json!({"type": "integer", "format": "int32"})
            }
            Kind::Uint32 | Kind::Fixed32 => {
                json!({"type": "integer", "format": "int32", "minimum": 0})
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                json!({"type": "string", "format": "int64"})
            }
            Kind::Uint64 | Kind::Fixed64 => json!({"type": "string", "format": "uint64"}),
            Kind::Double | Kind::Float => {
                json!({"oneOf": [{"type": "number"}, {"enum": ["NaN", "Infinity", "-Infinity"]}]})
            }
            Kind::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
            Kind::Enum(values) => {
                json!({"type": "string", "enum": values.values().map(|v| v.name().to_owned()).collect::<Vec<_>>()})
            }
            Kind::Message(_) => json!({"type": "object"}),
        }
    }

    /// A scalar as requests may send it: proto3 JSON also takes 64-bit integers as numbers and enums as numbers.
    fn scalar_input(&self, kind: &Kind) -> Value {
        match kind {
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
                json!({"type": ["string", "integer"]})
            }
            Kind::Enum(_) => json!({"oneOf": [self.scalar(kind), {"type": "integer"}]}),
            _ => self.scalar(kind),
        }
    }
}
