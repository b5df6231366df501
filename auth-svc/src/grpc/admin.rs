//! The generated `AdminService` trait, kept thin: read the caller's credential, convert, call [`Admin`].

use tonic::{Request, Response, Status};
use warden_proto::auth::v1 as pb;

use super::{
    Caller,
    convert::{self, listed_session_pb, user_pb},
};
use crate::{
    core::admin::{Admin, UserPage},
    domain::ListUsers,
    error::AuthError,
};

pub use pb::admin_service_server::AdminServiceServer;

#[derive(Clone)]
pub struct GrpcAdmin {
    admin: Admin,
    caller: Caller,
}

impl GrpcAdmin {
    pub fn new(admin: Admin, caller: Caller) -> Self {
        Self { admin, caller }
    }
}

fn user_response(user: crate::domain::UserRecord) -> Response<pb::AdminUserResponse> {
    Response::new(pb::AdminUserResponse {
        user: Some(user_pb(user)),
    })
}

fn success() -> Response<pb::AdminSuccessResponse> {
    Response::new(pb::AdminSuccessResponse { success: true })
}

/// A count as proto's `int32`, saturating (the gateway only echoes what it was sent).
fn int32(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

#[tonic::async_trait]
impl pb::admin_service_server::AdminService for GrpcAdmin {
    async fn set_role(
        &self,
        request: Request<pb::SetRoleRequest>,
    ) -> Result<Response<pb::AdminUserResponse>, Status> {
        let token = self.caller.token(&request);
        let body = request.into_inner();
        let user_id = convert::admin::user_id("body.userId", body.user_id)?;
        let roles = convert::admin::roles(body.role)?;
        let user = self
            .admin
            .set_role(token.as_ref(), &user_id, &roles)
            .await?;
        Ok(user_response(user))
    }

    async fn ban_user(
        &self,
        request: Request<pb::BanUserRequest>,
    ) -> Result<Response<pb::AdminUserResponse>, Status> {
        let token = self.caller.token(&request);
        let input = convert::admin::ban_user(request.into_inner())?;
        let user = self.admin.ban_user(token.as_ref(), input).await?;
        Ok(user_response(user))
    }

    async fn unban_user(
        &self,
        request: Request<pb::UnbanUserRequest>,
    ) -> Result<Response<pb::AdminUserResponse>, Status> {
        let token = self.caller.token(&request);
        let user_id = convert::admin::user_id("body.userId", request.into_inner().user_id)?;
        let user = self.admin.unban_user(token.as_ref(), &user_id).await?;
        Ok(user_response(user))
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let token = self.caller.token(&request);
        let body = request.into_inner();
        let input = ListUsers {
            search_value: body.search_value,
            search_field: body.search_field,
            search_operator: body.search_operator,
            limit: body.limit.map(i64::from),
            offset: body.offset.map(i64::from),
            sort_by: body.sort_by,
            sort_direction: body.sort_direction,
            filter_field: body.filter_field,
            filter_value: body.filter_value,
            filter_operator: body.filter_operator,
        };
        let query = input.parse().map_err(AuthError::Validation)?;
        let UserPage {
            users,
            total,
            limit,
            offset,
        } = self.admin.list_users(token.as_ref(), query).await?;
        Ok(Response::new(pb::ListUsersResponse {
            users: users.into_iter().map(user_pb).collect(),
            total: i64::try_from(total).unwrap_or(i64::MAX),
            limit: limit.map(int32),
            offset: offset.map(int32),
        }))
    }

    async fn list_user_sessions(
        &self,
        request: Request<pb::ListUserSessionsRequest>,
    ) -> Result<Response<pb::ListUserSessionsResponse>, Status> {
        let token = self.caller.token(&request);
        let user_id = convert::admin::user_id("body.userId", request.into_inner().user_id)?;
        let sessions = self
            .admin
            .list_user_sessions(token.as_ref(), &user_id)
            .await?;
        Ok(Response::new(pb::ListUserSessionsResponse {
            sessions: sessions.into_iter().map(listed_session_pb).collect(),
        }))
    }

    async fn revoke_user_session(
        &self,
        request: Request<pb::RevokeUserSessionRequest>,
    ) -> Result<Response<pb::AdminSuccessResponse>, Status> {
        let token = self.caller.token(&request);
        let target = convert::auth::session_ref("sessionToken", &request.get_ref().session_token)?;
        self.admin
            .revoke_user_session(token.as_ref(), &target)
            .await?;
        Ok(success())
    }

    async fn revoke_user_sessions(
        &self,
        request: Request<pb::RevokeUserSessionsRequest>,
    ) -> Result<Response<pb::AdminSuccessResponse>, Status> {
        let token = self.caller.token(&request);
        let user_id = convert::admin::user_id("body.userId", request.into_inner().user_id)?;
        self.admin
            .revoke_user_sessions(token.as_ref(), &user_id)
            .await?;
        Ok(success())
    }

    async fn remove_user(
        &self,
        request: Request<pb::RemoveUserRequest>,
    ) -> Result<Response<pb::AdminSuccessResponse>, Status> {
        let token = self.caller.token(&request);
        let user_id = convert::admin::user_id("body.userId", request.into_inner().user_id)?;
        self.admin.remove_user(token.as_ref(), &user_id).await?;
        Ok(success())
    }

    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let token = self.caller.token(&request);
        let user_id = convert::admin::user_id("query.id", request.into_inner().id)?;
        let user = self.admin.get_user(token.as_ref(), &user_id).await?;
        Ok(Response::new(user_pb(user)))
    }

    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::AdminUserResponse>, Status> {
        let token = self.caller.token(&request);
        let input = convert::admin::new_account(request.into_inner())?;
        let user = self.admin.create_user(token.as_ref(), input).await?;
        Ok(user_response(user))
    }

    async fn set_user_password(
        &self,
        request: Request<pb::SetUserPasswordRequest>,
    ) -> Result<Response<pb::SetUserPasswordResponse>, Status> {
        let token = self.caller.token(&request);
        let body = request.into_inner();
        let (user_id, password) =
            convert::admin::set_user_password(body.user_id, body.new_password)?;
        self.admin
            .set_user_password(token.as_ref(), &user_id, &password)
            .await?;
        Ok(Response::new(pb::SetUserPasswordResponse { status: true }))
    }

    async fn reset_two_factor(
        &self,
        request: Request<pb::ResetTwoFactorRequest>,
    ) -> Result<Response<pb::AdminUserResponse>, Status> {
        let token = self.caller.token(&request);
        let user_id = convert::admin::user_id("body.userId", request.into_inner().user_id)?;
        let user = self
            .admin
            .reset_two_factor(token.as_ref(), &user_id)
            .await?;
        Ok(user_response(user))
    }
}
