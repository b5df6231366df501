//! Better Auth's passkey plugin under `/api/auth/passkey/`, each route one `PasskeyService` call. A ceremony's token
//! travels in the package's signed `better-auth-passkey` cookie (five minutes): the options routes set it, the verify
//! routes read it back.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde::Serialize;
use warden_proto::auth::v1 as pb;

use super::stale_session::refuse_upstream as refuse;
use crate::cookies::{SetCookies, read_signed_cookie};
use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema};
use crate::json::{Session, User, iso_date};
use crate::query::query_param;
use crate::state::AppState;

/// A `passkey` row as the package answers it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Passkey {
    name: Option<String>,
    public_key: String,
    user_id: String,
    #[serde(rename = "credentialID")]
    credential_id: String,
    counter: i32,
    device_type: String,
    backed_up: bool,
    transports: Option<String>,
    created_at: Option<String>,
    aaguid: Option<String>,
    /// Last, as the package's adapter answers a row.
    id: String,
}

impl From<pb::Passkey> for Passkey {
    fn from(row: pb::Passkey) -> Self {
        Self {
            created_at: iso_date(row.created_at.as_ref()),
            id: row.id,
            name: row.name,
            public_key: row.public_key,
            user_id: row.user_id,
            credential_id: row.credential_id,
            counter: row.counter,
            device_type: row.device_type,
            backed_up: row.backed_up,
            transports: row.transports,
            aaguid: row.aaguid,
        }
    }
}

/// verify-registration with `createSession`: the passkey's fields, then the session and the user.
#[derive(Serialize)]
struct RegisteredWithSession {
    #[serde(flatten)]
    passkey: Passkey,
    session: Session,
    user: User,
}

#[derive(Serialize)]
struct Updated {
    passkey: Option<Passkey>,
}

#[derive(Serialize)]
struct SignedIn {
    session: Session,
    user: User,
}

/// `{response, name?, createSession?}`; `response` is passed on as the authenticator wrote it.
pub struct RegistrationBody {
    response: serde_json::Value,
    name: Option<String>,
    create_session: bool,
}

impl Schema for RegistrationBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        let response = fields.object().get("response").cloned();
        if response.is_none() {
            fields.push_issue(
                "[body.response] Invalid input: expected nonoptional, received undefined"
                    .to_owned(),
            );
        }
        let response = response.unwrap_or(serde_json::Value::Null);
        Self {
            response,
            name: fields.optional_string("name"),
            create_session: fields.optional_bool("createSession").unwrap_or(false),
        }
    }
}

/// `{response}`, an object (the package's `z.record`).
pub struct AuthenticationBody {
    response: serde_json::Value,
}

impl Schema for AuthenticationBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        let response = fields.object().get("response").cloned();
        if !matches!(response, Some(serde_json::Value::Object(_))) {
            fields.mismatch("response", "record");
        }
        Self {
            response: response.unwrap_or(serde_json::Value::Null),
        }
    }
}

pub struct IdBody {
    id: String,
}

impl Schema for IdBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            id: fields.string("id"),
        }
    }
}

pub struct RenameBody {
    id: String,
    name: String,
}

impl Schema for RenameBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        let id = fields.string("id");
        let name = fields.string("name");
        if fields.contains("name") && name.trim().is_empty() && fields.object()["name"].is_string()
        {
            fields.push_issue(
                "[body.name] Too small: expected string to have >=1 characters".to_owned(),
            );
        }
        Self { id, name }
    }
}

fn ceremony(state: &AppState, headers: &HeaderMap) -> String {
    read_signed_cookie(headers, state.cookies.passkey_name(), &state.secret).unwrap_or_default()
}

/// The options as JSON, with the cookie naming their ceremony.
fn options(state: &AppState, options: pb::PasskeyOptions) -> Response {
    let cookie = state
        .cookies
        .passkey_cookie(&state.secret, &options.challenge);
    (
        SetCookies::one(cookie),
        [(http::header::CONTENT_TYPE, "application/json")],
        options.options_json,
    )
        .into_response()
}

/// Whether the request names its origin. The package refuses a verify request that does not (Warden checks the origin
/// the browser signed into its client data, against its own list, not this header); a request that carries cookies
/// never gets here without one (the origin check refuses it first).
fn has_origin(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::ORIGIN)
        .is_some_and(|origin| !origin.is_empty())
}

pub async fn generate_register_options(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Response {
    let request = client.request(
        pb::GenerateRegisterOptionsRequest {
            name: query_param(query.as_deref(), "name"),
            authenticator_attachment: query_param(query.as_deref(), "authenticatorAttachment"),
        },
        Some(&current),
    );
    match state
        .passkeys
        .clone()
        .generate_register_options(request)
        .await
    {
        Ok(response) => options(&state, response.into_inner()),
        Err(status) => refuse(
            &state,
            &current,
            Route::PasskeyGenerateRegisterOptions,
            status,
        ),
    }
}

pub async fn verify_registration(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<RegistrationBody>,
) -> Response {
    let request = client.request(
        pb::VerifyRegistrationRequest {
            response_json: body.response.to_string(),
            name: body.name,
            create_session: body.create_session,
            challenge: ceremony(&state, &headers),
            without_origin: !has_origin(&headers),
        },
        Some(&current),
    );
    let response = match state.passkeys.clone().verify_registration(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => {
            return refuse(&state, &current, Route::PasskeyVerifyRegistration, status);
        }
    };
    let Some(passkey) = response.passkey else {
        return ApiError::Internal("a registration without its passkey").into_response();
    };
    match (response.session, response.user) {
        (Some(session), Some(user)) => {
            let cookies = SetCookies::session(
                &state.cookies,
                &state.secret,
                &session.token,
                true,
                current.dont_remember(),
            );
            let body = RegisteredWithSession {
                passkey: passkey.into(),
                session: session.into(),
                user: User::new(user, state.plugins),
            };
            (cookies, Json(body)).into_response()
        }
        _ => Json(Passkey::from(passkey)).into_response(),
    }
}

pub async fn generate_authenticate_options(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
) -> Result<Response, ApiError> {
    let request = client.request(pb::GenerateAuthenticateOptionsRequest {}, Some(&current));
    let response = super::call(
        Route::PasskeyGenerateAuthenticateOptions,
        state
            .passkeys
            .clone()
            .generate_authenticate_options(request),
    )
    .await?;
    Ok(options(&state, response))
}

pub async fn verify_authentication(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<AuthenticationBody>,
) -> Result<Response, ApiError> {
    if !has_origin(&headers) {
        // As the package words it: a message and no code, before anything else is looked at.
        let body = Json(serde_json::json!({ "message": "origin missing" }));
        return Ok((http::StatusCode::BAD_REQUEST, body).into_response());
    }
    let request = client.request(
        pb::VerifyAuthenticationRequest {
            response_json: body.response.to_string(),
            challenge: ceremony(&state, &headers),
        },
        None,
    );
    let response = super::call(
        Route::PasskeyVerifyAuthentication,
        state.passkeys.clone().verify_authentication(request),
    )
    .await?;
    let (Some(session), Some(user)) = (response.session, response.user) else {
        return Err(ApiError::Internal("a passkey sign-in without its session"));
    };
    let cookies = SetCookies::session(
        &state.cookies,
        &state.secret,
        &session.token,
        true,
        current.dont_remember(),
    );
    let body = SignedIn {
        session: session.into(),
        user: User::new(user, state.plugins),
    };
    Ok((cookies, Json(body)).into_response())
}

pub async fn list_user_passkeys(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
) -> Response {
    let request = client.request(pb::ListUserPasskeysRequest {}, Some(&current));
    match state.passkeys.clone().list_user_passkeys(request).await {
        Ok(response) => {
            let rows: Vec<Passkey> = response
                .into_inner()
                .passkeys
                .into_iter()
                .map(Passkey::from)
                .collect();
            Json(rows).into_response()
        }
        Err(status) => refuse(&state, &current, Route::PasskeyList, status),
    }
}

pub async fn delete_passkey(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<IdBody>,
) -> Response {
    let request = client.request(pb::DeletePasskeyRequest { id: body.id }, Some(&current));
    match state.passkeys.clone().delete_passkey(request).await {
        Ok(_) => super::status_true().into_response(),
        Err(status) => refuse(&state, &current, Route::PasskeyDelete, status),
    }
}

pub async fn update_passkey(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<RenameBody>,
) -> Response {
    let request = client.request(
        pb::UpdatePasskeyRequest {
            id: body.id,
            name: body.name,
        },
        Some(&current),
    );
    match state.passkeys.clone().update_passkey(request).await {
        Ok(response) => {
            let passkey = response.into_inner().passkey.map(Passkey::from);
            Json(Updated { passkey }).into_response()
        }
        Err(status) => refuse(&state, &current, Route::PasskeyUpdate, status),
    }
}
