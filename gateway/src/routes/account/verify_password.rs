//! `POST /api/auth/verify-password`: whether the signed-in user's password is the one given
//! (`AuthService.VerifyPassword`): `{"status":true}`, or 400 `INVALID_PASSWORD`, 401 without a session.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use warden_proto::auth::v1 as pb;

use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema};
use crate::routes::stale_session;
use crate::state::AppState;

/// No `Debug`: it holds a password.
pub struct VerifyPasswordBody {
    password: String,
}

impl Schema for VerifyPasswordBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            password: fields.string("password"),
        }
    }
}

pub async fn verify_password(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<VerifyPasswordBody>,
) -> Response {
    let request = client.request(
        pb::VerifyPasswordRequest {
            password: body.password,
        },
        Some(&current),
    );
    match state.auth.clone().verify_password(request).await {
        Ok(response) => Json(json!({ "status": response.into_inner().status })).into_response(),
        Err(status) => stale_session::refuse(
            &state,
            &current,
            ApiError::upstream(Route::VerifyPassword)(status),
            &["UNAUTHORIZED"],
        ),
    }
}
