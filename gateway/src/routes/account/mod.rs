//! Better Auth's account lifecycle under `/api/auth`, each one `AuthService` call: the profile and email address
//! ([`profile`]), passwords and their reset ([`password`]), email verification ([`verification`]) and deletion
//! ([`deletion`]); and what they share.

pub mod delete_user_callback;
pub mod deletion;
pub mod password;
pub mod profile;
pub mod verification;
pub mod verify_password;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use warden_proto::Reason;
use warden_proto::auth::v1 as pb;

use crate::cookies::SetCookies;
use crate::error::{ApiError, Route};
use crate::extract::{ClientInfo, CurrentSession};
use crate::origin::OriginError;
use crate::state::AppState;

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
        Reason::ValidationError,
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
