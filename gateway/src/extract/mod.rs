//! Extractors: the request body under Better Auth's rules ([`Body`]), the caller's session credential
//! ([`CurrentSession`]) and what is forwarded about the client ([`ClientInfo`]).

mod body;
mod client;
mod session;
mod shape;

pub use crate::query::query_param;
pub use body::{AnyBody, AnyObject, Body, Fields, Schema, parse_object, read_object, validate};
pub use client::ClientInfo;
pub use session::CurrentSession;
pub use shape::Shape;
