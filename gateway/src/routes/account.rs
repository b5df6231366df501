//! Better Auth's account lifecycle under `/api/auth` (each one `AuthService` call): profile, password and email
//! changes, deletion, email verification and password reset; and the development outbox at `/api/dev/outbox`.

use axum::Json;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use serde_json::json;
use tonic_types::StatusExt;
use warden_proto::auth::v1 as pb;

use super::auth::SERVER_ONLY_FIELDS;
use crate::client_ip::ClientIp;
use crate::cookies::SetCookies;
use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema, query_param};
use crate::json::{User, iso_date};
use crate::origin::OriginError;
use crate::state::AppState;

fn status_true() -> Json<serde_json::Value> {
    Json(json!({ "status": true }))
}

/// A 302 to `location`, with an empty body.
fn redirect(location: &str) -> Response {
    match HeaderValue::try_from(location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => ApiError::from(OriginError::InvalidCallbackUrl).into_response(),
    }
}

/// A missing query parameter, as zod reports it.
fn missing_query(name: &str) -> ApiError {
    ApiError::bad_request(
        "VALIDATION_ERROR",
        format!("[query.{name}] Invalid input: expected string, received undefined"),
    )
}

/// Better Auth checks the session before an endpoint looks at the body's fields: without a live session the answer
/// is 401, whatever the body says.
async fn require_session(
    state: &AppState,
    current: &CurrentSession,
    client: &ClientInfo,
) -> Result<(), ApiError> {
    if current.token().is_none() {
        return Err(ApiError::unauthorized());
    }
    let request = client.request(
        pb::GetSessionRequest {
            disable_refresh: true,
        },
        Some(current),
    );
    match state.auth.clone().get_session(request).await {
        Ok(_) => Ok(()),
        Err(status) if status.code() == tonic::Code::Unauthenticated => {
            Err(ApiError::unauthorized())
        }
        Err(status) => Err(ApiError::upstream(Route::UpdateUser)(status)),
    }
}

/// The caller's session cookie sent again, as Better Auth's `setSessionCookie` does after a change.
fn same_session_cookie(state: &AppState, current: &CurrentSession) -> SetCookies {
    match current.token() {
        Some(token) => SetCookies::session(
            &state.cookies,
            &state.secret,
            token,
            !current.dont_remember(),
            current.dont_remember(),
        ),
        None => SetCookies::none(),
    }
}

pub struct UpdateUserBody {
    name: Option<String>,
    /// `Some(None)`: `"image": null` (or `""`), which clears it.
    image: Option<Option<String>>,
    has_email: bool,
    server_only: Option<&'static str>,
}

impl Schema for UpdateUserBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        let image = fields
            .nullable_string("image")
            .map(|image| Some(image).filter(|image| !image.is_empty()));
        Self {
            name: fields.optional_string("name"),
            image,
            has_email: fields.contains("email"),
            server_only: SERVER_ONLY_FIELDS
                .iter()
                .copied()
                .find(|key| fields.contains(key)),
        }
    }
}

impl UpdateUserBody {
    /// What Better Auth refuses in the body once the session is confirmed.
    fn refusal(&self) -> Option<ApiError> {
        if self.has_email {
            return Some(ApiError::bad_request(
                "EMAIL_CAN_NOT_BE_UPDATED",
                "Email can not be updated",
            ));
        }
        self.server_only.map(|key| {
            ApiError::bad_request(
                "FIELD_NOT_ALLOWED",
                format!("{key} is not allowed to be set"),
            )
        })
    }
}

pub async fn update_user(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<UpdateUserBody>,
) -> Result<Response, ApiError> {
    if let Some(refusal) = body.refusal() {
        require_session(&state, &current, &client).await?;
        return Err(refusal);
    }
    let remove_image = matches!(body.image, Some(None));
    let request = client.request(
        pb::UpdateUserRequest {
            name: body.name,
            image: body.image.flatten(),
            remove_image,
        },
        Some(&current),
    );
    state
        .auth
        .clone()
        .update_user(request)
        .await
        .map_err(ApiError::upstream(Route::UpdateUser))?;
    Ok((same_session_cookie(&state, &current), status_true()).into_response())
}

/// No `Debug`: it holds passwords.
pub struct ChangePasswordBody {
    new_password: String,
    current_password: String,
    revoke_other_sessions: Option<bool>,
}

impl Schema for ChangePasswordBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            new_password: fields.string("newPassword"),
            current_password: fields.string("currentPassword"),
            revoke_other_sessions: fields.optional_bool("revokeOtherSessions"),
        }
    }
}

#[derive(Serialize)]
struct ChangePasswordResponse {
    token: Option<String>,
    user: User,
}

pub async fn change_password(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<ChangePasswordBody>,
) -> Result<Response, ApiError> {
    let request = client.request(
        pb::ChangePasswordRequest {
            new_password: body.new_password,
            current_password: body.current_password,
            revoke_other_sessions: body.revoke_other_sessions,
        },
        Some(&current),
    );
    let response = state
        .auth
        .clone()
        .change_password(request)
        .await
        .map_err(ApiError::upstream(Route::ChangePassword))?
        .into_inner();
    let user = response
        .user
        .ok_or(ApiError::Internal("ChangePassword returned no user"))?;
    // Better Auth's `revokeOtherSessions: true` opens a new session and sets its cookie.
    let cookies = match &response.token {
        Some(token) => SetCookies::session(
            &state.cookies,
            &state.secret,
            token,
            !current.dont_remember(),
            current.dont_remember(),
        ),
        None => SetCookies::none(),
    };
    let body = ChangePasswordResponse {
        token: response.token,
        user: user.into(),
    };
    Ok((cookies, Json(body)).into_response())
}

pub struct ChangeEmailBody {
    new_email: String,
    callback_url: Option<String>,
}

impl Schema for ChangeEmailBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            new_email: fields.string("newEmail"),
            callback_url: fields.optional_string("callbackURL"),
        }
    }
}

pub async fn change_email(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<ChangeEmailBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = client.request(
        pb::ChangeEmailRequest {
            new_email: body.new_email,
            callback_url: body.callback_url,
        },
        Some(&current),
    );
    state
        .auth
        .clone()
        .change_email(request)
        .await
        .map_err(ApiError::upstream(Route::ChangeEmail))?;
    Ok(status_true())
}

/// No `Debug`: it holds a password.
pub struct DeleteUserBody {
    password: Option<String>,
    token: Option<String>,
    callback_url: Option<String>,
}

impl Schema for DeleteUserBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            password: fields.optional_string("password"),
            token: fields.optional_string("token"),
            callback_url: fields.optional_string("callbackURL"),
        }
    }
}

pub async fn delete_user(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<DeleteUserBody>,
) -> Result<Response, ApiError> {
    let request = client.request(
        pb::DeleteUserRequest {
            password: body.password,
            token: body.token,
            callback_url: body.callback_url,
        },
        Some(&current),
    );
    let response = state
        .auth
        .clone()
        .delete_user(request)
        .await
        .map_err(ApiError::upstream(Route::DeleteUser))?
        .into_inner();
    Ok((
        SetCookies::cleared(&state.cookies),
        Json(json!({ "success": response.success, "message": response.message })),
    )
        .into_response())
}

pub struct SendVerificationEmailBody {
    email: String,
    callback_url: Option<String>,
}

impl Schema for SendVerificationEmailBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            email: fields.string("email"),
            callback_url: fields.optional_string("callbackURL"),
        }
    }
}

pub async fn send_verification_email(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<SendVerificationEmailBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = client.request(
        pb::SendVerificationEmailRequest {
            email: body.email,
            callback_url: body.callback_url,
        },
        Some(&current),
    );
    state
        .auth
        .clone()
        .send_verification_email(request)
        .await
        .map_err(ApiError::upstream(Route::SendVerificationEmail))?;
    Ok(status_true())
}

/// `callbackURL?error=CODE` (or `&error=` when it has a query already), as Better Auth's `redirectOnError` builds it.
fn with_error(callback_url: &str, code: &str) -> String {
    let separator = if callback_url.contains('?') { '&' } else { '?' };
    format!("{callback_url}{separator}error={code}")
}

/// The link mailed to verify an address (or to confirm an email change). With `callbackURL` every outcome is a
/// redirect there; without one, JSON.
pub async fn verify_email(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let Some(token) = query_param(query.as_deref(), "token") else {
        return Err(missing_query("token"));
    };
    let callback_url = query_param(query.as_deref(), "callbackURL").filter(|url| !url.is_empty());
    if let Some(url) = &callback_url
        && !state.origins.is_trusted(url, true)
    {
        return Err(OriginError::InvalidCallbackUrl.into());
    }
    let request = client.request(
        pb::VerifyEmailRequest {
            token,
            callback_url: callback_url.clone(),
        },
        Some(&current),
    );
    match state.auth.clone().verify_email(request).await {
        Ok(response) => {
            let response = response.into_inner();
            match callback_url {
                Some(url) => Ok(redirect(&url)),
                None => Ok(Json(json!({
                    "status": response.status,
                    "user": response.user.map(User::from),
                }))
                .into_response()),
            }
        }
        Err(status) => {
            let reason = status
                .get_details_error_info()
                .map(|info| info.reason)
                .filter(|reason| !reason.is_empty());
            let client_error = !matches!(
                status.code(),
                tonic::Code::Internal | tonic::Code::Unavailable | tonic::Code::Unknown
            );
            match (callback_url, reason) {
                (Some(url), Some(code)) if client_error => Ok(redirect(&with_error(&url, &code))),
                _ => Err(ApiError::upstream(Route::VerifyEmail)(status)),
            }
        }
    }
}

pub struct RequestPasswordResetBody {
    email: String,
    redirect_to: Option<String>,
}

impl Schema for RequestPasswordResetBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            email: fields.string("email"),
            redirect_to: fields.optional_string("redirectTo"),
        }
    }
}

pub async fn request_password_reset(
    State(state): State<AppState>,
    client: ClientInfo,
    Body(body): Body<RequestPasswordResetBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let redirect_to = body.redirect_to.filter(|url| !url.is_empty());
    if let Some(url) = &redirect_to
        && !state.origins.is_trusted(url, true)
    {
        return Err(OriginError::InvalidRedirectUrl.into());
    }
    let request = client.request(
        pb::RequestPasswordResetRequest {
            email: body.email,
            redirect_to,
        },
        None,
    );
    let response = state
        .auth
        .clone()
        .request_password_reset(request)
        .await
        .map_err(ApiError::upstream(Route::RequestPasswordReset))?
        .into_inner();
    Ok(Json(
        json!({ "status": response.status, "message": response.message }),
    ))
}

/// `callback_url` (resolved against `base_url` when relative) with `key` set to `value` in its query, as Better
/// Auth's `new URL(callbackURL, baseURL)` + `searchParams.set` builds it.
fn callback_with(base_url: &str, callback_url: &str, key: &str, value: &str) -> Option<String> {
    let mut url = url::Url::parse(callback_url)
        .or_else(|_| url::Url::parse(base_url).and_then(|base| base.join(callback_url)))
        .ok()?;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| name != key)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(key, value);
    Some(url.to_string())
}

/// The link in a reset mail: on to `callbackURL?token=…` while the token is good, else `callbackURL?error=INVALID_TOKEN`.
pub async fn reset_password_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let Some(callback_url) = query_param(query.as_deref(), "callbackURL") else {
        return Err(missing_query("callbackURL"));
    };
    if callback_url.is_empty() {
        // Better Auth sends a link without a destination to its error page.
        let base = &state.base_url;
        return Ok(redirect(&format!(
            "{base}/api/auth/error?error=INVALID_TOKEN"
        )));
    }
    if !state.origins.is_trusted(&callback_url, true) {
        return Err(OriginError::InvalidCallbackUrl.into());
    }
    let valid = state
        .auth
        .clone()
        .check_reset_token(client.request(
            pb::CheckResetTokenRequest {
                token: token.clone(),
            },
            None,
        ))
        .await
        .map_err(ApiError::upstream(Route::CheckResetToken))?
        .into_inner()
        .valid;
    let (key, value) = if valid {
        ("token", token.as_str())
    } else {
        ("error", "INVALID_TOKEN")
    };
    let location = callback_with(&state.base_url, &callback_url, key, value)
        .ok_or(OriginError::InvalidCallbackUrl)?;
    Ok(redirect(&location))
}

/// No `Debug`: it holds a password and a reset token.
pub struct ResetPasswordBody {
    new_password: String,
    token: Option<String>,
}

impl Schema for ResetPasswordBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            new_password: fields.string("newPassword"),
            token: fields.optional_string("token"),
        }
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    client: ClientInfo,
    RawQuery(query): RawQuery,
    Body(body): Body<ResetPasswordBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let token = body
        .token
        .filter(|token| !token.is_empty())
        .or_else(|| query_param(query.as_deref(), "token"))
        .unwrap_or_default();
    let request = client.request(
        pb::ResetPasswordRequest {
            new_password: body.new_password,
            token,
        },
        None,
    );
    state
        .auth
        .clone()
        .reset_password(request)
        .await
        .map_err(ApiError::upstream(Route::ResetPassword))?;
    Ok(status_true())
}

#[derive(Serialize)]
struct OutboxMail {
    to: String,
    subject: String,
    text: String,
    sent_at: Option<String>,
}

/// The development outbox: the mails auth-svc kept instead of sending, newest first. Only while auth-svc has no
/// SMTP server, and only to a client on this machine, since the mails hold live links; otherwise 404.
pub async fn dev_outbox(
    State(state): State<AppState>,
    client: ClientInfo,
    request: http::request::Parts,
) -> Response {
    // The address the client-address layer believed, else the socket peer.
    let ip = request
        .extensions
        .get::<ClientIp>()
        .map(|ClientIp(ip)| *ip)
        .or_else(|| {
            request
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
        });
    if !ip.is_some_and(|ip| ip.to_canonical().is_loopback()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let listed = state
        .dev
        .clone()
        .list_outbox(client.request(pb::ListOutboxRequest {}, None))
        .await;
    match listed {
        Ok(response) => {
            let mails: Vec<OutboxMail> = response
                .into_inner()
                .mails
                .into_iter()
                .map(|mail| OutboxMail {
                    sent_at: iso_date(mail.sent_at.as_ref()),
                    to: mail.to,
                    subject: mail.subject,
                    text: mail.text,
                })
                .collect();
            Json(mails).into_response()
        }
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::Unimplemented | tonic::Code::PermissionDenied
            ) =>
        {
            StatusCode::NOT_FOUND.into_response()
        }
        Err(status) => ApiError::upstream(Route::ListOutbox)(status).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_appended_to_the_callback_query() {
        assert_eq!(
            with_error("/done", "INVALID_TOKEN"),
            "/done?error=INVALID_TOKEN"
        );
        assert_eq!(
            with_error("http://a.io/done?x=1", "TOKEN_EXPIRED"),
            "http://a.io/done?x=1&error=TOKEN_EXPIRED"
        );
    }

    #[test]
    fn reset_callbacks_resolve_against_the_base_url_and_replace_the_parameter() {
        let base = "http://localhost:3000";
        assert_eq!(
            callback_with(base, "/reset", "token", "abc").as_deref(),
            Some("http://localhost:3000/reset?token=abc")
        );
        assert_eq!(
            callback_with(
                base,
                "https://app.example.com/r?token=old&x=1",
                "token",
                "new"
            )
            .as_deref(),
            Some("https://app.example.com/r?x=1&token=new")
        );
        assert_eq!(
            callback_with(base, "/reset", "error", "INVALID_TOKEN").as_deref(),
            Some("http://localhost:3000/reset?error=INVALID_TOKEN")
        );
    }
}
