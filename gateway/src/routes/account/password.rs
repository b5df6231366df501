//! Passwords: the caller's change (`change-password`), and a forgotten one's reset by mailed link
//! (`request-password-reset`, the link itself, `reset-password`).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use warden_proto::auth::v1 as pb;

use super::{missing_query, redirect};
use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema, query_param};
use crate::json::User;
use crate::origin::OriginError;
use crate::routes::{Opened, call, open_session, status_true};
use crate::state::AppState;

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
    // Better Auth's `revokeOtherSessions: true` opens a new session and sets its cookie.
    let Opened {
        response,
        user,
        cookies,
    } = open_session(
        &state,
        &current,
        Route::ChangePassword,
        !current.dont_remember(),
        state.auth.clone().change_password(request),
    )
    .await?;
    let body = ChangePasswordResponse {
        token: response.token,
        user,
    };
    Ok((cookies, Json(body)).into_response())
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
    let response = call(
        Route::RequestPasswordReset,
        state.auth.clone().request_password_reset(request),
    )
    .await?;
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
    call(
        Route::ResetPassword,
        state.auth.clone().reset_password(request),
    )
    .await?;
    Ok(status_true())
}

#[cfg(test)]
mod tests {
    use super::*;

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
