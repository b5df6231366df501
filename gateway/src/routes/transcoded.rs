//! The one handler behind every transcoded route ([`crate::transcode`]), and the routes it is mounted on.
//!
//! Request order is the hand-written routes': body (415/400, origin 403, schema 400) or query (400), then the
//! session (401, [`crate::identity`]: task-svc is called with the caller's JWT, never told a user id), then the path's
//! user (403), then the `If-Match` precondition (412), then the RPC.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use http::Method;
use prost_reflect::Value;

use crate::error::ApiError;
use crate::extract::{ClientInfo, CurrentSession, Shape, read_object};
use crate::identity::Caller;
use crate::state::AppState;
use crate::transcode::binding::BodyRule;
use crate::transcode::hooks::{self, Precondition};
use crate::transcode::{Operation, Output, Transcoder};

/// Every binding of `transcoder` as an axum route, several methods on one path sharing it.
pub fn routes(transcoder: &Arc<Transcoder>) -> Router<AppState> {
    routes_at(transcoder, |path| Some(path.to_owned()), false)
}

/// The bindings under `from` again under `to`, whose `{user_id}` must be the caller's own id (the older clients'
/// `/api/{user_id}/tasks` paths).
pub fn alias(transcoder: &Arc<Transcoder>, from: &str, to: &str) -> Router<AppState> {
    routes_at(
        transcoder,
        |path| path.strip_prefix(from).map(|rest| format!("{to}{rest}")),
        true,
    )
}

fn routes_at(
    transcoder: &Arc<Transcoder>,
    path_of: impl Fn(&str) -> Option<String>,
    path_user: bool,
) -> Router<AppState> {
    let mut by_path: BTreeMap<String, MethodRouter<AppState>> = BTreeMap::new();
    for (index, op) in transcoder.operations().iter().enumerate() {
        let Some(path) = path_of(&op.binding.axum_path()) else {
            continue;
        };
        let Ok(filter) = MethodFilter::try_from(op.binding.verb.clone()) else {
            continue;
        };
        let transcoder = Arc::clone(transcoder);
        let handler = move |State(state): State<AppState>, request: Request| {
            let transcoder = Arc::clone(&transcoder);
            async move {
                serve(&state, &transcoder, index, path_user, request)
                    .await
                    .unwrap_or_else(IntoResponse::into_response)
            }
        };
        let entry = by_path.remove(&path).unwrap_or_default();
        by_path.insert(path, entry.merge(on(filter, handler)));
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(&path, methods)
        })
}

async fn serve(
    state: &AppState,
    transcoder: &Transcoder,
    index: usize,
    path_user: bool,
    request: Request,
) -> Result<Response, ApiError> {
    let op = &transcoder.operations()[index];
    let (mut parts, body) = request.into_parts();
    let current = CurrentSession::from_headers(&parts.headers, state);
    let Ok(client) = ClientInfo::from_request_parts(&mut parts, state).await;
    let params = match Path::<HashMap<String, String>>::from_request_parts(&mut parts, state).await
    {
        Ok(Path(params)) => params,
        Err(_) => return Err(ApiError::validation("[path] Invalid path parameter")),
    };
    let if_match = hooks::if_match(&parts.headers);
    let query = parts.uri.query().map(str::to_owned);
    let request = Request::from_parts(parts, body);
    let object = match &op.binding.body {
        BodyRule::None if op.binding.verb == Method::GET => None,
        BodyRule::None => {
            read_object(request, state, Shape::OptionalObject, false, false).await?;
            None
        }
        BodyRule::Whole | BodyRule::Field(_) => {
            Some(read_object(request, state, Shape::Object, false, false).await?)
        }
    };
    let mut message = transcoder.request_message(op, object.as_ref(), query.as_deref(), &params)?;

    let caller = Caller::resolve(state, &current, &client).await?;
    if path_user {
        caller.check_path_user(params.get("user_id").map(String::as_str))?;
    }

    if let Some(etag) = op.etag_field() {
        let sent = etag
            .get(&message)
            .and_then(|value| value.as_str().map(str::to_owned));
        let required = match Precondition::new(if_match, sent) {
            Precondition::None => String::new(),
            Precondition::Etag(etag) => etag,
            Precondition::Unsatisfiable => return Err(hooks::etag_mismatch(op)),
            Precondition::OneOf(tags) => {
                let current = read_current(transcoder, op, &params, &caller, &client).await?;
                match hooks::etag_of(&current) {
                    Some(etag) if tags.contains(&etag) => etag,
                    _ => return Err(hooks::etag_mismatch(op)),
                }
            }
        };
        let leaf = etag.leaf().clone();
        etag.parent_mut(&mut message)
            .set_field(&leaf, Value::String(required));
    }

    let output = transcoder
        .call(op, caller.request(&client, message))
        .await?;
    Ok(hooks::respond(op, &params, caller.cookies, &output))
}

/// The resource as it is now, through the GET binding of the same path.
async fn read_current(
    transcoder: &Transcoder,
    op: &Operation,
    params: &HashMap<String, String>,
    caller: &Caller,
    client: &ClientInfo,
) -> Result<Output, ApiError> {
    let Some(reader) = transcoder.reader(op) else {
        return Err(hooks::etag_mismatch(op));
    };
    let message = transcoder.request_message(reader, None, None, params)?;
    transcoder
        .call(reader, caller.request(client, message))
        .await
}
