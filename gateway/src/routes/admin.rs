//! Better Auth's admin plugin under `/api/auth/admin`, each route one `AdminService` call.
//!
//! auth-svc decides who may call them (a missing session comes back as a bare 401, a non-admin as 403 with the
//! action's code); the handlers only read the request the way Better Auth's schemas do and shape the answer.

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Serialize;
use serde_json::{Value, json};
use warden_proto::Reason;
use warden_proto::auth::v1 as pb;

use super::call;
use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema};
use crate::json::{Session, User};
use crate::state::AppState;

#[derive(Serialize)]
pub struct UserResponse {
    user: User,
}

#[derive(Serialize)]
pub struct UserList {
    users: Vec<User>,
    total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<i32>,
}

#[derive(Serialize)]
pub struct SessionList {
    sessions: Vec<Session>,
}

fn success() -> Json<Value> {
    Json(json!({ "success": true }))
}

fn user_response(
    state: &AppState,
    response: pb::AdminUserResponse,
) -> Result<Json<UserResponse>, ApiError> {
    let user = response
        .user
        .ok_or(ApiError::Internal("an admin call returned no user"))?;
    Ok(Json(UserResponse {
        user: User::new(user, state.plugins),
    }))
}

/// A body that names one user.
pub struct UserIdBody {
    user_id: String,
}

impl Schema for UserIdBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            user_id: fields.string("userId"),
        }
    }
}

pub struct SetRoleBody {
    user_id: String,
    role: Vec<String>,
}

impl Schema for SetRoleBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            user_id: fields.string("userId"),
            role: fields.strings("role", true),
        }
    }
}

pub async fn set_role(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<SetRoleBody>,
) -> Result<Json<UserResponse>, ApiError> {
    let request = pb::SetRoleRequest {
        user_id: body.user_id,
        role: body.role,
    };
    let response = state
        .admin
        .clone()
        .set_role(client.request(request, Some(&current)))
        .await
        .map_err(ApiError::upstream(Route::AdminSetRole))?;
    user_response(&state, response.into_inner())
}

pub struct BanUserBody {
    user_id: String,
    ban_reason: Option<String>,
    ban_expires_in: Option<f64>,
}

impl Schema for BanUserBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            user_id: fields.string("userId"),
            ban_reason: fields.optional_string("banReason"),
            ban_expires_in: fields.optional_number("banExpiresIn"),
        }
    }
}

pub async fn ban_user(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<BanUserBody>,
) -> Result<Json<UserResponse>, ApiError> {
    let request = pb::BanUserRequest {
        user_id: body.user_id,
        ban_reason: body.ban_reason,
        // Whole seconds: a fraction rounds, and `as` saturates what no i64 holds.
        ban_expires_in: body.ban_expires_in.map(|seconds| seconds.round() as i64),
    };
    let response = state
        .admin
        .clone()
        .ban_user(client.request(request, Some(&current)))
        .await
        .map_err(ApiError::upstream(Route::AdminBanUser))?;
    user_response(&state, response.into_inner())
}

pub async fn unban_user(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<UserIdBody>,
) -> Result<Json<UserResponse>, ApiError> {
    let request = pb::UnbanUserRequest {
        user_id: body.user_id,
    };
    let response = state
        .admin
        .clone()
        .unban_user(client.request(request, Some(&current)))
        .await
        .map_err(ApiError::upstream(Route::AdminUnbanUser))?;
    user_response(&state, response.into_inner())
}

/// `POST /api/warden/admin/reset-two-factor` (Warden's own, `AdminService.ResetTwoFactor`): turns a user's second
/// factor off, forgets their trusted devices and ends their sessions. `{user}` as it is now.
pub async fn reset_two_factor(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<UserIdBody>,
) -> Result<Json<UserResponse>, ApiError> {
    let request = pb::ResetTwoFactorRequest {
        user_id: body.user_id,
    };
    let response = state
        .admin
        .clone()
        .reset_two_factor(client.request(request, Some(&current)))
        .await
        .map_err(ApiError::upstream(Route::AdminResetTwoFactor))?;
    user_response(&state, response.into_inner())
}

/// The query's parameters, first value of each.
fn query_params(query: Option<&str>) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| crate::extract::query_param(query, name)
}

/// A number as JavaScript's `Number(x) || undefined` reads a query parameter: positive values only, whole part.
fn positive_number(raw: Option<String>) -> Option<i32> {
    let number: f64 = raw?.trim().parse().ok()?;
    let whole = number.trunc().min(f64::from(i32::MAX)) as i32;
    (whole > 0).then_some(whole)
}

/// `GET /admin/list-users`: search, filter, sort and page through the users.
pub async fn list_users(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Result<Json<UserList>, ApiError> {
    let param = query_params(query.as_deref());
    let request = pb::ListUsersRequest {
        search_value: param("searchValue"),
        search_field: param("searchField"),
        search_operator: param("searchOperator"),
        limit: positive_number(param("limit")),
        offset: positive_number(param("offset")),
        sort_by: param("sortBy"),
        sort_direction: param("sortDirection"),
        filter_field: param("filterField"),
        filter_value: param("filterValue"),
        filter_operator: param("filterOperator"),
    };
    let response = call(
        Route::AdminListUsers,
        state
            .admin
            .clone()
            .list_users(client.request(request, Some(&current))),
    )
    .await?;
    Ok(Json(UserList {
        users: response
            .users
            .into_iter()
            .map(|user| User::new(user, state.plugins))
            .collect(),
        total: response.total,
        limit: response.limit,
        offset: response.offset,
    }))
}

pub async fn list_user_sessions(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<UserIdBody>,
) -> Result<Json<SessionList>, ApiError> {
    let request = pb::ListUserSessionsRequest {
        user_id: body.user_id,
    };
    let response = call(
        Route::AdminListUserSessions,
        state
            .admin
            .clone()
            .list_user_sessions(client.request(request, Some(&current))),
    )
    .await?;
    Ok(Json(SessionList {
        sessions: response.sessions.into_iter().map(Session::from).collect(),
    }))
}

/// No `Debug`: it holds a credential.
pub struct RevokeUserSessionBody {
    session_token: String,
}

impl Schema for RevokeUserSessionBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            session_token: fields.string("sessionToken"),
        }
    }
}

pub async fn revoke_user_session(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<RevokeUserSessionBody>,
) -> Result<Json<Value>, ApiError> {
    let request = pb::RevokeUserSessionRequest {
        session_token: body.session_token,
    };
    call(
        Route::AdminRevokeUserSession,
        state
            .admin
            .clone()
            .revoke_user_session(client.request(request, Some(&current))),
    )
    .await?;
    Ok(success())
}

pub async fn revoke_user_sessions(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<UserIdBody>,
) -> Result<Json<Value>, ApiError> {
    let request = pb::RevokeUserSessionsRequest {
        user_id: body.user_id,
    };
    call(
        Route::AdminRevokeUserSessions,
        state
            .admin
            .clone()
            .revoke_user_sessions(client.request(request, Some(&current))),
    )
    .await?;
    Ok(success())
}

pub async fn remove_user(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<UserIdBody>,
) -> Result<Json<Value>, ApiError> {
    let request = pb::RemoveUserRequest {
        user_id: body.user_id,
    };
    call(
        Route::AdminRemoveUser,
        state
            .admin
            .clone()
            .remove_user(client.request(request, Some(&current))),
    )
    .await?;
    Ok(success())
}

/// `GET /admin/get-user?id=…`: the user itself, not wrapped.
pub async fn get_user(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Result<Json<User>, ApiError> {
    let Some(id) = crate::extract::query_param(query.as_deref(), "id") else {
        return Err(ApiError::bad_request(
            Reason::ValidationError,
            "[query.id] Invalid input: expected string, received undefined",
        ));
    };
    let response = state
        .admin
        .clone()
        .get_user(client.request(pb::GetUserRequest { id }, Some(&current)))
        .await
        .map_err(ApiError::upstream(Route::AdminGetUser))?;
    Ok(Json(User::new(response.into_inner(), state.plugins)))
}

/// No `Debug`: it holds a password. Better Auth's `data` (extra user fields) is accepted and not stored.
pub struct CreateUserBody {
    email: String,
    password: Option<String>,
    name: String,
    role: Vec<String>,
}

impl Schema for CreateUserBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            email: fields.string("email"),
            password: fields.optional_string("password"),
            name: fields.string("name"),
            role: fields.strings("role", false),
        }
    }
}

pub async fn create_user(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<CreateUserBody>,
) -> Result<Json<UserResponse>, ApiError> {
    let request = pb::CreateUserRequest {
        email: body.email,
        password: body.password.unwrap_or_default(),
        name: body.name,
        role: body.role,
    };
    let response = state
        .admin
        .clone()
        .create_user(client.request(request, Some(&current)))
        .await
        .map_err(ApiError::upstream(Route::AdminCreateUser))?;
    user_response(&state, response.into_inner())
}

/// No `Debug`: it holds a password.
pub struct SetUserPasswordBody {
    new_password: String,
    user_id: String,
}

impl Schema for SetUserPasswordBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            new_password: fields.string("newPassword"),
            user_id: fields.string("userId"),
        }
    }
}

pub async fn set_user_password(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<SetUserPasswordBody>,
) -> Result<Json<Value>, ApiError> {
    let request = pb::SetUserPasswordRequest {
        user_id: body.user_id,
        new_password: body.new_password,
    };
    call(
        Route::AdminSetUserPassword,
        state
            .admin
            .clone()
            .set_user_password(client.request(request, Some(&current))),
    )
    .await?;
    Ok(Json(json!({ "status": true })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_the_query_read_as_javascript_reads_them() {
        let n = |raw: &str| positive_number(Some(raw.to_owned()));
        assert_eq!(n("10"), Some(10));
        assert_eq!(n(" 7 "), Some(7));
        assert_eq!(n("2.9"), Some(2));
        assert_eq!(n("1e1"), Some(10));
        assert_eq!(n("0"), None);
        assert_eq!(n("-5"), None);
        assert_eq!(n("ten"), None);
        assert_eq!(n(""), None);
        assert_eq!(n("99999999999"), Some(i32::MAX));
        assert_eq!(positive_number(None), None);
    }
}
