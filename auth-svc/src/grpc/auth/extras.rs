//! The `AuthService` RPCs for Better Auth's remaining core routes: `update-session`, `verify-password`, deletion
//! confirmed by mail and its `delete-user/callback`. Thin, as the rest of [`super`]: credentials and conversion here,
//! the rules in [`crate::core::account`].

use prost_types::value::Kind;
use tonic::{Request, Response, Status};
use warden_proto::auth::v1 as pb;

use super::GrpcAuth;
use crate::{
    core::account::SessionFields,
    domain::{LinkToken, Password, SessionToken},
};

/// Better Auth's answers to delete-user and its callback.
pub const USER_DELETED: &str = "User deleted";
pub const DELETION_MAIL_SENT: &str = "Verification email sent";

/// Whether JavaScript takes `value` for true: Better Auth's `if (data[key])`.
fn truthy(value: &prost_types::Value) -> bool {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => false,
        Some(Kind::BoolValue(value)) => *value,
        Some(Kind::NumberValue(number)) => *number != 0.0 && !number.is_nan(),
        Some(Kind::StringValue(text)) => !text.is_empty(),
        Some(Kind::StructValue(_) | Kind::ListValue(_)) => true,
    }
}

fn session_fields(fields: Option<prost_types::Struct>) -> SessionFields {
    SessionFields::new(
        fields
            .unwrap_or_default()
            .fields
            .into_iter()
            .map(|(name, value)| {
                let truthy = truthy(&value);
                (name, truthy)
            }),
    )
}

impl GrpcAuth {
    pub(super) async fn update_session_rpc(
        &self,
        request: Request<pb::UpdateSessionRequest>,
    ) -> Result<Response<pb::UpdateSessionResponse>, Status> {
        let token = self.caller.token(&request);
        let fields = session_fields(request.into_inner().fields);
        match self.account.update_session(token.as_ref(), &fields).await? {}
    }

    pub(super) async fn verify_password_rpc(
        &self,
        request: Request<pb::VerifyPasswordRequest>,
    ) -> Result<Response<pb::VerifyPasswordResponse>, Status> {
        let token = self.caller.token(&request);
        let password = request.into_inner().password.into();
        self.account
            .verify_password(token.as_ref(), password)
            .await?;
        Ok(Response::new(pb::VerifyPasswordResponse { status: true }))
    }

    /// `DeleteUser` without a token while `DELETE_USER_VERIFICATION` is on.
    pub(super) async fn mail_deletion_link_rpc(
        &self,
        token: Option<SessionToken>,
        password: Option<Password>,
        callback_url: Option<String>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        self.account
            .mail_deletion_link(token.as_ref(), password, callback_url.as_deref())
            .await?;
        Ok(Response::new(pb::DeleteUserResponse {
            success: true,
            message: DELETION_MAIL_SENT.into(),
        }))
    }

    pub(super) async fn delete_user_callback_rpc(
        &self,
        request: Request<pb::DeleteUserCallbackRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        let token = self.caller.token(&request);
        let link = LinkToken::parse(request.into_inner().token);
        self.account
            .delete_user_from_link(token.as_ref(), link.as_ref())
            .await?;
        Ok(Response::new(pb::DeleteUserResponse {
            success: true,
            message: USER_DELETED.into(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use prost_types::{ListValue, Struct, Value};

    use super::*;

    fn value(kind: Kind) -> Value {
        Value { kind: Some(kind) }
    }

    #[test]
    fn truthiness_is_javascripts() {
        let falsy = [
            value(Kind::NullValue(0)),
            value(Kind::BoolValue(false)),
            value(Kind::NumberValue(0.0)),
            value(Kind::NumberValue(f64::NAN)),
            value(Kind::StringValue(String::new())),
            Value { kind: None },
        ];
        for value in falsy {
            assert!(!truthy(&value), "{value:?}");
        }
        let truthy_values = [
            value(Kind::BoolValue(true)),
            value(Kind::NumberValue(-1.0)),
            value(Kind::StringValue("x".into())),
            value(Kind::StructValue(Struct::default())),
            value(Kind::ListValue(ListValue::default())),
        ];
        for value in truthy_values {
            assert!(truthy(&value), "{value:?}");
        }
    }
}
