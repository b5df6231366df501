//! An RPC's REST binding, read from its `google.api.http` option: the HTTP method, the path template and which part
//! of the request the body fills.
//!
//! Templates are AIP-127's common subset: literal segments and single-segment variables (`{id}`, `{task.id}`,
//! `{id=*}`) naming a string or scalar field, possibly nested. Anything else (`**`, custom verbs, `{name=a/*}`) is
//! refused when the gateway starts, so a contract the gateway cannot serve fails loudly instead of answering 404.

use std::collections::HashMap;

use http::Method;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor};

/// Where the request body goes.
#[derive(Debug, Clone)]
pub enum BodyRule {
    /// No body is read into the request (GET, DELETE).
    None,
    /// `body: "*"`: the whole request message, less the fields the path binds.
    Whole,
    /// `body: "task"`: one message field of the request.
    Field(FieldDescriptor),
}

/// One segment of a path template.
#[derive(Debug, Clone)]
pub enum Segment {
    Literal(String),
    /// A variable: the field path it fills (`task.id` is two fields deep).
    Variable(FieldPath),
}

/// A field reached from the request message through zero or more message fields.
#[derive(Debug, Clone)]
pub struct FieldPath(pub Vec<FieldDescriptor>);

impl FieldPath {
    /// The dotted proto name, as written in the template (`task.id`).
    pub fn dotted(&self) -> String {
        self.0
            .iter()
            .map(FieldDescriptor::name)
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The path parameter's name: the leaf's JSON name.
    pub fn param(&self) -> String {
        self.leaf().json_name().to_owned()
    }

    pub fn leaf(&self) -> &FieldDescriptor {
        self.0.last().expect("a field path is never empty")
    }

    /// Whether the path starts with `field` (the body field a variable lies in).
    pub fn starts_with(&self, field: &FieldDescriptor) -> bool {
        self.0.first() == Some(field)
    }

    /// The message holding the leaf, created along the way.
    pub fn parent_mut<'a>(&self, message: &'a mut DynamicMessage) -> &'a mut DynamicMessage {
        let mut current = message;
        for field in &self.0[..self.0.len() - 1] {
            let value = current.get_field_mut(field);
            current = value
                .as_message_mut()
                .expect("template variables pass only through message fields");
        }
        current
    }

    /// The leaf's value in `message`, when every message on the way is set.
    pub fn get(&self, message: &DynamicMessage) -> Option<prost_reflect::Value> {
        let mut current = message.clone();
        for field in &self.0[..self.0.len() - 1] {
            if !current.has_field(field) {
                return None;
            }
            current = current.get_field(field).as_message()?.clone();
        }
        Some(current.get_field(self.leaf()).into_owned())
    }
}

/// An RPC as the transcoder serves it.
#[derive(Debug, Clone)]
pub struct Binding {
    pub method: MethodDescriptor,
    pub verb: Method,
    /// The template as annotated (`/api/v1/tasks/{task.id}`), which is also the OpenAPI path.
    pub template: String,
    pub segments: Vec<Segment>,
    pub body: BodyRule,
}

impl Binding {
    /// Every binding of `method` (its `google.api.http` rule and the rule's `additional_bindings`).
    pub fn of(method: &MethodDescriptor) -> Result<Vec<Self>, String> {
        let pool = method.parent_pool();
        let Some(http) = pool.get_extension_by_name("google.api.http") else {
            return Ok(Vec::new());
        };
        let options = method.options();
        if !options.has_extension(&http) {
            return Ok(Vec::new());
        }
        let rule = options.get_extension(&http);
        let Some(rule) = rule.as_message() else {
            return Ok(Vec::new());
        };
        let mut bindings = vec![Self::from_rule(method, rule)?];
        if let Some(more) = rule
            .get_field_by_name("additional_bindings")
            .and_then(|value| value.as_list().map(<[_]>::to_vec))
        {
            for extra in more.iter().filter_map(prost_reflect::Value::as_message) {
                bindings.push(Self::from_rule(method, extra)?);
            }
        }
        Ok(bindings)
    }

    fn from_rule(method: &MethodDescriptor, rule: &DynamicMessage) -> Result<Self, String> {
        let name = method.full_name();
        let text = |field: &str| {
            rule.get_field_by_name(field)
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let (verb, template) = [
            (Method::GET, "get"),
            (Method::PUT, "put"),
            (Method::POST, "post"),
            (Method::DELETE, "delete"),
            (Method::PATCH, "patch"),
        ]
        .into_iter()
        .find_map(|(verb, field)| {
            let template = text(field);
            (!template.is_empty()).then_some((verb, template))
        })
        .ok_or_else(|| {
            format!("{name}: google.api.http names no method among get, put, post, delete, patch")
        })?;
        let input = method.input();
        let segments = parse_template(&input, &template).map_err(|e| format!("{name}: {e}"))?;
        let body = match text("body").as_str() {
            "" => BodyRule::None,
            "*" => BodyRule::Whole,
            field => match input.get_field_by_name(field) {
                Some(field) if matches!(field.kind(), Kind::Message(_)) && !field.is_list() => {
                    BodyRule::Field(field)
                }
                _ => {
                    return Err(format!(
                        "{name}: body {field:?} is not a message field of the request"
                    ));
                }
            },
        };
        Ok(Self {
            method: method.clone(),
            verb,
            template,
            segments,
            body,
        })
    }

    /// The path as axum routes it: a variable is named by its leaf field's JSON name (`{task.id}` is `{id}`), as
    /// the OpenAPI document names it and as route metrics label it.
    pub fn axum_path(&self) -> String {
        self.segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) => format!("/{text}"),
                Segment::Variable(path) => format!("/{{{}}}", path.param()),
            })
            .collect()
    }

    /// The template's variables, in order.
    pub fn variables(&self) -> impl Iterator<Item = &FieldPath> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Variable(path) => Some(path),
            Segment::Literal(_) => None,
        })
    }

    /// Each variable with its raw value among axum's path parameters (empty when absent).
    pub fn values<'a>(
        &'a self,
        params: &'a HashMap<String, String>,
    ) -> impl Iterator<Item = (&'a FieldPath, &'a str)> {
        self.variables().map(|path| {
            let value = params.get(&path.param()).map_or("", String::as_str);
            (path, value)
        })
    }

    /// The template with every variable as `{}`: two bindings of one resource (read and update) share it.
    pub fn shape(&self) -> String {
        self.segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) => format!("/{text}"),
                Segment::Variable(_) => "/{}".to_owned(),
            })
            .collect()
    }

    /// The gRPC path, `/package.Service/Method`.
    pub fn grpc_path(&self) -> String {
        format!(
            "/{}/{}",
            self.method.parent_service().full_name(),
            self.method.name()
        )
    }
}

fn parse_template(input: &MessageDescriptor, template: &str) -> Result<Vec<Segment>, String> {
    let Some(rest) = template.strip_prefix('/') else {
        return Err(format!("path {template:?} does not start with /"));
    };
    let last = rest.rsplit('/').next().unwrap_or(rest);
    if let Some((_, verb)) = last.split_once(':')
        && !verb.contains('}')
    {
        return Err(format!(
            "path {template:?} ends in the custom verb \":{verb}\", which is not supported"
        ));
    }
    for (start, _) in rest.match_indices('{') {
        let variable = rest[start..]
            .split_inclusive('}')
            .next()
            .unwrap_or_default();
        if variable.contains('/') {
            return Err(format!("variable {variable} binds more than one segment"));
        }
    }
    rest.split('/')
        .map(|segment| {
            if let Some(variable) = segment.strip_prefix('{') {
                let variable = variable
                    .strip_suffix('}')
                    .ok_or_else(|| format!("path segment {segment:?} is not a whole variable"))?;
                let name = match variable.split_once('=') {
                    None => variable,
                    Some((name, "*")) => name,
                    Some(_) => {
                        return Err(format!(
                            "variable {{{variable}}} binds more than one segment"
                        ));
                    }
                };
                field_path(input, name).map(Segment::Variable)
            } else if segment.is_empty() || segment.contains(['{', '}', ':', '*']) {
                Err(format!("path segment {segment:?} is not supported"))
            } else {
                Ok(Segment::Literal(segment.to_owned()))
            }
        })
        .collect()
}

/// The fields a dotted name walks through; every step but the last must be a singular message.
pub fn field_path(input: &MessageDescriptor, dotted: &str) -> Result<FieldPath, String> {
    let mut message = input.clone();
    let mut fields = Vec::new();
    let mut names = dotted.split('.').peekable();
    while let Some(name) = names.next() {
        let field = message
            .get_field_by_name(name)
            .ok_or_else(|| format!("{} has no field {name:?}", message.full_name()))?;
        if field.is_list() || field.is_map() {
            return Err(format!("path variable {dotted:?} names a repeated field"));
        }
        if names.peek().is_some() {
            let Kind::Message(inner) = field.kind() else {
                return Err(format!("path variable {dotted:?} passes through a scalar"));
            };
            message = inner;
        } else if matches!(field.kind(), Kind::Message(_)) {
            return Err(format!("path variable {dotted:?} names a message"));
        }
        fields.push(field);
    }
    Ok(FieldPath(fields))
}
