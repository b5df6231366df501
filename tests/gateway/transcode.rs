//! An RPC the gateway has never seen, annotated under `/api/v1/`, is served by the transcoder and described in the
//! OpenAPI document with no handler written for it: a note service that exists only in this test, compiled from
//! `notes.proto` at run time, beside Warden's own task routes.

use std::convert::Infallible;
use std::path::Path;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use gateway::transcode::Transcoder;
use gateway::transcode::codec::DynamicCodec;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, Value as Field};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::server::NamedService;
use tonic::transport::server::TcpIncoming;
use warden_common::in_process::Transport;

use crate::helpers::{TestApp, assert_error};

const NOTES: &str = "warden.notes.v1.NoteService";

/// Warden's descriptors and the note service's, in one pool.
fn descriptors() -> DescriptorPool {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut compiler =
        protox::Compiler::new([root.join("tests/gateway"), root.join("proto")]).unwrap();
    compiler
        .include_source_info(true)
        .include_imports(true)
        .open_files(["notes.proto", "warden/task/v1/task.proto"])
        .unwrap();
    DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice()).unwrap()
}

/// The note service: answers from the request alone, and names the caller from the JWT the gateway forwarded.
#[derive(Clone)]
struct Notes(DescriptorPool);

impl NamedService for Notes {
    const NAME: &'static str = NOTES;
}

impl tower::Service<http::Request<tonic::body::Body>> for Notes {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let pool = self.0.clone();
        let method = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Box::pin(async move {
            let service = pool.get_service_by_name(NOTES).unwrap();
            let Some(method) = service.methods().find(|m| m.name() == method) else {
                return Ok(tonic::Status::unimplemented("no such method").into_http());
            };
            let output = method.output();
            let answer = tower::service_fn(move |call: tonic::Request<DynamicMessage>| {
                let output = output.clone();
                async move { answer(&output, call) }
            });
            let mut grpc = tonic::server::Grpc::new(DynamicCodec::new(method.input()));
            Ok(grpc.unary(answer, request).await)
        })
    }
}

fn answer(
    output: &MessageDescriptor,
    call: tonic::Request<DynamicMessage>,
) -> Result<tonic::Response<DynamicMessage>, tonic::Status> {
    let jwt = call
        .metadata()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| tonic::Status::unauthenticated("no JWT"))?;
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(jwt)
        .map_err(|_| tonic::Status::unauthenticated("not a JWT"))?
        .claims;
    let request = call.into_inner();
    let text = |name: &str| {
        request
            .get_field_by_name(name)
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let mut note = match request.get_field_by_name("note") {
        Some(note) => note.as_message().unwrap().clone(),
        None => {
            let name = text("name");
            if name == "missing" {
                return Err(tonic::Status::not_found("no such note"));
            }
            let mut note = DynamicMessage::new(output.clone());
            note.set_field_by_name("id", Field::String(name));
            note.set_field_by_name("text", Field::String("read back".into()));
            note.set_field_by_name(
                "revision",
                request.get_field_by_name("revision").unwrap().into_owned(),
            );
            note
        }
    };
    if !note.has_field_by_name("id") || note.get_field_by_name("id").unwrap().as_str() == Some("") {
        note.set_field_by_name("id", Field::String("n-1".into()));
    }
    note.set_field_by_name("shelf", Field::String(text("shelf")));
    note.set_field_by_name(
        "author",
        Field::String(claims["sub"].as_str().unwrap_or_default().to_owned()),
    );
    let mut created = DynamicMessage::new(
        output
            .get_field_by_name("create_time")
            .unwrap()
            .kind()
            .as_message()
            .unwrap()
            .clone(),
    );
    created.set_field_by_name("seconds", Field::I64(1_795_432_101));
    created.set_field_by_name("nanos", Field::I32(250_000_000));
    note.set_field_by_name("create_time", Field::Message(created));
    Ok(tonic::Response::new(note))
}

/// Warden on PostgreSQL and Redis, its gateway transcoding TaskService and the note service, served beside it.
async fn app_with_notes() -> TestApp {
    let pool = descriptors();
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let notes_url = format!("http://{}", incoming.local_addr().unwrap());
    let server = tonic::transport::Server::builder().add_service(Notes(pool.clone()));
    tokio::spawn(server.serve_with_incoming(incoming));
    TestApp::postgres_serving(
        |_| {},
        |_| {},
        move |server, config| {
            let channel = |url: &str| {
                Transport::Network(
                    tonic::transport::Endpoint::from_shared(url.to_owned())
                        .unwrap()
                        .connect_lazy(),
                )
            };
            let transcoder = Transcoder::new(
                pool,
                &[
                    (
                        "warden.task.v1.TaskService",
                        channel(config.task_url.as_str()),
                    ),
                    (NOTES, channel(&notes_url)),
                ],
            )
            .unwrap();
            server.with_transcoder(transcoder)
        },
    )
    .await
}

#[tokio::test]
async fn a_new_annotated_rpc_is_served_and_described_without_a_handler() {
    let app = app_with_notes().await;
    let path = "/api/v1/shelves/kitchen/notes/n-7?revision=3";
    assert_error(
        app.get(path, None).await,
        401,
        "UNAUTHORIZED",
        "Unauthorized",
    )
    .await;

    let cookie = app.signed_up_cookie("nora@example.com").await;
    let user_id = app.user_id(&cookie).await;
    let response = app.get(path, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({
            "id": "n-7", "shelf": "kitchen", "text": "read back", "revision": 3, "labels": [],
            "author": user_id, "createTime": "2026-11-23T11:08:21.250Z"
        })
    );

    let created = app
        .post(
            "/api/v1/shelves/kitchen/notes",
            json!({"text": "buy milk", "labels": ["errand", "today"], "author": "someone else"}),
            Some(&cookie),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        created.headers()["location"],
        "/api/v1/shelves/kitchen/notes/n-1"
    );
    let note = created.json::<Value>().await.unwrap();
    assert_eq!(
        (
            &note["text"],
            &note["labels"],
            &note["author"],
            &note["shelf"]
        ),
        (
            &json!("buy milk"),
            &json!(["errand", "today"]),
            &json!(user_id),
            &json!("kitchen")
        ),
        "output-only fields come from the service, never from the body"
    );

    // Bad input is refused before the call, the service's own errors go through the status table, and Warden's
    // own routes are still served from the same transcoder.
    assert_error(
        app.get(
            "/api/v1/shelves/kitchen/notes/n-7?revision=x",
            Some(&cookie),
        )
        .await,
        400,
        "VALIDATION_ERROR",
        "[query.revision] Invalid input: expected an integer, received \"x\"",
    )
    .await;
    assert_error(
        app.post(
            "/api/v1/shelves/kitchen/notes",
            json!({"labels": []}),
            Some(&cookie),
        )
        .await,
        400,
        "VALIDATION_ERROR",
        "[body.text] Invalid input: expected string, received undefined",
    )
    .await;
    assert_eq!(
        app.get("/api/v1/shelves/kitchen/notes/missing", Some(&cookie))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let task = app.new_task(&cookie, "Still here").await;
    assert_eq!(task["title"], "Still here");

    let document: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let read = &document["paths"]["/api/v1/shelves/{shelf}/notes/{name}"]["get"];
    assert_eq!(read["description"], "Reads one note on a shelf.", "{read}");
    let write = &document["paths"]["/api/v1/shelves/{shelf}/notes"]["post"];
    assert!(write["responses"]["201"].is_object(), "{write}");
    assert!(document["paths"]["/api/v1/tasks"]["post"].is_object());
    assert!(document["components"]["schemas"]["Note"]["properties"]["createTime"].is_object());
}

#[tokio::test]
async fn bindings_the_transcoder_cannot_serve_stop_it_from_being_built() {
    let pool = descriptors();
    let channel = Transport::Network(
        tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy(),
    );
    // The same service twice binds every path twice.
    let error = Transcoder::new(
        pool.clone(),
        &[(NOTES, channel.clone()), (NOTES, channel.clone())],
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("two RPCs are bound to GET"),
        "{error}"
    );
    let error = Transcoder::new(pool, &[("warden.notes.v1.NoSuchService", channel)]).unwrap_err();
    assert!(error.to_string().contains("NoSuchService"), "{error}");
}

/// A service whose one RPC is bound to `http`, compiled beside Warden's descriptors.
fn pool_binding(http: &str) -> DescriptorPool {
    let dir = tempfile::tempdir().unwrap();
    let proto = format!(
        r#"syntax = "proto3";
package warden.odd.v1;
import "google/api/annotations.proto";
service OddService {{
  rpc Touch(TouchRequest) returns (Thing) {{ option (google.api.http) = {{{http}}}; }}
}}
message Thing {{ string id = 1; Thing inner = 2; repeated string tags = 3; }}
message TouchRequest {{ string id = 1; Thing thing = 2; repeated string tags = 3; }}
"#
    );
    std::fs::write(dir.path().join("odd.proto"), proto).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut compiler = protox::Compiler::new([dir.path().to_owned(), root.join("proto")]).unwrap();
    compiler
        .include_imports(true)
        .open_files(["odd.proto"])
        .unwrap();
    DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice()).unwrap()
}

#[tokio::test]
async fn templates_the_transcoder_does_not_serve_are_refused_by_name() {
    let channel = Transport::Network(
        tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy(),
    );
    for (http, refusal) in [
        (
            r#"get: "/api/v1/things/**""#,
            r#"path segment "**" is not supported"#,
        ),
        (
            r#"post: "/api/v1/things/{id}:touch""#,
            r#"the custom verb ":touch""#,
        ),
        (
            r#"post: "/api/v1/things:touch""#,
            r#"the custom verb ":touch""#,
        ),
        (
            r#"get: "/api/v1/{id=things/*}""#,
            "binds more than one segment",
        ),
        (r#"get: "/api/v1/things/{tags}""#, "names a repeated field"),
        (r#"get: "/api/v1/things/{thing}""#, "names a message"),
        (
            r#"post: "/api/v1/things" body: "id""#,
            "is not a message field",
        ),
    ] {
        let error = Transcoder::new(
            pool_binding(http),
            &[("warden.odd.v1.OddService", channel.clone())],
        )
        .map(|_| ())
        .unwrap_err();
        assert!(error.to_string().contains(refusal), "{http}: {error}");
    }
    let served = Transcoder::new(
        pool_binding(r#"patch: "/api/v1/things/{thing.inner.id}" body: "thing""#),
        &[("warden.odd.v1.OddService", channel)],
    )
    .unwrap();
    assert_eq!(served.operations().len(), 1);
}
