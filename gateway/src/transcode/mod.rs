//! REST transcoding: the `/api/v1/*` routes served straight from the RPCs' `google.api.http` annotations and the
//! descriptor set, with no handler per route.
//!
//! The [`Transcoder`] fills an RPC's request message from the path variables, the body (`body: "*"` or one field) and
//! the query parameters ([`decode`]), calls the RPC with the descriptor-driven [`codec`], and writes the answer as
//! proto3 JSON ([`encode`]). Errors go through the gateway's one status table. What HTTP adds to an RPC lives in
//! [`hooks`]: entity tags, 201 with `Location`, 204, the older clients' `/api/{user_id}/…` paths. The one handler that
//! serves every binding, with the caller's session and the request's body, is `routes::transcoded`: this module knows
//! descriptors and messages, not the gateway's state.
//!
//! prost-reflect reads the descriptors and holds the dynamic messages: it is the crate protox itself is built on,
//! kept by the same author, and the one complete implementation of protobuf reflection for prost.

pub mod binding;
pub mod codec;
pub mod decode;
pub mod encode;
pub mod etag;
pub mod fields;
pub mod hooks;
pub mod wire;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, bail};
use http::Method;
use http::uri::PathAndQuery;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ServiceDescriptor,
    Value,
};
use serde_json::Map;
use warden_common::in_process::Transport;

use crate::error::{ApiError, Route};
use binding::{Binding, BodyRule};
use codec::RawResponseCodec;
use decode::Reader;
use fields::Catalog;

/// The path prefix the transcoder serves; other annotations (Better Auth's routes) document handlers.
pub const PREFIX: &str = "/api/v1/";

/// One served binding.
pub struct Operation {
    pub binding: Binding,
    route: Route,
    grpc_path: PathAndQuery,
    transport: Transport,
    /// The request's `update_mask`, filled from the body's keys when a PATCH sends none (AIP-134).
    update_mask: Option<FieldDescriptor>,
    /// The request's `etag` (AIP-154), top level or in the body's resource, which `If-Match` also sets.
    etag: Option<binding::FieldPath>,
    /// The GET binding of the same resource, read when `If-Match` names several versions.
    reader: Option<usize>,
    /// How the response is written as JSON.
    plans: Arc<wire::Plans>,
}

/// An RPC's answer, as its bytes: written as JSON from them, without decoding into a message first.
pub struct Output {
    pub descriptor: MessageDescriptor,
    pub bytes: prost::bytes::Bytes,
    plans: Arc<wire::Plans>,
}

impl Output {
    /// A top-level string field, when the answer has one of that name.
    pub fn string_field(&self, name: &str) -> Option<String> {
        let number = self.descriptor.get_field_by_name(name)?.number();
        wire::last_string(&self.bytes, number)
    }

    /// The answer as proto3 JSON; `None` when the bytes are no valid message.
    pub fn to_json(&self) -> Option<Vec<u8>> {
        self.plans.to_json(&self.bytes)
    }
}

impl Operation {
    /// The request's `update_mask`, when the binding fills it from the body.
    pub fn update_mask_field(&self) -> Option<&FieldDescriptor> {
        self.update_mask.as_ref()
    }

    /// The request field `If-Match` fills, when the binding has one.
    pub fn etag_field(&self) -> Option<&binding::FieldPath> {
        self.etag.as_ref()
    }

    fn input_message(&self) -> DynamicMessage {
        DynamicMessage::new(self.binding.method.input())
    }
}

/// The transcoded routes, built once from a descriptor pool and the channels of the services it names.
pub struct Transcoder {
    pub pool: DescriptorPool,
    pub catalog: Catalog,
    operations: Vec<Operation>,
}

impl std::fmt::Debug for Transcoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcoder")
            .field(
                "routes",
                &self
                    .operations
                    .iter()
                    .map(|op| format!("{} {}", op.binding.verb, op.binding.template))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Transcoder {
    /// The bindings under [`PREFIX`] of every method of `services` (full name and the channel it is served on).
    pub fn new(pool: DescriptorPool, services: &[(&str, Transport)]) -> anyhow::Result<Self> {
        let catalog = Catalog::new(&pool);
        let mut operations = Vec::new();
        for (name, transport) in services {
            let service: ServiceDescriptor = pool
                .get_service_by_name(name)
                .with_context(|| format!("the descriptors hold no service {name}"))?;
            for method in service.methods() {
                for binding in Binding::of(&method).map_err(anyhow::Error::msg)? {
                    if !binding.template.starts_with(PREFIX) {
                        continue;
                    }
                    if method.is_client_streaming() || method.is_server_streaming() {
                        bail!(
                            "{}: a streaming RPC cannot be transcoded",
                            method.full_name()
                        );
                    }
                    operations.push(operation(binding, transport.clone()));
                }
            }
        }
        let shapes: Vec<(String, Method)> = operations
            .iter()
            .map(|op| (op.binding.shape(), op.binding.verb.clone()))
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut paths: HashMap<String, String> = HashMap::new();
        for (op, (shape, verb)) in operations.iter().zip(&shapes) {
            if !seen.insert((shape.clone(), verb.clone())) {
                bail!("two RPCs are bound to {verb} {shape}");
            }
            let names: Vec<String> = op
                .binding
                .variables()
                .map(binding::FieldPath::param)
                .collect();
            if (1..names.len()).any(|i| names[..i].contains(&names[i])) {
                bail!(
                    "{}: two variables of one path end in the same field name",
                    op.binding.template
                );
            }
            let path = op.binding.axum_path();
            if paths.entry(shape.clone()).or_insert_with(|| path.clone()) != &path {
                bail!(
                    "{}: the bindings of one path must name its variables alike ({})",
                    op.binding.template,
                    paths[shape]
                );
            }
        }
        for op in &mut operations {
            if op.etag.is_some() && op.binding.verb != Method::GET {
                let shape = op.binding.shape();
                op.reader = shapes
                    .iter()
                    .position(|(other, verb)| *verb == Method::GET && *other == shape);
            }
        }
        Ok(Self {
            pool,
            catalog,
            operations,
        })
    }

    /// Warden's own services: `TaskService` on `tasks`.
    pub fn warden(tasks: Transport) -> anyhow::Result<Self> {
        let pool = DescriptorPool::decode(warden_proto::FILE_DESCRIPTOR_SET)
            .context("decoding Warden's descriptor set")?;
        Self::new(pool, &[("warden.task.v1.TaskService", tasks)])
    }

    /// The served bindings, in the order the descriptors list them.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The GET binding of the resource `op` writes, read when `If-Match` names several versions.
    pub fn reader(&self, op: &Operation) -> Option<&Operation> {
        op.reader.map(|index| &self.operations[index])
    }

    /// `op`'s request message from the body's JSON object (when the binding takes a body), the query string and the
    /// path variables (axum's, by [`Binding::axum_path`]'s names): 400 with every issue at once.
    pub fn request_message(
        &self,
        op: &Operation,
        body: Option<&Map<String, serde_json::Value>>,
        query: Option<&str>,
        params: &HashMap<String, String>,
    ) -> Result<DynamicMessage, ApiError> {
        let mut reader = Reader::new(&self.catalog);
        let mut message = op.input_message();
        let body_field = match (&op.binding.body, body) {
            (BodyRule::Whole, Some(object)) => {
                reader.object(&mut message, object, "body", false);
                None
            }
            (BodyRule::Field(field), Some(object)) => {
                let Kind::Message(resource) = field.kind() else {
                    return Err(ApiError::Internal("a body field that is not a message"));
                };
                let mut inner = DynamicMessage::new(resource);
                let present = reader.object(&mut inner, object, "body", op.update_mask.is_some());
                message.set_field(field, Value::Message(inner));
                if let Some(mask) = &op.update_mask {
                    hooks::fill_update_mask(&mut message, mask, &present);
                }
                Some(field.clone())
            }
            _ => None,
        };
        if let Some(query) = query
            && !matches!(op.binding.body, BodyRule::Whole)
        {
            let bound: Vec<FieldDescriptor> = op
                .binding
                .variables()
                .map(|path| path.0[0].clone())
                .collect();
            reader.query(&mut message, query, |field| {
                Some(field) != body_field.as_ref() && !bound.contains(field)
            });
        }
        for (path, raw) in op.binding.values(params) {
            reader.path_variable(&mut message, path, raw);
        }
        if reader.issues.is_empty() {
            Ok(message)
        } else {
            Err(ApiError::validation(reader.issues.join("; ")))
        }
    }

    /// Calls `op`'s RPC on its channel.
    pub async fn call(
        &self,
        op: &Operation,
        request: tonic::Request<DynamicMessage>,
    ) -> Result<Output, ApiError> {
        let mut grpc = tonic::client::Grpc::new(op.transport.clone());
        grpc.ready().await.map_err(|error| ApiError::Upstream {
            route: op.route,
            status: tonic::Status::unavailable(format!(
                "the service is not ready: {}",
                Into::<tonic::codegen::StdError>::into(error)
            )),
        })?;
        let bytes = grpc
            .unary(request, op.grpc_path.clone(), RawResponseCodec)
            .await
            .map_err(ApiError::upstream(op.route))?
            .into_inner();
        Ok(Output {
            descriptor: op.binding.method.output(),
            bytes,
            plans: Arc::clone(&op.plans),
        })
    }
}

fn operation(binding: Binding, transport: Transport) -> Operation {
    let input = binding.method.input();
    let update_mask = (binding.verb == Method::PATCH)
        .then(|| input.get_field_by_name("update_mask"))
        .flatten()
        .filter(|field| matches!(field.kind(), Kind::Message(m) if m.full_name() == "google.protobuf.FieldMask"));
    let etag = hooks::etag_field(&binding);
    Operation {
        route: Route::Rpc(intern(binding.method.full_name())),
        grpc_path: PathAndQuery::try_from(binding.grpc_path())
            .unwrap_or_else(|_| PathAndQuery::from_static("/")),
        transport,
        update_mask,
        etag,
        reader: None,
        plans: wire::Plans::new(&binding.method.output()),
        binding,
    }
}

/// The one `'static` copy of an RPC's name, for [`Route::Rpc`]: a handful per process, kept for its lifetime.
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<std::collections::HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}
