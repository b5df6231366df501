//! What HTTP adds to an RPC, each a small named rule the transcoder applies to every binding it fits:
//!
//! - **Entity tags** (AIP-154): a response's `etag` goes out in `ETag`; `If-Match` (see [`super::etag`]) becomes the
//!   request's `etag`, which the service checks atomically with the write.
//! - **Update masks** (AIP-134): a PATCH without `update_mask` updates exactly the fields its body names.
//! - **Created**: a `Create…` RPC bound to POST answers 201 with the new resource's `Location`.
//! - **No content**: an RPC returning `google.protobuf.Empty` answers 204 with no body.
//! - **The caller's own path**: the older clients' `/api/{user_id}/…` form answers 403 unless `user_id` is the
//!   caller (applied where the routes are built).

use std::collections::HashMap;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, Value};
use warden_proto::Reason;

use super::binding::{Binding, BodyRule, FieldPath, Segment};
use super::{Operation, Output};
use crate::cookies::SetCookies;
use crate::error::ApiError;

pub use super::etag::{Precondition, if_match};

/// Everything but RFC 3986's unreserved characters is escaped in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const ETAG: &str = "etag";

/// The older clients' form of the task routes: `/api/{user_id}/tasks[/{id}]`, where `user_id` must be the caller.
pub const OLDER_CLIENTS: (&str, &str) = ("/api/v1/tasks", "/api/{user_id}/tasks");

/// The request field `If-Match` fills: `etag` at the top level, or in the resource the body carries.
pub fn etag_field(binding: &Binding) -> Option<FieldPath> {
    let input = binding.method.input();
    let is_string =
        |field: &FieldDescriptor| matches!(field.kind(), Kind::String) && !field.is_list();
    if let Some(field) = input.get_field_by_name(ETAG).filter(is_string) {
        return Some(FieldPath(vec![field]));
    }
    let BodyRule::Field(body) = &binding.body else {
        return None;
    };
    let Kind::Message(resource) = body.kind() else {
        return None;
    };
    let field = resource.get_field_by_name(ETAG).filter(is_string)?;
    Some(FieldPath(vec![body.clone(), field]))
}

/// A response's `etag`, when it has a non-empty one.
pub fn etag_of(output: &Output) -> Option<String> {
    output.string_field(ETAG).filter(|etag| !etag.is_empty())
}

/// 412 when `If-Match` names no current version, worded as the service words it (`The task has changed…`).
pub fn etag_mismatch(op: &Operation) -> ApiError {
    let resource = op.binding.method.output().name().to_ascii_lowercase();
    ApiError::local(
        StatusCode::PRECONDITION_FAILED,
        Reason::EtagMismatch,
        format!("The {resource} has changed since it was read"),
    )
}

/// Sets `mask` to the body fields `present` named, unless the request already has one; an `etag` is a
/// precondition, not a field to write.
pub fn fill_update_mask(
    message: &mut DynamicMessage,
    mask: &FieldDescriptor,
    present: &[FieldDescriptor],
) {
    if message.has_field(mask) {
        return;
    }
    let Kind::Message(mask_type) = mask.kind() else {
        return;
    };
    let paths = present
        .iter()
        .filter(|field| field.name() != ETAG)
        .map(|field| Value::String(field.name().to_owned()))
        .collect();
    let mut value = DynamicMessage::new(mask_type);
    value.set_field_by_name("paths", Value::List(paths));
    message.set_field(mask, Value::Message(value));
}

/// The answer to a successful call.
pub fn respond(
    op: &Operation,
    params: &HashMap<String, String>,
    cookies: SetCookies,
    output: &Output,
) -> Response {
    if output.descriptor.full_name() == "google.protobuf.Empty" {
        return (StatusCode::NO_CONTENT, cookies, ()).into_response();
    }
    let Some(json) = output.to_json() else {
        return ApiError::Internal("the service's answer does not decode").into_response();
    };
    let etag = etag_of(output).and_then(|etag| super::etag::quote(&etag));
    let location = created(op, params, output);
    let status = if location.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (
        status,
        cookies,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Some(etag) = etag {
        headers.insert(header::ETAG, etag);
    }
    if let Some(location) = location {
        headers.insert(header::LOCATION, location);
    }
    response
}

/// `Location` for a `Create…` RPC bound to POST: the collection's canonical path and the new resource's `id`.
fn created(
    op: &Operation,
    params: &HashMap<String, String>,
    output: &Output,
) -> Option<HeaderValue> {
    let binding = &op.binding;
    if binding.verb != http::Method::POST || !binding.method.name().starts_with("Create") {
        return None;
    }
    let id = output.string_field("id")?;
    let mut path = String::new();
    for segment in &binding.segments {
        path.push('/');
        match segment {
            Segment::Literal(text) => path.push_str(text),
            Segment::Variable(field) => {
                let value = params.get(&field.param()).map_or("", String::as_str);
                path.extend(utf8_percent_encode(value, SEGMENT));
            }
        }
    }
    path.push('/');
    path.extend(utf8_percent_encode(&id, SEGMENT));
    HeaderValue::try_from(path).ok()
}
