//! Responses out without a `DynamicMessage`: the RPC's answer written as proto3 JSON straight from its wire bytes,
//! through a plan made once per message type from the descriptors (field order, keys, kinds). It writes exactly what
//! [`super::encode`] writes for the same message; types the plan does not cover (maps, well-known types other than
//! `Timestamp`) are decoded into a `DynamicMessage` and handed to it. A list of twenty tasks decoded into dynamic
//! messages and written from them cost list-tasks 12 % more CPU than the hand-written handlers (docs/performance.md).

use std::collections::HashMap;
use std::sync::Arc;

use prost::Message;
use prost::encoding::{WireType, decode_key, decode_varint};
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor};

use super::encode;
use super::fields::WellKnown;

/// How each message type reachable from an RPC's output is written.
#[derive(Debug)]
pub struct Plans {
    messages: Vec<Plan>,
    root: usize,
}

#[derive(Debug)]
enum Plan {
    Fields(Vec<FieldPlan>),
    Timestamp,
    /// Written by [`encode`] from a decoded `DynamicMessage`.
    Dynamic(MessageDescriptor),
}

#[derive(Debug)]
struct FieldPlan {
    number: u32,
    /// `"jsonName":`, escaped once.
    key: String,
    kind: Scalar,
    list: bool,
    presence: bool,
}

#[derive(Debug, Clone)]
enum Scalar {
    Bool,
    Int32,
    Sint32,
    Uint32,
    Int64,
    Sint64,
    Uint64,
    Fixed32,
    Sfixed32,
    Fixed64,
    Sfixed64,
    Float,
    Double,
    String,
    Bytes,
    Enum(prost_reflect::EnumDescriptor),
    Message(usize),
}

impl Plans {
    pub fn new(output: &MessageDescriptor) -> Arc<Self> {
        let mut plans = Self {
            messages: Vec::new(),
            root: 0,
        };
        let mut index = HashMap::new();
        plans.root = plans.plan(output, &mut index);
        Arc::new(plans)
    }

    fn plan(&mut self, message: &MessageDescriptor, index: &mut HashMap<String, usize>) -> usize {
        if let Some(&known) = index.get(message.full_name()) {
            return known;
        }
        let at = self.messages.len();
        index.insert(message.full_name().to_owned(), at);
        let kind = Kind::Message(message.clone());
        let plan = match WellKnown::of(&kind) {
            Some(WellKnown::Timestamp) => Plan::Timestamp,
            Some(_) => Plan::Dynamic(message.clone()),
            None if message
                .fields()
                .any(|field| field.is_map() || field.is_group()) =>
            {
                Plan::Dynamic(message.clone())
            }
            None => Plan::Fields(Vec::new()),
        };
        self.messages.push(plan);
        if matches!(self.messages[at], Plan::Fields(_)) {
            let mut fields = Vec::new();
            for field in message.fields() {
                let kind = match field.kind() {
                    Kind::Bool => Scalar::Bool,
                    Kind::Int32 => Scalar::Int32,
                    Kind::Sint32 => Scalar::Sint32,
                    Kind::Uint32 => Scalar::Uint32,
                    Kind::Int64 => Scalar::Int64,
                    Kind::Sint64 => Scalar::Sint64,
                    Kind::Uint64 => Scalar::Uint64,
                    Kind::Fixed32 => Scalar::Fixed32,
                    Kind::Sfixed32 => Scalar::Sfixed32,
                    Kind::Fixed64 => Scalar::Fixed64,
                    Kind::Sfixed64 => Scalar::Sfixed64,
                    Kind::Float => Scalar::Float,
                    Kind::Double => Scalar::Double,
                    Kind::String => Scalar::String,
                    Kind::Bytes => Scalar::Bytes,
                    Kind::Enum(values) => Scalar::Enum(values),
                    Kind::Message(inner) => Scalar::Message(self.plan(&inner, index)),
                };
                let mut key = String::new();
                encode::write_str(&mut key, field.json_name());
                key.push(':');
                fields.push(FieldPlan {
                    number: field.number(),
                    key,
                    kind,
                    list: field.is_list(),
                    presence: field.supports_presence(),
                });
            }
            self.messages[at] = Plan::Fields(fields);
        }
        at
    }

    /// The RPC's answer as proto3 JSON, or `None` when the bytes are not a valid message.
    pub fn to_json(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut out = String::with_capacity(256 + bytes.len() * 2);
        self.write(&mut out, self.root, bytes)?;
        Some(out.into_bytes())
    }

    fn write(&self, out: &mut String, plan: usize, bytes: &[u8]) -> Option<()> {
        match &self.messages[plan] {
            Plan::Timestamp => {
                let mut timestamp = prost_types::Timestamp::default();
                timestamp.merge(bytes).ok()?;
                match crate::json::iso_date(Some(&timestamp)) {
                    Some(date) => encode::write_str(out, &date),
                    None => out.push_str("null"),
                }
            }
            Plan::Dynamic(descriptor) => {
                let message = DynamicMessage::decode(descriptor.clone(), bytes).ok()?;
                out.push_str(std::str::from_utf8(&encode::to_json(&message)).ok()?);
            }
            Plan::Fields(fields) => {
                let entries = entries(bytes)?;
                out.push('{');
                let mut first = true;
                for field in fields {
                    let mut values = entries.iter().filter(|entry| entry.0 == field.number);
                    if field.list {
                        comma(out, &mut first);
                        out.push_str(&field.key);
                        out.push('[');
                        let mut first_item = true;
                        for &(_, wire, value) in values {
                            if wire == WireType::LengthDelimited && field.kind.packable() {
                                let mut packed = value;
                                while !packed.is_empty() {
                                    let item = take(&mut packed, field.kind.wire_type())?;
                                    comma(out, &mut first_item);
                                    self.value(out, &field.kind, field.kind.wire_type(), item)?;
                                }
                            } else {
                                comma(out, &mut first_item);
                                self.value(out, &field.kind, wire, value)?;
                            }
                        }
                        out.push(']');
                        continue;
                    }
                    // The last occurrence wins, as in protobuf's merge of a singular field.
                    let last = values.next_back();
                    match last {
                        None if field.presence => {}
                        None => {
                            comma(out, &mut first);
                            out.push_str(&field.key);
                            field.kind.write_default(out);
                        }
                        Some(&(_, wire, value)) => {
                            comma(out, &mut first);
                            out.push_str(&field.key);
                            self.value(out, &field.kind, wire, value)?;
                        }
                    }
                }
                out.push('}');
            }
        }
        Some(())
    }

    fn value(&self, out: &mut String, kind: &Scalar, wire: WireType, bytes: &[u8]) -> Option<()> {
        use std::fmt::Write as _;
        if wire != kind.wire_type() {
            return None;
        }
        let varint = || decode_varint(&mut &bytes[..]).ok();
        let fixed32 = || bytes.try_into().ok().map(u32::from_le_bytes);
        let fixed64 = || bytes.try_into().ok().map(u64::from_le_bytes);
        match kind {
            Scalar::Bool => out.push_str(if varint()? != 0 { "true" } else { "false" }),
            Scalar::Int32 => {
                let _ = write!(out, "{}", varint()? as i32);
            }
            Scalar::Sint32 => {
                let raw = varint()? as u32;
                let _ = write!(out, "{}", ((raw >> 1) as i32) ^ -((raw & 1) as i32));
            }
            Scalar::Uint32 => {
                let _ = write!(out, "{}", varint()? as u32);
            }
            Scalar::Int64 => {
                let _ = write!(out, "\"{}\"", varint()? as i64);
            }
            Scalar::Sint64 => {
                let raw = varint()?;
                let _ = write!(out, "\"{}\"", ((raw >> 1) as i64) ^ -((raw & 1) as i64));
            }
            Scalar::Uint64 => {
                let _ = write!(out, "\"{}\"", varint()?);
            }
            Scalar::Fixed32 => {
                let _ = write!(out, "{}", fixed32()?);
            }
            Scalar::Sfixed32 => {
                let _ = write!(out, "{}", fixed32()? as i32);
            }
            Scalar::Fixed64 => {
                let _ = write!(out, "\"{}\"", fixed64()?);
            }
            Scalar::Sfixed64 => {
                let _ = write!(out, "\"{}\"", fixed64()? as i64);
            }
            Scalar::Float => encode::write_float(out, f64::from(f32::from_bits(fixed32()?))),
            Scalar::Double => encode::write_float(out, f64::from_bits(fixed64()?)),
            Scalar::String => encode::write_str(out, std::str::from_utf8(bytes).ok()?),
            Scalar::Bytes => {
                use base64::Engine;
                encode::write_str(
                    out,
                    &base64::engine::general_purpose::STANDARD.encode(bytes),
                );
            }
            Scalar::Enum(values) => {
                let number = varint()? as i32;
                match values.get_value(number) {
                    Some(value) => encode::write_str(out, value.name()),
                    None => {
                        let _ = write!(out, "{number}");
                    }
                }
            }
            Scalar::Message(plan) => self.write(out, *plan, bytes)?,
        }
        Some(())
    }
}

impl Scalar {
    fn wire_type(&self) -> WireType {
        match self {
            Self::Bool
            | Self::Int32
            | Self::Sint32
            | Self::Uint32
            | Self::Int64
            | Self::Sint64
            | Self::Uint64
            | Self::Enum(_) => WireType::Varint,
            Self::Fixed32 | Self::Sfixed32 | Self::Float => WireType::ThirtyTwoBit,
            Self::Fixed64 | Self::Sfixed64 | Self::Double => WireType::SixtyFourBit,
            Self::String | Self::Bytes | Self::Message(_) => WireType::LengthDelimited,
        }
    }

    fn packable(&self) -> bool {
        self.wire_type() != WireType::LengthDelimited
    }

    fn write_default(&self, out: &mut String) {
        match self {
            // An enum's default is its zero value, written by name.
            Self::Enum(values) => match values.get_value(0) {
                Some(value) => encode::write_str(out, value.name()),
                None => out.push('0'),
            },
            Self::Bool => out.push_str("false"),
            Self::Int64 | Self::Sint64 | Self::Uint64 | Self::Fixed64 | Self::Sfixed64 => {
                out.push_str("\"0\"");
            }
            Self::String | Self::Bytes => out.push_str("\"\""),
            Self::Message(_) => out.push_str("null"),
            _ => out.push('0'),
        }
    }
}

/// The last occurrence of string field `number` at the top level of `bytes`.
pub fn last_string(bytes: &[u8], number: u32) -> Option<String> {
    entries(bytes)?
        .into_iter()
        .rev()
        .find(|entry| entry.0 == number && entry.1 == WireType::LengthDelimited)
        .and_then(|entry| std::str::from_utf8(entry.2).ok().map(str::to_owned))
}

fn comma(out: &mut String, first: &mut bool) {
    if !*first {
        out.push(',');
    }
    *first = false;
}

/// Every field occurrence in `bytes`: its number, wire type and value bytes (a varint's own bytes, a length-delimited
/// field's contents).
fn entries(mut bytes: &[u8]) -> Option<Vec<(u32, WireType, &[u8])>> {
    let mut entries = Vec::with_capacity(16);
    while !bytes.is_empty() {
        let (number, wire) = decode_key(&mut bytes).ok()?;
        let value = take(&mut bytes, wire)?;
        entries.push((number, wire, value));
    }
    Some(entries)
}

/// The next value of type `wire` from `bytes`, which is advanced past it.
fn take<'a>(bytes: &mut &'a [u8], wire: WireType) -> Option<&'a [u8]> {
    let start = *bytes;
    let len = match wire {
        WireType::Varint => {
            let before = bytes.len();
            decode_varint(bytes).ok()?;
            let used = before - bytes.len();
            *bytes = start;
            used
        }
        WireType::ThirtyTwoBit => 4,
        WireType::SixtyFourBit => 8,
        WireType::LengthDelimited => {
            let len = usize::try_from(decode_varint(bytes).ok()?).ok()?;
            let (value, rest) = (bytes.get(..len)?, bytes.get(len..)?);
            *bytes = rest;
            return Some(value);
        }
        WireType::StartGroup | WireType::EndGroup => return None,
    };
    let (value, rest) = (bytes.get(..len)?, bytes.get(len..)?);
    *bytes = rest;
    Some(value)
}
