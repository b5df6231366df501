//! What the transcoder needs to know about each field, read once from the descriptors: its JSON name and its
//! `google.api.field_behavior` (AIP-203). A `REQUIRED` field must be sent (except in an update, where the mask says
//! what changes) and may not be `null`; `OUTPUT_ONLY` and `IDENTIFIER` fields are accepted in a body and ignored, so a
//! resource read with GET can be sent back as it is.

use std::collections::HashMap;
use std::sync::Arc;

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor};

const REQUIRED: i32 = 2;
const OUTPUT_ONLY: i32 = 3;
const IDENTIFIER: i32 = 8;

#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub field: FieldDescriptor,
    pub required: bool,
    /// Set by the server: ignored in a request body, never in an update mask.
    pub server_set: bool,
}

/// Every message's fields, in declaration order, looked up by JSON or proto name.
#[derive(Debug, Default)]
pub struct MessageInfo {
    pub fields: Vec<FieldInfo>,
    by_name: HashMap<String, usize>,
}

impl MessageInfo {
    /// A field by its JSON name (`ownerId`) or proto name (`owner_id`), as proto3 JSON parsers accept both.
    pub fn get(&self, key: &str) -> Option<&FieldInfo> {
        self.by_name.get(key).map(|&index| &self.fields[index])
    }
}

/// The field facts of every message in a pool.
#[derive(Debug, Clone, Default)]
pub struct Catalog(Arc<HashMap<String, MessageInfo>>);

impl Catalog {
    pub fn new(pool: &DescriptorPool) -> Self {
        let behavior = pool.get_extension_by_name("google.api.field_behavior");
        let messages = pool
            .all_messages()
            .map(|message| {
                let mut info = MessageInfo::default();
                for field in message.fields() {
                    let behaviors: Vec<i32> = behavior
                        .as_ref()
                        .map(|extension| {
                            let options = field.options();
                            if !options.has_extension(extension) {
                                return Vec::new();
                            }
                            options
                                .get_extension(extension)
                                .as_list()
                                .unwrap_or_default()
                                .iter()
                                .filter_map(prost_reflect::Value::as_enum_number)
                                .collect()
                        })
                        .unwrap_or_default();
                    let index = info.fields.len();
                    info.by_name.insert(field.json_name().to_owned(), index);
                    info.by_name.insert(field.name().to_owned(), index);
                    info.fields.push(FieldInfo {
                        required: behaviors.contains(&REQUIRED),
                        server_set: behaviors.contains(&OUTPUT_ONLY)
                            || behaviors.contains(&IDENTIFIER),
                        field,
                    });
                }
                (message.full_name().to_owned(), info)
            })
            .collect();
        Self(Arc::new(messages))
    }

    pub fn message(&self, message: &MessageDescriptor) -> &MessageInfo {
        static EMPTY: std::sync::OnceLock<MessageInfo> = std::sync::OnceLock::new();
        self.0
            .get(message.full_name())
            .unwrap_or_else(|| EMPTY.get_or_init(MessageInfo::default))
    }
}

/// The well-known types proto3 JSON writes as something other than an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WellKnown {
    Timestamp,
    Duration,
    FieldMask,
    Empty,
    /// `google.protobuf.*Value` wrappers: the wrapped scalar, or `null`.
    Wrapper,
    Struct,
    Value,
    ListValue,
}

impl WellKnown {
    pub fn of(kind: &Kind) -> Option<Self> {
        let Kind::Message(message) = kind else {
            return None;
        };
        Some(match message.full_name() {
            "google.protobuf.Timestamp" => Self::Timestamp,
            "google.protobuf.Duration" => Self::Duration,
            "google.protobuf.FieldMask" => Self::FieldMask,
            "google.protobuf.Empty" => Self::Empty,
            "google.protobuf.Struct" => Self::Struct,
            "google.protobuf.Value" => Self::Value,
            "google.protobuf.ListValue" => Self::ListValue,
            "google.protobuf.DoubleValue"
            | "google.protobuf.FloatValue"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue" => Self::Wrapper,
            _ => return None,
        })
    }
}
