//! The REST form of `TaskService`: request bodies and the update mask they imply ([`body`]), the list query
//! ([`query`]), entity tags and `If-Match` ([`etag`]), and tasks as proto3 JSON ([`json`]).

pub mod body;
pub mod etag;
pub mod json;
pub mod query;
