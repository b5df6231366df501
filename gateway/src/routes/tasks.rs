//! The task routes, each one `TaskService` call made with the caller's JWT (see [`crate::identity`]).
//!
//! `/api/v1/tasks[/{id}]` and the older clients' `/api/{user_id}/tasks[/{id}]` reach the same handlers; the latter
//! answer 403 when `user_id` is not the caller. Request order follows the auth routes: body (415/400, origin 403,
//! schema 400) or query (400), then the session (401), then the path's user (403), then task-svc.

use std::collections::HashMap;
use warden_proto::Reason;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use warden_proto::task::v1 as pb;

use super::call;
use crate::error::{ApiError, Route};
use crate::extract::{AnyObject, Body, ClientInfo, CurrentSession};
use crate::identity::Caller;
use crate::state::AppState;
use crate::tasks::body::{NewTask, TaskPatch};
use crate::tasks::etag::{self, Precondition};
use crate::tasks::json::{Task, TaskList};
use crate::tasks::query;

/// The path's parameters: `user_id` in the older clients' form, `id` on a single task's routes.
#[derive(Debug, Default)]
pub struct TaskPath {
    user_id: Option<String>,
    id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for TaskPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let mut params =
            match Path::<HashMap<String, String>>::from_request_parts(parts, state).await {
                Ok(Path(params)) => params,
                Err(PathRejection::MissingPathParams(_)) => HashMap::new(),
                Err(_) => {
                    return Err(ApiError::bad_request(
                        Reason::ValidationError,
                        "[path] Invalid path parameter",
                    ));
                }
            };
        Ok(Self {
            user_id: params.remove("user_id"),
            id: params.remove("id"),
        })
    }
}

impl TaskPath {
    fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    fn id(&self) -> Result<String, ApiError> {
        self.id
            .clone()
            .ok_or(ApiError::Internal("a task route without {id}"))
    }
}

/// Everything but RFC 3986's unreserved characters is escaped in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `ETag: "<etag>"`, when the task has one.
fn etag_header(etag: &str) -> Option<[(HeaderName, HeaderValue); 1]> {
    etag::quote(etag).map(|value| [(header::ETAG, value)])
}

fn location_header(id: &str) -> Option<[(HeaderName, HeaderValue); 1]> {
    let path = format!("/api/v1/tasks/{}", utf8_percent_encode(id, SEGMENT));
    HeaderValue::try_from(path)
        .ok()
        .map(|value| [(header::LOCATION, value)])
}

fn etag_mismatch() -> ApiError {
    ApiError::local(
        StatusCode::PRECONDITION_FAILED,
        Reason::EtagMismatch,
        "The task has changed since it was read",
    )
}

/// The caller, once the session is confirmed and the path names no other user.
async fn authorize(
    state: &AppState,
    current: &CurrentSession,
    client: &ClientInfo,
    path: &TaskPath,
) -> Result<Caller, ApiError> {
    let caller = Caller::resolve(state, current, client).await?;
    caller.check_path_user(path.user_id())?;
    Ok(caller)
}

async fn fetch(
    state: &AppState,
    caller: &Caller,
    client: &ClientInfo,
    id: String,
) -> Result<pb::Task, ApiError> {
    Ok(state
        .tasks
        .clone()
        .get_task(caller.request(client, pb::GetTaskRequest { id }))
        .await
        .map_err(ApiError::upstream(Route::GetTask))?
        .into_inner())
}

/// The etag to send with a write (empty for none). Several `If-Match` tags are checked against the current version,
/// whose etag is then sent, so task-svc still refuses the write if the task changes in between.
async fn settle(
    state: &AppState,
    caller: &Caller,
    client: &ClientInfo,
    id: &str,
    precondition: Precondition,
) -> Result<String, ApiError> {
    match precondition {
        Precondition::None => Ok(String::new()),
        Precondition::Etag(etag) => Ok(etag),
        Precondition::Unsatisfiable => Err(etag_mismatch()),
        Precondition::OneOf(tags) => {
            let current = fetch(state, caller, client, id.to_owned()).await?;
            if tags.contains(&current.etag) {
                Ok(current.etag)
            } else {
                Err(etag_mismatch())
            }
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    path: TaskPath,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let request = query::list_request(raw_query.as_deref())?;
    let caller = authorize(&state, &current, &client, &path).await?;
    let response = call(
        Route::ListTasks,
        state
            .tasks
            .clone()
            .list_tasks(caller.request(&client, request)),
    )
    .await?;
    Ok((caller.cookies, Json(TaskList::from(response))).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    path: TaskPath,
    Body(body): Body<NewTask>,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &current, &client, &path).await?;
    let task = call(
        Route::CreateTask,
        state
            .tasks
            .clone()
            .create_task(caller.request(&client, body.into_request())),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        caller.cookies,
        location_header(&task.id),
        etag_header(&task.etag),
        Json(Task::from(task)),
    )
        .into_response())
}

pub async fn get(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    path: TaskPath,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &current, &client, &path).await?;
    let task = fetch(&state, &caller, &client, path.id()?).await?;
    Ok((
        caller.cookies,
        etag_header(&task.etag),
        Json(Task::from(task)),
    )
        .into_response())
}

pub async fn update(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    path: TaskPath,
    headers: HeaderMap,
    Body(patch): Body<TaskPatch>,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &current, &client, &path).await?;
    let id = path.id()?;
    let precondition = Precondition::new(etag::if_match(&headers), patch.etag.clone());
    let etag = settle(&state, &caller, &client, &id, precondition).await?;
    let task = call(
        Route::UpdateTask,
        state
            .tasks
            .clone()
            .update_task(caller.request(&client, patch.into_request(id, etag))),
    )
    .await?;
    Ok((
        caller.cookies,
        etag_header(&task.etag),
        Json(Task::from(task)),
    )
        .into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    path: TaskPath,
    headers: HeaderMap,
    Body(AnyObject): Body<AnyObject>,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &current, &client, &path).await?;
    let id = path.id()?;
    let precondition = Precondition::new(etag::if_match(&headers), None);
    let etag = settle(&state, &caller, &client, &id, precondition).await?;
    call(
        Route::DeleteTask,
        state
            .tasks
            .clone()
            .delete_task(caller.request(&client, pb::DeleteTaskRequest { id, etag })),
    )
    .await?;
    Ok((StatusCode::NO_CONTENT, caller.cookies, ()).into_response())
}
