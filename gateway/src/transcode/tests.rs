//! The task routes' JSON, both ways, read and written from TaskService's descriptors: what the hand-written task
//! handlers did, kept exactly.

use std::collections::HashMap;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use prost_types::Timestamp;
use serde_json::{Value, json};
use warden_common::in_process::Transport;
use warden_proto::task::v1 as pb;

use super::{Operation, Transcoder, encode};
use crate::error::ApiError;

/// Warden's transcoder, on a channel no test calls (building one needs a runtime).
fn transcoder() -> Transcoder {
    let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
    Transcoder::warden(Transport::Network(channel)).unwrap()
}

fn op<'a>(transcoder: &'a Transcoder, rpc: &str) -> &'a Operation {
    transcoder
        .operations()
        .iter()
        .find(|op| op.binding.method.name() == rpc)
        .unwrap()
}

fn read<T: Message + Default>(
    rpc: &str,
    body: Option<Value>,
    query: Option<&str>,
    id: Option<&str>,
) -> Result<T, ApiError> {
    let transcoder = transcoder();
    let body = body.map(|body| match body {
        Value::Object(object) => object,
        _ => unreachable!("bodies here are objects"),
    });
    let params: HashMap<String, String> = id
        .map(|id| HashMap::from([("id".to_owned(), id.to_owned())]))
        .unwrap_or_default();
    let message =
        transcoder.request_message(op(&transcoder, rpc), body.as_ref(), query, &params)?;
    Ok(message.transcode_to::<T>().unwrap())
}

fn update(body: Value) -> pb::UpdateTaskRequest {
    read("UpdateTask", Some(body), None, Some("t1")).unwrap()
}

fn mask(body: Value) -> Vec<String> {
    update(body).update_mask.unwrap().paths
}

fn create(body: Value) -> Result<pb::CreateTaskRequest, ApiError> {
    read("CreateTask", Some(body), None, None)
}

fn list(query: Option<&str>) -> Result<pb::ListTasksRequest, ApiError> {
    read("ListTasks", None, query, None)
}

fn message(error: ApiError) -> String {
    match error {
        ApiError::Local {
            reason, message, ..
        } => {
            assert_eq!(reason.as_str(), "VALIDATION_ERROR");
            message
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn the_mask_names_exactly_the_keys_present_in_field_order() {
    assert_eq!(mask(json!({"title": "x"})), ["title"]);
    assert_eq!(
        mask(json!({"completed": true, "description": "d"})),
        ["description", "completed"]
    );
    assert_eq!(
        mask(json!({"title": "x", "description": "", "completed": false})),
        ["title", "description", "completed"]
    );
    assert!(mask(json!({})).is_empty());
}

#[tokio::test]
async fn completed_false_is_an_update_not_a_no_op() {
    let request = update(json!({"completed": false}));
    assert_eq!(request.update_mask.unwrap().paths, ["completed"]);
    assert!(!request.task.unwrap().completed);
}

#[tokio::test]
async fn null_clears_a_field_as_in_proto3_json() {
    let request = update(json!({"description": null}));
    assert_eq!(request.update_mask.unwrap().paths, ["description"]);
    assert_eq!(request.task.unwrap().description, "");
}

#[tokio::test]
async fn the_path_names_the_task_and_output_only_fields_and_the_etag_stay_out_of_the_mask() {
    let request = update(json!({
        "id": "other", "ownerId": "someone", "createdAt": "2026-01-01T00:00:00.000Z",
        "updated_at": "x", "etag": "e1", "title": "kept"
    }));
    assert_eq!(request.update_mask.unwrap().paths, ["title"]);
    let task = request.task.unwrap();
    assert_eq!(
        (
            task.id.as_str(),
            task.owner_id.as_str(),
            task.etag.as_str(),
            task.title.as_str()
        ),
        ("t1", "", "e1", "kept")
    );
}

#[tokio::test]
async fn unknown_keys_are_refused() {
    let error = read::<pb::UpdateTaskRequest>(
        "UpdateTask",
        Some(json!({"completed": true, "done": true})),
        None,
        Some("t1"),
    )
    .unwrap_err();
    assert_eq!(message(error), r#"[body] Unrecognized key: "done""#);
    let error = create(json!({"title": "x", "userId": "u1"})).unwrap_err();
    assert_eq!(message(error), r#"[body] Unrecognized key: "userId""#);
}

#[tokio::test]
async fn wrong_types_are_refused_with_every_issue() {
    let error = read::<pb::UpdateTaskRequest>(
        "UpdateTask",
        Some(json!({"completed": "false", "title": null})),
        None,
        Some("t1"),
    )
    .unwrap_err();
    assert_eq!(
        message(error),
        "[body.title] Invalid input: expected string, received null; \
         [body.completed] Invalid input: expected boolean, received string"
    );
}

#[tokio::test]
async fn a_new_task_needs_a_title_and_defaults_the_rest() {
    let error = create(json!({"description": "d"})).unwrap_err();
    assert_eq!(
        message(error),
        "[body.title] Invalid input: expected string, received undefined"
    );
    let task = create(json!({"title": "t"})).unwrap().task.unwrap();
    assert_eq!(
        (
            task.title.as_str(),
            task.description.as_str(),
            task.completed
        ),
        ("t", "", false)
    );
    let task = create(json!({"title": "t", "description": "d", "completed": true}))
        .unwrap()
        .task
        .unwrap();
    assert_eq!((task.description.as_str(), task.completed), ("d", true));
}

#[tokio::test]
async fn no_query_asks_for_the_first_page_of_everything() {
    assert_eq!(list(None).unwrap(), pb::ListTasksRequest::default());
    assert_eq!(list(Some("")).unwrap(), pb::ListTasksRequest::default());
}

#[tokio::test]
async fn every_query_parameter_is_read_and_decoded() {
    let request = list(Some("pageSize=10&pageToken=abc%3D%3D&completed=true")).unwrap();
    assert_eq!(
        request,
        pb::ListTasksRequest {
            page_size: 10,
            page_token: "abc==".into(),
            completed: Some(true),
        }
    );
    assert_eq!(
        list(Some("completed=false")).unwrap().completed,
        Some(false)
    );
}

#[tokio::test]
async fn proto_names_are_accepted_in_the_query_too() {
    let request = list(Some("page_size=5&page_token=t")).unwrap();
    assert_eq!((request.page_size, request.page_token.as_str()), (5, "t"));
}

#[tokio::test]
async fn unknown_query_parameters_are_ignored() {
    assert_eq!(
        list(Some("userId=u2&sort=asc")).unwrap(),
        pb::ListTasksRequest::default()
    );
}

#[tokio::test]
async fn a_negative_page_size_is_left_to_the_task_service() {
    assert_eq!(list(Some("pageSize=-1")).unwrap().page_size, -1);
}

#[tokio::test]
async fn completed_must_be_true_or_false() {
    for raw in ["yes", "1", "TRUE", ""] {
        let error = list(Some(&format!("completed={raw}"))).unwrap_err();
        assert_eq!(
            message(error),
            format!(
                "[query.completed] Invalid input: expected \"true\" or \"false\", received {raw:?}"
            )
        );
    }
}

#[tokio::test]
async fn a_page_size_must_be_an_integer() {
    for raw in ["ten", "1.5", "99999999999", ""] {
        let error = list(Some(&format!("pageSize={raw}"))).unwrap_err();
        assert_eq!(
            message(error),
            format!("[query.pageSize] Invalid input: expected an integer, received {raw:?}")
        );
    }
}

#[tokio::test]
async fn every_malformed_query_parameter_is_reported() {
    let error = list(Some("pageSize=x&completed=y")).unwrap_err();
    assert_eq!(
        message(error),
        "[query.pageSize] Invalid input: expected an integer, received \"x\"; \
         [query.completed] Invalid input: expected \"true\" or \"false\", received \"y\""
    );
}

fn task() -> pb::Task {
    pb::Task {
        id: "0190b7c2-3c1e-7a8b-9c0d-1e2f3a4b5c6d".into(),
        owner_id: "u1".into(),
        title: "Write tests".into(),
        description: String::new(),
        completed: false,
        created_at: Some(Timestamp {
            seconds: 1_795_432_101,
            nanos: 797_654_321,
        }),
        updated_at: Some(Timestamp {
            seconds: 1_795_432_102,
            nanos: 0,
        }),
        etag: "e1".into(),
    }
}

/// `message` (a `warden.task.v1.<name>`) as the transcoder writes it, through its descriptor.
fn json_of(message: &impl Message, name: &str) -> Value {
    let pool = DescriptorPool::decode(warden_proto::FILE_DESCRIPTOR_SET).unwrap();
    let descriptor = pool
        .get_message_by_name(&format!("warden.task.v1.{name}"))
        .unwrap();
    let bytes = message.encode_to_vec();
    let written = super::wire::Plans::new(&descriptor)
        .to_json(&bytes)
        .unwrap();
    // The writer from wire bytes and the one from a decoded message agree, byte for byte.
    let dynamic = DynamicMessage::decode(descriptor, bytes.as_slice()).unwrap();
    assert_eq!(
        String::from_utf8(written.clone()).unwrap(),
        String::from_utf8(encode::to_json(&dynamic)).unwrap()
    );
    serde_json::from_slice(&written).unwrap()
}

#[test]
fn a_task_has_every_field_in_lower_camel_case_even_defaults_and_millisecond_dates() {
    assert_eq!(
        json_of(&task(), "Task"),
        json!({
            "id": "0190b7c2-3c1e-7a8b-9c0d-1e2f3a4b5c6d", "ownerId": "u1", "title": "Write tests",
            "description": "", "completed": false,
            "createdAt": "2026-11-23T11:08:21.797Z", "updatedAt": "2026-11-23T11:08:22.000Z",
            "etag": "e1"
        })
    );
}

#[test]
fn a_list_always_has_a_next_page_token() {
    let last = pb::ListTasksResponse {
        tasks: vec![task()],
        next_page_token: String::new(),
    };
    let value = json_of(&last, "ListTasksResponse");
    assert_eq!(value["nextPageToken"], "");
    assert_eq!(value["tasks"][0]["ownerId"], "u1");
    assert_eq!(
        json_of(&pb::ListTasksResponse::default(), "ListTasksResponse"),
        json!({"tasks": [], "nextPageToken": ""})
    );
}

#[test]
fn strings_are_escaped_as_serde_json_escapes_them() {
    for text in [
        "plain",
        "",
        "quote \" and backslash \\",
        "lines\nand\ttabs\r",
        "\u{0}\u{1}\u{8}\u{c}\u{1f}\u{7f}",
        "accents é and emoji 🦀 and </script>",
    ] {
        let mut out = String::new();
        encode::write_str(&mut out, text);
        assert_eq!(out, serde_json::to_string(text).unwrap(), "{text:?}");
    }
}

#[test]
fn a_task_with_every_kind_of_text_is_written_alike_from_bytes_and_from_a_message() {
    let mut odd = task();
    odd.title = "\"quoted\"\n\u{0}é🦀".into();
    odd.completed = true;
    odd.created_at = None;
    let value = json_of(&odd, "Task");
    assert_eq!(value["title"], "\"quoted\"\n\u{0}é🦀");
    assert_eq!(value["completed"], true);
    assert!(
        value.get("createdAt").is_none(),
        "an unset message field is left out"
    );
}

#[test]
fn bytes_that_are_no_message_are_refused() {
    let pool = DescriptorPool::decode(warden_proto::FILE_DESCRIPTOR_SET).unwrap();
    let plans = super::wire::Plans::new(&pool.get_message_by_name("warden.task.v1.Task").unwrap());
    assert!(
        plans.to_json(&[0x0a, 0x05, b'a']).is_none(),
        "a length past the end"
    );
    assert!(
        plans.to_json(&[0x28, 0x80]).is_none(),
        "an unfinished varint"
    );
    assert!(
        plans.to_json(&[0x0a, 0x01, 0xff]).is_none(),
        "a string that is not UTF-8"
    );
}
