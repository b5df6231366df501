//! Email verification: sending the link (`send-verification-email`) and following it (`verify-email`).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use warden_proto::auth::v1 as pb;

use super::{missing_query, redirect};
use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema, query_param};
use crate::json::User;
use crate::origin::OriginError;
use crate::routes::{call, status_true};
use crate::state::AppState;
use tonic_types::StatusExt;

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
    call(
        Route::SendVerificationEmail,
        state.auth.clone().send_verification_email(request),
    )
    .await?;
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
                    "user": response.user.map(|user| User::new(user, state.plugins)),
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
}
