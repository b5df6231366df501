//! `GET /api/auth/delete-user/callback?token=…&callbackURL=…`: the link a deletion-confirmation mail holds
//! (`DELETE_USER_VERIFICATION`), as `AuthService.DeleteUserCallback`. Opened while signed in as the user the token
//! was issued to, it deletes the account and sends the deletion cookies, then redirects to `callbackURL` (checked
//! against the trusted origins before routing) or answers `{"success":true,"message":"User deleted"}`.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;
use warden_proto::Reason;
use warden_proto::auth::v1 as pb;

use crate::cookies::SetCookies;
use crate::error::{ApiError, Route};
use crate::extract::{ClientInfo, CurrentSession, query_param};
use crate::origin::OriginError;
use crate::routes::stale_session;
use crate::state::AppState;

pub async fn delete_user_callback(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(token) = query_param(query.as_deref(), "token") else {
        return ApiError::bad_request(
            Reason::ValidationError,
            "[query.token] Invalid input: expected string, received undefined",
        )
        .into_response();
    };
    let callback_url = query_param(query.as_deref(), "callbackURL").filter(|url| !url.is_empty());
    let request = client.request(
        pb::DeleteUserCallbackRequest {
            token,
            callback_url: callback_url.clone(),
        },
        Some(&current),
    );
    let response = match state.auth.clone().delete_user_callback(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => {
            return stale_session::refuse(
                &state,
                &current,
                ApiError::upstream(Route::DeleteUserCallback)(status),
                &["FAILED_TO_GET_USER_INFO"],
            );
        }
    };
    let cookies = SetCookies::cleared(&state.cookies);
    match callback_url {
        Some(url) => match HeaderValue::try_from(url) {
            Ok(location) => {
                (StatusCode::FOUND, cookies, [(header::LOCATION, location)]).into_response()
            }
            Err(_) => ApiError::from(OriginError::InvalidCallbackUrl).into_response(),
        },
        None => (
            cookies,
            Json(json!({ "success": response.success, "message": response.message })),
        )
            .into_response(),
    }
}
