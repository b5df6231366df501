//! Deleting the caller's account (`delete-user`).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use warden_proto::auth::v1 as pb;

use crate::cookies::SetCookies;
use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema};
use crate::routes::call;
use crate::state::AppState;

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
    let response = call(Route::DeleteUser, state.auth.clone().delete_user(request)).await?;
    // A confirmation mail (DELETE_USER_VERIFICATION) leaves the session as it is.
    let cookies = if response.message == "User deleted" {
        SetCookies::cleared(&state.cookies)
    } else {
        SetCookies::none()
    };
    Ok((
        cookies,
        Json(json!({ "success": response.success, "message": response.message })),
    )
        .into_response())
}
