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
    if current.key_session() {
        return key_session(state, current, client).await;
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
/// get-session for an `x-api-key` under `API_KEY_SESSIONS`, as the package's hook answers it: the owner first, then
/// the key in a session's shape (its id, the key itself as token, the request's agent and forwarded address, now as
/// creation time, and the key's expiry, or the package's `now + 604800 ms`), no cookie and no JWT. Each call is one
/// use of the key. Unlike the package, a banned owner's key is refused.
async fn key_session(
    state: &AppState,
    current: &CurrentSession,
    client: &ClientInfo,
) -> Result<Response, ApiError> {
    let Some(key) = current.credential() else {
        return Err(ApiError::local(
            StatusCode::FORBIDDEN,
            Reason::InvalidApiKey,
            "Invalid API key.",
        ));
    };
    let request = client.request(pb::GetSessionRequest::default(), Some(current));
    let response = match state.auth.clone().get_session(request).await {
        Ok(response) => response.into_inner(),
        // No such key (auth-svc answers it as any credential naming nobody): the package's words for it.
        Err(status) if is_unauthorized(&status) => {
            return Err(ApiError::local(
                StatusCode::UNAUTHORIZED,
                Reason::InvalidApiKey,
                "Invalid API key.",
            ));
        }
        Err(status) => return Err(ApiError::upstream(Route::GetSession)(status)),
    };
    let (Some(session), Some(user)) = (response.session, response.user) else {
        return Err(ApiError::Internal("GetSession returned no session or user"));
    };
    let now = chrono::Utc::now();
    let at = |date: chrono::DateTime<chrono::Utc>| {
        date.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let expires_at = crate::json::iso_date(session.expires_at.as_ref())
        .unwrap_or_else(|| at(now + chrono::TimeDelta::milliseconds(604_800)));
    let session = KeySession {
        id: session.id,
        token: key.to_owned(),
        user_id: session.user_id,
        user_agent: client.user_agent.clone(),
        ip_address: client
            .forwarded
            .then(|| client.ip.map(|ip| ip.to_string()))
            .flatten(),
        created_at: at(now),
        updated_at: at(now),
        expires_at,
    };
    // The package's order: the user first, as its row (`id` last), then the session.
    let user = serde_json::to_string(&User::new(user, state.plugins))
        .map_err(|_| ApiError::Internal("a user that does not serialise"))?;
    let session = serde_json::to_string(&session)
        .map_err(|_| ApiError::Internal("a session that does not serialise"))?;
    let body = format!(r#"{{"user":{},"session":{session}}}"#, id_last(&user));
    Ok(([(http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// UNAUTHENTICATED with the reason UNAUTHORIZED: the credential named nobody.
fn is_unauthorized(status: &tonic::Status) -> bool {
    use tonic_types::StatusExt;
    status.code() == tonic::Code::Unauthenticated
        && status
            .get_details_error_info()
            .is_some_and(|info| info.reason == Reason::Unauthorized.as_str())
}

/// A JSON object whose first key is `id`, with `id` moved to the end, as Better Auth's rows answer it.
fn id_last(object: &str) -> String {
    let Some(rest) = object.strip_prefix(r#"{"id":"#) else {
        return object.to_owned();
    };
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<String>();
    let Some(Ok(id)) = stream.next() else {
        return object.to_owned();
    };
    let after = &rest[stream.byte_offset()..];
    let Some(fields) = after
        .strip_prefix(',')
        .and_then(|fields| fields.strip_suffix('}'))
    else {
        return object.to_owned();
    };
    let id = serde_json::Value::from(id);
    format!(r#"{{{fields},"id":{id}}}"#)
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct KeySession {
    id: String,
    token: String,
    user_id: String,
    user_agent: Option<String>,
    ip_address: Option<String>,
    created_at: String,
    updated_at: String,
    expires_at: String,
}

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

#[cfg(test)]
mod key_session_tests {
    use super::id_last;

    #[test]
    fn id_goes_last_and_nothing_else_moves() {
        assert_eq!(
            id_last(r#"{"id":"u\"1","name":"Ada","role":null}"#),
            r#"{"name":"Ada","role":null,"id":"u\"1"}"#
        );
        assert_eq!(id_last(r#"{"name":"Ada"}"#), r#"{"name":"Ada"}"#);
    }
}
