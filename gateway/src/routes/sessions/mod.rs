//! Better Auth's core session routes under `/api/auth`: email and password sign-up and sign-in, sign-out, the
//! session read, the caller's own sessions, and [`update`] (update-session). Each is one `AuthService` call.

pub mod update;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Serialize;
use serde_json::json;
use warden_common::settings::Plugin;
use warden_proto::Reason;
use warden_proto::auth::v1 as pb;

use super::{Opened, SERVER_ONLY_FIELDS, call, open_session, opened, status_true, two_factor};
use crate::cookies::{SetCookies, expose_header};
use crate::error::{ApiError, Route};
use crate::extract::{
    AnyBody, AnyObject, Body, ClientInfo, CurrentSession, Fields, Schema, Shape, query_param,
};
use crate::json::{Session, SessionWithUser, User};
use crate::state::AppState;

/// No `Debug`: it holds a credential.
pub struct SignUpBody {
    name: String,
    email: String,
    password: String,
    image: Option<String>,
    callback_url: Option<String>,
    remember_me: Option<bool>,
}

impl Schema for SignUpBody {
    const FORM: bool = true;
    const LOGIN: bool = true;
    const SHAPE: Shape = Shape::ObjectAndRecord;

    fn read(fields: &mut Fields<'_>) -> Self {
        let body = Self {
            name: fields.string("name"),
            email: fields.string("email"),
            password: fields.string("password"),
            image: fields.optional_string("image"),
            callback_url: fields.optional_string("callbackURL"),
            remember_me: fields.optional_bool("rememberMe"),
        };
        fields.forbid(SERVER_ONLY_FIELDS);
        body
    }
}

#[derive(Serialize)]
struct SignUpResponse {
    token: Option<String>,
    user: User,
}

pub async fn sign_up_email(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<SignUpBody>,
) -> Result<Response, ApiError> {
    let remember = body.remember_me.unwrap_or(true);
    let request = client.request(
        pb::SignUpEmailRequest {
            name: body.name,
            email: body.email,
            password: body.password,
            image: body.image,
            callback_url: body.callback_url,
            remember_me: body.remember_me,
        },
        None,
    );
    let Opened {
        response,
        user,
        cookies,
    } = open_session(
        &state,
        &current,
        Route::SignUpEmail,
        remember,
        state.auth.clone().sign_up_email(request),
    )
    .await?;
    let body = SignUpResponse {
        token: response.token,
        user,
    };
    Ok((cookies, Json(body)).into_response())
}

/// No `Debug`: it holds a credential.
pub struct SignInBody {
    email: String,
    password: String,
    callback_url: Option<String>,
    remember_me: Option<bool>,
}

impl Schema for SignInBody {
    const FORM: bool = true;
    const LOGIN: bool = true;

    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            email: fields.string("email"),
            password: fields.string("password"),
            callback_url: fields.optional_string("callbackURL"),
            remember_me: fields.optional_bool("rememberMe"),
        }
    }
}

#[derive(Serialize)]
struct SignInResponse {
    redirect: bool,
    token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    user: User,
}

pub async fn sign_in_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<SignInBody>,
) -> Result<Response, ApiError> {
    let remember = body.remember_me.unwrap_or(true);
    let callback_url = body.callback_url.filter(|url| !url.is_empty());
    let request = client.request(
        pb::SignInEmailRequest {
            email: body.email,
            password: body.password,
            callback_url: callback_url.clone(),
            remember_me: body.remember_me,
            trust_device: two_factor::trusted_device(&state, &headers),
        },
        None,
    );
    let mut response = call(
        Route::SignInEmail,
        state.auth.clone().sign_in_email(request),
    )
    .await?;
    if let Some(challenge) = response.two_factor.take() {
        return Ok(two_factor::challenged(
            &state,
            challenge,
            remember,
            response.trust_device_refused,
        ));
    }
    let trusted = response.trust_device.take();
    let Opened {
        response,
        user,
        cookies,
    } = opened(&state, &current, remember, response)?;
    let cookies = match trusted {
        Some(token) => cookies.then(state.cookies.trust_device_cookie(&state.secret, &token)),
        None => cookies,
    };
    // The callback was checked against the trusted origins before the call; Better Auth echoes it back.
    let url = response.url.filter(|url| !url.is_empty()).or(callback_url);
    let location = url
        .as_deref()
        .and_then(|url| http::HeaderValue::try_from(url).ok())
        .map(|url| [(header::LOCATION, url)]);
    let body = SignInResponse {
        redirect: url.is_some(),
        token: response.token,
        url,
        user,
    };
    Ok((cookies, location, Json(body)).into_response())
}

pub async fn sign_out(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(AnyObject): Body<AnyObject>,
) -> Result<Response, ApiError> {
    // Without a credential there is nothing to end; Better Auth answers the same either way.
    if current.token().is_some() {
        call(
            Route::SignOut,
            state
                .auth
                .clone()
                .sign_out(client.request(pb::SignOutRequest {}, Some(&current))),
        )
        .await?;
    }
    Ok((
        SetCookies::cleared(&state.cookies),
        Json(json!({ "success": true })),
    )
        .into_response())
}

/// `cache-control: no-store` and `pragma: no-cache`, which every get-session answer carries.
const NO_STORE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::PRAGMA, "no-cache"),
];

pub async fn get_session(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Response {
    (
        NO_STORE,
        resolve_session(&state, &current, &client, query.as_deref()).await,
    )
        .into_response()
}

async fn resolve_session(
    state: &AppState,
    current: &CurrentSession,
    client: &ClientInfo,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    if current.token().is_none() {
        return Ok(Json(serde_json::Value::Null).into_response());
    }
    let disable_refresh =
        current.dont_remember() || query_param(query, "disableRefresh").as_deref() == Some("true");
    let request = client.request(pb::GetSessionRequest { disable_refresh }, Some(current));
    let response = match state.auth.clone().get_session(request).await {
        Ok(response) => response.into_inner(),
        Err(status) if status.code() == tonic::Code::Unauthenticated => {
            // A well-signed cookie for a session that is gone: forget it.
            return Ok((
                SetCookies::cleared(&state.cookies),
                Json(serde_json::Value::Null),
            )
                .into_response());
        }
        Err(status) => return Err(ApiError::upstream(Route::GetSession)(status)),
    };
    let (Some(session), Some(user)) = (response.session, response.user) else {
        return Err(ApiError::Internal("GetSession returned no session or user"));
    };
    let cookies = if response.refreshed {
        SetCookies::refreshed(&state.cookies, &state.secret, &session.token)
    } else {
        SetCookies::none()
    };
    let body = SessionWithUser {
        session: session.into(),
        user: User::new(user, state.plugins),
    };
    let mut answer = (cookies, Json(body)).into_response();
    // The jwt plugin's header; the JWT itself is still minted, since task calls carry it.
    if state.plugins.is_enabled(Plugin::Jwt)
        && let Ok(jwt) = HeaderValue::try_from(response.jwt)
        && !jwt.is_empty()
    {
        let headers = answer.headers_mut();
        headers.insert(SET_AUTH_JWT, jwt);
        expose_header(headers, SET_AUTH_JWT);
    }
    Ok(answer)
}

/// Better Auth's jwt plugin: a JWT for the session also rides on every successful get-session.
pub const SET_AUTH_JWT: &str = "set-auth-jwt";

/// POST is Better Auth's deferred-refresh variant, which Warden does not enable.
pub async fn get_session_post(Body(AnyBody): Body<AnyBody>) -> ApiError {
    ApiError::local(
        StatusCode::METHOD_NOT_ALLOWED,
        Reason::MethodNotAllowedDeferSessionRequired,
        "POST method requires deferSessionRefresh to be enabled in session config",
    )
}

pub async fn list_sessions(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
) -> Result<Json<Vec<Session>>, ApiError> {
    let response = call(
        Route::ListSessions,
        state
            .auth
            .clone()
            .list_sessions(client.request(pb::ListSessionsRequest {}, Some(&current))),
    )
    .await?;
    Ok(Json(
        response.sessions.into_iter().map(Session::from).collect(),
    ))
}

/// No `Debug`: it holds a credential.
pub struct RevokeSessionBody {
    token: String,
}

impl Schema for RevokeSessionBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            token: fields.string("token"),
        }
    }
}

pub async fn revoke_session(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<RevokeSessionBody>,
) -> Result<Response, ApiError> {
    let request = client.request(
        pb::RevokeSessionRequest { token: body.token },
        Some(&current),
    );
    let response = call(
        Route::RevokeSession,
        state.auth.clone().revoke_session(request),
    )
    .await?;
    let cookies = if response.revoked_current {
        SetCookies::cleared(&state.cookies)
    } else {
        SetCookies::none()
    };
    Ok((cookies, status_true()).into_response())
}

pub async fn revoke_sessions(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(AnyBody): Body<AnyBody>,
) -> Result<Response, ApiError> {
    call(
        Route::RevokeSessions,
        state
            .auth
            .clone()
            .revoke_sessions(client.request(pb::RevokeSessionsRequest {}, Some(&current))),
    )
    .await?;
    Ok((SetCookies::cleared(&state.cookies), status_true()).into_response())
}

pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(AnyBody): Body<AnyBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    call(
        Route::RevokeOtherSessions,
        state.auth.clone().revoke_other_sessions(
            client.request(pb::RevokeOtherSessionsRequest {}, Some(&current)),
        ),
    )
    .await?;
    Ok(status_true())
}
