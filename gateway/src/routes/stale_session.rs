//! Better Auth's session middleware forgets a cookie whose session is gone: a route that needs a session answers its
//! error together with the three deletion cookies when a credential came but named no live session.

use axum::response::{IntoResponse, Response};

use crate::cookies::SetCookies;
use crate::error::{ApiError, Route};
use crate::extract::CurrentSession;
use crate::state::AppState;

/// `error`, with the deletion cookies when the caller presented a credential and auth-svc found no session for it
/// (`reasons`: the reasons that mean so on this route).
pub fn refuse(
    state: &AppState,
    current: &CurrentSession,
    error: ApiError,
    reasons: &[&str],
) -> Response {
    let session_gone = current.token().is_some()
        && matches!(&error, ApiError::Upstream { status, .. } if reason(status).is_some_and(|reason| reasons.contains(&reason.as_str())));
    if session_gone {
        (SetCookies::cleared(&state.cookies), error).into_response()
    } else {
        error.into_response()
    }
}

/// `route`'s upstream refusal, with the deletion cookies when it was `UNAUTHORIZED` for a credential that came: what
/// the plugins' routes behind Better Auth's `sessionMiddleware` answer.
pub fn refuse_upstream(
    state: &AppState,
    current: &CurrentSession,
    route: Route,
    status: tonic::Status,
) -> Response {
    refuse(
        state,
        current,
        ApiError::upstream(route)(status),
        &["UNAUTHORIZED"],
    )
}

fn reason(status: &tonic::Status) -> Option<String> {
    use tonic_types::StatusExt;
    status.get_details_error_info().map(|info| info.reason)
}
