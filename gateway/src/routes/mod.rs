//! Handlers, by Better Auth area: [`sessions`] (sign-up, sign-in, the session and the caller's sessions),
//! [`account`] (profile, password, email, verification, deletion), [`social`] (sign-in with other providers, linked
//! accounts), [`jwt`], [`admin`], [`two_factor`], [`passkey`] and [`api_key`] (those plugins), and
//! Warden's own [`ui`], [`dev`] outbox, [`providers`] list and [`openapi`] document, and [`transcoded`], the one handler of every route
//! served from an RPC's annotation. [`crate::router`]
//! says which path reaches which.
//!
//! A handler reads its body and the caller's credential through [`crate::extract`], makes one gRPC call and turns
//! the answer into Better Auth's JSON; [`call`] and [`open_session`] are the two shapes of that call.

pub mod account;
pub mod admin;
pub mod api_key;
pub mod dev;
pub mod error_page;
pub mod jwt;
pub mod passkey;
pub mod provider_tokens;
pub mod providers;
pub mod sessions;
pub mod social;
pub mod transcoded;
pub mod two_factor;
pub mod ui;

pub(crate) mod stale_session;

use std::future::Future;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;
use warden_proto::auth::v1 as pb;

use crate::cookies::SetCookies;
use crate::error::{ApiError, Route};
use crate::extract::CurrentSession;
use crate::json::User;
use crate::state::AppState;

/// Fields only the server sets (Better Auth's admin plugin marks them `input: false`).
pub(crate) const SERVER_ONLY_FIELDS: &[&str] = &[
    "role",
    "banned",
    "banReason",
    "banExpires",
    "impersonatedBy",
];

/// Better Auth answers unknown paths and wrong methods with a bare 404: no body, no content type.
pub async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// `GET /api/openapi.json`: the document [`crate::openapi`] built with the router.
pub async fn openapi(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        state.openapi.as_bytes().to_vec(),
    )
        .into_response()
}

/// Better Auth's liveness answer.
pub async fn ok() -> Json<serde_json::Value> {
    Json(json!({ "ok": true }))
}

pub(crate) fn status_true() -> Json<serde_json::Value> {
    Json(json!({ "status": true }))
}

/// One RPC for `route`: its message, or the upstream error that chooses the answer's status.
pub(crate) async fn call<T>(
    route: Route,
    rpc: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, ApiError> {
    Ok(rpc.await.map_err(ApiError::upstream(route))?.into_inner())
}

/// An answer that may open a session: it names the user, and carries the new session's token when it opened one.
pub(crate) trait OpensSession {
    fn take_user(&mut self) -> Option<pb::User>;
    fn token(&self) -> Option<&str>;
}

impl OpensSession for pb::SignUpEmailResponse {
    fn take_user(&mut self) -> Option<pb::User> {
        self.user.take()
    }

    fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

impl OpensSession for pb::SignInEmailResponse {
    fn take_user(&mut self) -> Option<pb::User> {
        self.user.take()
    }

    fn token(&self) -> Option<&str> {
        Some(&self.token)
    }
}

impl OpensSession for pb::ChangePasswordResponse {
    fn take_user(&mut self) -> Option<pb::User> {
        self.user.take()
    }

    fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

impl OpensSession for pb::SignInWithIdTokenResponse {
    fn take_user(&mut self) -> Option<pb::User> {
        self.user.take()
    }

    fn token(&self) -> Option<&str> {
        Some(&self.token)
    }
}

/// What [`open_session`] hands back: the rest of the answer, its user, and the cookies to set.
pub(crate) struct Opened<T> {
    pub response: T,
    pub user: User,
    pub cookies: SetCookies,
}

/// Calls an RPC that may open a session, checks that it named the user, and turns a new session's token into the
/// signed session cookie (remembered as `remember` says, short-lived when the caller's own was).
pub(crate) async fn open_session<T: OpensSession>(
    state: &AppState,
    current: &CurrentSession,
    route: Route,
    remember: bool,
    rpc: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<Opened<T>, ApiError> {
    let response = call(route, rpc).await?;
    opened(state, current, remember, response)
}

/// [`open_session`]'s second half, for a handler that looked at the answer first.
pub(crate) fn opened<T: OpensSession>(
    state: &AppState,
    current: &CurrentSession,
    remember: bool,
    mut response: T,
) -> Result<Opened<T>, ApiError> {
    let user = response.take_user().ok_or(ApiError::Internal(
        "a session-opening call returned no user",
    ))?;
    let cookies = match response.token() {
        Some(token) => SetCookies::session(
            &state.cookies,
            &state.secret,
            token,
            remember,
            current.dont_remember(),
        ),
        None => SetCookies::none(),
    };
    Ok(Opened {
        response,
        user: User::new(user, state.plugins),
        cookies,
    })
}
