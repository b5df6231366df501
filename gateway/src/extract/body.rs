//! The request body under Better Auth's rules, in its order: media type and JSON parsing (415/400), the origin
//! checks (403), then schema validation (400 `VALIDATION_ERROR`), so a handler only ever sees a well-formed request.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use http::{HeaderMap, StatusCode, header};
use serde_json::{Map, Value};
use warden_proto::Reason;

use super::shape::Shape;
use crate::error::ApiError;
use crate::error::PAYLOAD_TOO_LARGE_MESSAGE;
use crate::origin::{RedirectUrls, RequestOrigin};
use crate::state::AppState;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// A request body schema: which media types it accepts, and how its fields are read.
pub trait Schema: Sized {
    /// Whether `application/x-www-form-urlencoded` is accepted besides JSON (sign-up and sign-in).
    const FORM: bool = false;
    /// Whether the login CSRF rule applies (sign-up and sign-in).
    const LOGIN: bool = false;
    /// What the body must be as a whole (an object unless the route says otherwise).
    const SHAPE: Shape = Shape::Object;

    /// Reads the fields; problems are recorded in `fields`, and the value returned is then discarded.
    fn read(fields: &mut Fields<'_>) -> Self;
}

/// A body that accepts any object and reads nothing from it.
#[derive(Debug, Default)]
pub struct AnyObject;

impl Schema for AnyObject {
    const SHAPE: Shape = Shape::OptionalObject;

    fn read(_: &mut Fields<'_>) -> Self {
        Self
    }
}

/// A validated request body.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: Schema> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let object = read_object(request, state, T::SHAPE, T::FORM, T::LOGIN).await?;
        validate(&object).map(Self)
    }
}

/// The body as a JSON object (an empty one when absent), through every check but the schema's: media type and JSON
/// (415/400), the origin checks (403, the login rule when `login`), then `shape` (400).
pub async fn read_object(
    request: Request,
    state: &AppState,
    shape: Shape,
    form: bool,
    login: bool,
) -> Result<Map<String, Value>, ApiError> {
    let method = request.method().clone();
    let headers = request.headers().clone();
    let query = request.uri().query().map(str::to_owned);
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::local(status, Reason::PayloadTooLarge, PAYLOAD_TOO_LARGE_MESSAGE)
            } else {
                ApiError::local(status, Reason::BadRequest, rejection.body_text())
            }
        })?;
    let body = parse_body(&headers, &bytes, form)?;
    // A body of the wrong shape is a validation error, so it is reported after the origin checks.
    let shape = shape.check(body.as_ref());
    let object = match body {
        Some(Value::Object(object)) => object,
        _ => Map::new(),
    };

    let redirects = RedirectUrls::from_request(&object, query.as_deref());
    let origin = RequestOrigin::from_request(&method, &headers);
    state.origins.check_request(&origin, login, &redirects)?;

    shape?;
    Ok(object)
}

/// Reads `object` with schema `T`: the value, or 400 with every issue.
pub fn validate<T: Schema>(object: &Map<String, Value>) -> Result<T, ApiError> {
    let mut fields = Fields::new(object);
    let value = T::read(&mut fields);
    fields.finish()?;
    Ok(value)
}

/// The body as a JSON object, or Better Auth's 415/400 error; a missing body is an empty object.
pub fn parse_object(
    headers: &HeaderMap,
    bytes: &[u8],
    form_allowed: bool,
) -> Result<Map<String, Value>, ApiError> {
    let body = parse_body(headers, bytes, form_allowed)?;
    Shape::OptionalObject.check(body.as_ref())?;
    match body {
        Some(Value::Object(object)) => Ok(object),
        _ => Ok(Map::new()),
    }
}

/// The body as JSON (`None`: no body, zod's `undefined`), or Better Auth's 415/400 error.
fn parse_body(
    headers: &HeaderMap,
    bytes: &[u8],
    form_allowed: bool,
) -> Result<Option<Value>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let essence = content_type
        .as_deref()
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());

    // Better Auth's Node adapter reads no body that is empty or comes without a content type: zod then sees
    // `undefined`, and no media type is refused.
    if bytes.is_empty() || essence.as_deref().is_none_or(str::is_empty) {
        return Ok(None);
    }
    match essence.as_deref() {
        Some(JSON) => parse_json(bytes),
        Some(FORM) if form_allowed => Ok(Some(Value::Object(
            url::form_urlencoded::parse(bytes)
                .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
                .collect(),
        ))),
        _ => {
            // Better Auth names the form type first.
            let allowed = if form_allowed {
                format!("{FORM}, {JSON}")
            } else {
                JSON.to_owned()
            };
            Err(ApiError::local(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Reason::UnsupportedMediaType,
                format!(
                    "Content-Type \"{}\" is not allowed. Allowed types: {allowed}",
                    content_type.unwrap_or_default()
                ),
            ))
        }
    }
}

fn parse_json(bytes: &[u8]) -> Result<Option<Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => Ok(Some(value)),
        Err(_) => Err(ApiError::bad_request(
            Reason::BadRequest,
            "Invalid JSON in request body",
        )),
    }
}

/// Reads a body's fields as Better Auth's zod schemas do, collecting every issue.
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    issues: Vec<String>,
    not_allowed: Option<String>,
}

impl<'a> Fields<'a> {
    pub fn new(object: &'a Map<String, Value>) -> Self {
        Self {
            object,
            issues: Vec::new(),
            not_allowed: None,
        }
    }

    fn issue(&mut self, key: &str, expected: &str) {
        let received = crate::json::received(self.object.get(key));
        self.issues.push(format!(
            "[body.{key}] Invalid input: expected {expected}, received {received}"
        ));
    }

    /// A required string; `""` (and an issue) when missing or of another type.
    pub fn string(&mut self, key: &str) -> String {
        match self.object.get(key) {
            Some(Value::String(value)) => value.clone(),
            _ => {
                self.issue(key, "string");
                String::new()
            }
        }
    }

    pub fn optional_string(&mut self, key: &str) -> Option<String> {
        match self.object.get(key) {
            None => None,
            Some(Value::String(value)) => Some(value.clone()),
            Some(_) => {
                self.issue(key, "string");
                None
            }
        }
    }

    pub fn optional_bool(&mut self, key: &str) -> Option<bool> {
        match self.object.get(key) {
            None => None,
            Some(Value::Bool(value)) => Some(*value),
            Some(_) => {
                self.issue(key, "boolean");
                None
            }
        }
    }

    /// An optional string where `null` stands for the empty string, as in proto3 JSON.
    pub fn nullable_string(&mut self, key: &str) -> Option<String> {
        match self.object.get(key) {
            Some(Value::Null) => Some(String::new()),
            _ => self.optional_string(key),
        }
    }

    /// An optional boolean where `null` stands for `false`, as in proto3 JSON.
    pub fn nullable_bool(&mut self, key: &str) -> Option<bool> {
        match self.object.get(key) {
            Some(Value::Null) => Some(false),
            _ => self.optional_bool(key),
        }
    }

    pub fn optional_number(&mut self, key: &str) -> Option<f64> {
        match self.object.get(key) {
            None => None,
            Some(Value::Number(value)) => value.as_f64(),
            Some(_) => {
                self.issue(key, "number");
                None
            }
        }
    }

    /// A string or an array of strings (zod's `union([string(), array(string())])`), as a list; `required` makes a
    /// missing value an issue.
    pub fn strings(&mut self, key: &str, required: bool) -> Vec<String> {
        match self.object.get(key) {
            None if !required => Vec::new(),
            Some(Value::String(value)) => vec![value.clone()],
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect(),
            _ => {
                self.issues.push(format!("[body.{key}] Invalid input"));
                Vec::new()
            }
        }
    }

    /// The issues found so far, for a nested object read with a `Fields` of its own.
    pub fn into_issues(self) -> Vec<String> {
        self.issues
    }

    /// Records an issue found elsewhere (a nested object's).
    pub fn push_issue(&mut self, issue: String) {
        self.issues.push(issue);
    }

    /// zod's bare refusal of a field (an enum or union that matched nothing): `[body.key] Invalid input`.
    pub fn invalid(&mut self, key: &str) {
        self.issues.push(format!("[body.{key}] Invalid input"));
    }

    /// zod's refusal of a field of the wrong type: `[body.key] Invalid input: expected <expected>, received …`.
    pub fn mismatch(&mut self, key: &str, expected: &str) {
        self.issue(key, expected);
    }

    /// An optional array of strings (zod's `array(string())`); a wrong element is named by its index.
    pub fn string_array(&mut self, key: &str) -> Vec<String> {
        match self.object.get(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut strings = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Value::String(value) => strings.push(value.clone()),
                        other => self.issues.push(format!(
                            "[body.{key}.{index}] Invalid input: expected string, received {}",
                            crate::json::received(Some(other))
                        )),
                    }
                }
                strings
            }
            Some(_) => {
                self.issue(key, "array");
                Vec::new()
            }
        }
    }

    /// An optional object of strings (zod's `record(string(), string())`), in the body's order; a wrong value is
    /// named by its key.
    pub fn string_record(&mut self, key: &str) -> Vec<(String, String)> {
        match self.object.get(key) {
            None => Vec::new(),
            Some(Value::Object(entries)) => {
                let mut pairs = Vec::with_capacity(entries.len());
                for (name, value) in entries {
                    match value {
                        Value::String(value) => pairs.push((name.clone(), value.clone())),
                        other => self.issues.push(format!(
                            "[body.{key}.{name}] Invalid input: expected string, received {}",
                            crate::json::received(Some(other))
                        )),
                    }
                }
                pairs
            }
            Some(_) => {
                self.issue(key, "record");
                Vec::new()
            }
        }
    }

    /// The whole body, for schemas that take any field (Better Auth's additional fields).
    pub fn object(&self) -> &Map<String, Value> {
        self.object
    }

    /// Whether the body has `key`, whatever its value.
    pub fn contains(&self, key: &str) -> bool {
        self.object.contains_key(key)
    }

    /// A strict schema: keys outside `known` are an issue, reported as zod's strict objects do.
    pub fn reject_unknown(&mut self, known: &[&str]) {
        let unknown: Vec<String> = self
            .object
            .keys()
            .filter(|key| !known.contains(&key.as_str()))
            .map(|key| format!("{key:?}"))
            .collect();
        match unknown.as_slice() {
            [] => {}
            [key] => self.issues.push(format!("[body] Unrecognized key: {key}")),
            keys => self
                .issues
                .push(format!("[body] Unrecognized keys: {}", keys.join(", "))),
        }
    }

    /// Fields a client may never set (Better Auth's `input: false`); the first present one is refused.
    pub fn forbid(&mut self, keys: &[&str]) {
        if self.not_allowed.is_none() {
            self.not_allowed = keys
                .iter()
                .find(|key| self.object.contains_key(**key))
                .map(|key| (*key).to_owned());
        }
    }

    /// 400 `VALIDATION_ERROR` with every issue, else 400 `FIELD_NOT_ALLOWED`, else `Ok`.
    pub fn finish(self) -> Result<(), ApiError> {
        if !self.issues.is_empty() {
            return Err(ApiError::bad_request(
                Reason::ValidationError,
                self.issues.join("; "),
            ));
        }
        if let Some(key) = self.not_allowed {
            return Err(ApiError::bad_request(
                Reason::FieldNotAllowed,
                format!("{key} is not allowed to be set"),
            ));
        }
        Ok(())
    }
}

/// A route that declares no body: whatever JSON is sent is accepted and nothing is read from it.
#[derive(Debug, Default)]
pub struct AnyBody;

impl Schema for AnyBody {
    const SHAPE: Shape = Shape::Any;

    fn read(_: &mut Fields<'_>) -> Self {
        Self
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn headers(content_type: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = content_type {
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
        }
        headers
    }

    fn error_of(
        result: Result<impl std::fmt::Debug, ApiError>,
    ) -> (StatusCode, &'static str, String) {
        match result.unwrap_err() {
            ApiError::Local {
                status,
                reason,
                message,
            } => (status, reason.as_str(), message),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn json_objects_are_parsed_whatever_the_charset() {
        let object = parse_object(
            &headers(Some("application/json; charset=utf-8")),
            br#"{"a":1}"#,
            false,
        )
        .unwrap();
        assert_eq!(Value::Object(object), json!({"a": 1}));
    }

    #[test]
    fn an_empty_body_without_content_type_is_an_empty_object() {
        assert!(parse_object(&headers(None), b"", false).unwrap().is_empty());
        assert!(
            parse_object(&headers(Some(JSON)), b"", false)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn other_media_types_are_refused_naming_the_allowed_ones() {
        let (status, code, message) =
            error_of(parse_object(&headers(Some("text/plain")), b"x", false));
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(code, "UNSUPPORTED_MEDIA_TYPE");
        assert_eq!(
            message,
            r#"Content-Type "text/plain" is not allowed. Allowed types: application/json"#
        );

        let (_, _, message) = error_of(parse_object(
            &headers(Some("text/plain;charset=UTF-8")),
            b"x",
            true,
        ));
        assert_eq!(
            message,
            r#"Content-Type "text/plain;charset=UTF-8" is not allowed. Allowed types: application/x-www-form-urlencoded, application/json"#
        );

        let (status, ..) = error_of(parse_object(&headers(Some(FORM)), b"a=b", false));
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn a_body_without_content_type_or_bytes_is_not_read() {
        assert!(
            parse_body(&headers(None), b"{\"a\":1}", false)
                .unwrap()
                .is_none()
        );
        assert!(
            parse_body(&headers(Some("")), b"x", true)
                .unwrap()
                .is_none()
        );
        assert!(
            parse_body(&headers(Some("text/plain")), b"", false)
                .unwrap()
                .is_none()
        );
        assert!(
            parse_body(&headers(Some(FORM)), b"", true)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn malformed_json_is_a_400() {
        let (status, code, message) =
            error_of(parse_object(&headers(Some(JSON)), b"{\"a\":", false));
        assert_eq!((status, code), (StatusCode::BAD_REQUEST, "BAD_REQUEST"));
        assert_eq!(message, "Invalid JSON in request body");
    }

    #[test]
    fn a_json_body_that_is_not_an_object_is_a_400_as_zod_words_it() {
        for (body, kind) in [
            (&b"[1]"[..], "array"),
            (b"\"x\"", "string"),
            (b"42", "number"),
            (b"null", "null"),
            (b"true", "boolean"),
        ] {
            let (status, code, message) = error_of(parse_object(&headers(Some(JSON)), body, false));
            assert_eq!(
                (status, code),
                (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
            );
            assert_eq!(
                message,
                format!("[body] Invalid input: expected object, received {kind}")
            );
        }
    }

    #[test]
    fn form_bodies_become_string_fields() {
        let object = parse_object(
            &headers(Some("application/x-www-form-urlencoded")),
            b"email=a%40b.c&password=p+w&rememberMe=false",
            true,
        )
        .unwrap();
        assert_eq!(
            Value::Object(object),
            json!({"email": "a@b.c", "password": "p w", "rememberMe": "false"})
        );
    }

    #[derive(Debug)]
    #[expect(dead_code, reason = "only validation is under test")]
    struct Login {
        email: String,
        password: String,
        remember_me: Option<bool>,
        image: Option<String>,
    }

    impl Schema for Login {
        fn read(fields: &mut Fields<'_>) -> Self {
            let login = Self {
                email: fields.string("email"),
                password: fields.string("password"),
                remember_me: fields.optional_bool("rememberMe"),
                image: fields.optional_string("image"),
            };
            fields.forbid(&["role", "banned"]);
            login
        }
    }

    fn validate(body: Value) -> Result<Login, ApiError> {
        let Value::Object(object) = body else {
            unreachable!()
        };
        let mut fields = Fields::new(&object);
        let login = Login::read(&mut fields);
        fields.finish().map(|()| login)
    }

    #[test]
    fn a_valid_body_passes() {
        let login =
            validate(json!({"email": "a@b.c", "password": "pw", "rememberMe": false, "extra": 1}))
                .unwrap();
        assert_eq!(
            (login.email.as_str(), login.remember_me),
            ("a@b.c", Some(false))
        );
    }

    #[test]
    fn missing_fields_are_reported_as_zod_reports_them() {
        let (status, code, message) = error_of(validate(json!({"password": "pw"})));
        assert_eq!(
            (status, code),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
        );
        assert_eq!(
            message,
            "[body.email] Invalid input: expected string, received undefined"
        );
    }

    #[test]
    fn every_issue_is_reported_joined_by_semicolons() {
        let (_, _, message) = error_of(validate(
            json!({"email": 5, "password": null, "rememberMe": "false", "image": [1]}),
        ));
        assert_eq!(
            message,
            "[body.email] Invalid input: expected string, received number; \
             [body.password] Invalid input: expected string, received null; \
             [body.rememberMe] Invalid input: expected boolean, received string; \
             [body.image] Invalid input: expected string, received array"
        );
        let (_, _, message) = error_of(validate(json!({"email": true, "password": {}})));
        assert_eq!(
            message,
            "[body.email] Invalid input: expected string, received boolean; \
             [body.password] Invalid input: expected string, received object"
        );
    }

    #[test]
    fn forbidden_fields_are_refused_after_validation() {
        let (status, code, message) = error_of(validate(
            json!({"email": "a", "password": "b", "role": "admin"}),
        ));
        assert_eq!(
            (status, code),
            (StatusCode::BAD_REQUEST, "FIELD_NOT_ALLOWED")
        );
        assert_eq!(message, "role is not allowed to be set");
        let (_, _, message) = error_of(validate(
            json!({"email": "a", "password": "b", "banned": null}),
        ));
        assert_eq!(message, "banned is not allowed to be set");
        let (_, code, _) = error_of(validate(json!({"password": "b", "role": "admin"})));
        assert_eq!(code, "VALIDATION_ERROR");
    }

    #[derive(Debug)]
    struct Strict {
        note: Option<String>,
        done: Option<bool>,
    }

    impl Schema for Strict {
        fn read(fields: &mut Fields<'_>) -> Self {
            let strict = Self {
                note: fields.nullable_string("note"),
                done: fields.nullable_bool("done"),
            };
            fields.reject_unknown(&["note", "done"]);
            strict
        }
    }

    fn strict(body: Value) -> Result<Strict, ApiError> {
        let Value::Object(object) = body else {
            unreachable!()
        };
        super::validate(&object)
    }

    #[test]
    fn null_stands_for_the_default_in_nullable_fields() {
        let read = strict(json!({"note": null, "done": null})).unwrap();
        assert_eq!((read.note.as_deref(), read.done), (Some(""), Some(false)));
        let read = strict(json!({})).unwrap();
        assert_eq!((read.note, read.done), (None, None));
        let (_, code, message) = error_of(strict(json!({"note": 1})));
        assert_eq!(code, "VALIDATION_ERROR");
        assert_eq!(
            message,
            "[body.note] Invalid input: expected string, received number"
        );
    }

    #[test]
    fn a_strict_schema_names_unknown_keys() {
        let (status, code, message) = error_of(strict(json!({"done": true, "colour": "red"})));
        assert_eq!(
            (status, code),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
        );
        assert_eq!(message, r#"[body] Unrecognized key: "colour""#);
        let (_, _, message) = error_of(strict(json!({"a": 1, "b\"": 2, "done": "x"})));
        assert_eq!(
            message,
            r#"[body.done] Invalid input: expected boolean, received string; [body] Unrecognized keys: "a", "b\"""#
        );
    }
}
