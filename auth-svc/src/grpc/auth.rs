//! The generated `AuthService` trait, kept thin: read credentials and client info, convert, call [`AuthCore`].

use tonic::{Request, Response, Status};
use warden_proto::auth::v1 as pb;

use super::{
    Caller,
    convert::{self, listed_session_pb, session_pb, user_pb},
};
use crate::{
    core::account::{Account, ProfileUpdate},
    core::api_key::ApiKeys,
    core::auth::{AuthCore, Opened, SignedIn, SignedUp},
    core::jwt::PublicKey,
    domain::{LinkToken, SessionToken},
    error::{ApiKeyError, AuthError},
};

pub use pb::auth_service_server::AuthServiceServer;

mod extras;

/// Better Auth's answer to a password-reset request, whether or not the address is known.
pub const RESET_REQUESTED: &str =
    "If this email exists in our system, check your email for the reset link";

#[derive(Clone)]
pub struct GrpcAuth {
    core: AuthCore,
    account: Account,
    caller: Caller,
    /// Better Auth's jwt plugin's own route (`IssueToken`, `/token`) is served; `GetJwks` always is, since task-svc
    /// verifies JWTs with it.
    jwt_routes: bool,
    /// The api-key plugin, when served: `GetSession` with a key answers its owner.
    api_keys: Option<ApiKeys>,
}

impl GrpcAuth {
    pub fn new(core: AuthCore, account: Account, caller: Caller) -> Self {
        Self {
            core,
            account,
            caller,
            jwt_routes: true,
            api_keys: None,
        }
    }

    /// Serves `IssueToken` or answers it `UNIMPLEMENTED`, as `PLUGINS` says of `jwt`.
    pub fn with_jwt_routes(mut self, served: bool) -> Self {
        self.jwt_routes = served;
        self
    }

    pub fn with_api_keys(mut self, api_keys: Option<ApiKeys>) -> Self {
        self.api_keys = api_keys;
        self
    }

    /// `GetSession` for an API key (one use counted): its owner, and the key in a session's shape, as the package's
    /// `enableSessionForAPIKeys` answers. No token is echoed and no JWT issued: a JWT would outlive the key's checks.
    async fn key_session(
        &self,
        keys: &ApiKeys,
        key: &str,
    ) -> Result<pb::GetSessionResponse, Status> {
        // A key that names nobody is answered as any credential that names nobody.
        let (row, owner) = keys
            .authenticate(key, None)
            .await
            .map_err(|error| match error {
                AuthError::ApiKey(ApiKeyError::InvalidApiKey) => AuthError::Unauthorized,
                other => other,
            })?;
        let session = pb::Session {
            id: row.id,
            token: String::new(),
            user_id: owner.id.clone(),
            expires_at: row.expires_at.map(warden_proto::time::timestamp),
            ip_address: None,
            user_agent: None,
            created_at: Some(warden_proto::time::timestamp(row.created_at)),
            updated_at: Some(warden_proto::time::timestamp(row.updated_at)),
            impersonated_by: None,
        };
        Ok(pb::GetSessionResponse {
            session: Some(session),
            user: Some(user_pb(owner)),
            refreshed: false,
            remember: true,
            jwt: String::new(),
        })
    }
}

#[tonic::async_trait]
impl pb::auth_service_server::AuthService for GrpcAuth {
    async fn sign_up_email(
        &self,
        request: Request<pb::SignUpEmailRequest>,
    ) -> Result<Response<pb::SignUpEmailResponse>, Status> {
        let client = self.caller.client(&request);
        let input = convert::auth::sign_up(request.into_inner())?;
        match self.core.sign_up(input, client).await? {
            SignedUp::Opened(opened) => {
                let Opened {
                    token,
                    session,
                    user,
                } = *opened;
                Ok(Response::new(pb::SignUpEmailResponse {
                    token: Some(token.expose().to_owned()),
                    user: Some(user_pb(user)),
                    session: Some(session_pb(session, token.expose())),
                }))
            }
            // The address must be verified first: no session, and no sign of whether it already had an account.
            SignedUp::Unverified(user) => Ok(Response::new(pb::SignUpEmailResponse {
                token: None,
                user: Some(user_pb(user)),
                session: None,
            })),
        }
    }

    async fn sign_in_email(
        &self,
        request: Request<pb::SignInEmailRequest>,
    ) -> Result<Response<pb::SignInEmailResponse>, Status> {
        let client = self.caller.client(&request);
        let input = convert::auth::sign_in(request.into_inner())?;
        let url = input.callback_url.clone().filter(|url| !url.is_empty());
        let (opened, trusted) = match self.core.sign_in(input, client).await? {
            SignedIn::Opened(opened, trusted) => (*opened, trusted),
            SignedIn::SecondFactor {
                challenge,
                methods,
                trust_refused,
            } => {
                return Ok(Response::new(pb::SignInEmailResponse {
                    two_factor: Some(pb::TwoFactorChallenge {
                        challenge,
                        methods: methods.into_iter().map(str::to_owned).collect(),
                    }),
                    trust_device_refused: trust_refused,
                    ..Default::default()
                }));
            }
        };
        let Opened {
            token,
            session,
            user,
        } = opened;
        Ok(Response::new(pb::SignInEmailResponse {
            redirect: url.is_some(),
            token: token.expose().to_owned(),
            url,
            user: Some(user_pb(user)),
            session: Some(session_pb(session, token.expose())),
            two_factor: None,
            trust_device: trusted.map(|device| device.token),
            trust_device_refused: false,
        }))
    }

    async fn sign_out(
        &self,
        request: Request<pb::SignOutRequest>,
    ) -> Result<Response<pb::SignOutResponse>, Status> {
        self.core
            .sign_out(self.caller.token(&request).as_ref())
            .await?;
        Ok(Response::new(pb::SignOutResponse { success: true }))
    }

    async fn get_session(
        &self,
        request: Request<pb::GetSessionRequest>,
    ) -> Result<Response<pb::GetSessionResponse>, Status> {
        let token = self.caller.token(&request);
        if let (Some(keys), Some(key)) = (
            &self.api_keys,
            token
                .as_ref()
                .map(SessionToken::expose)
                .filter(|t| warden_common::token::is_api_key_shaped(t)),
        ) {
            return Ok(Response::new(self.key_session(keys, key).await?));
        }
        let disable_refresh = request.get_ref().disable_refresh;
        let resolved = self.core.current(token.as_ref(), disable_refresh).await?;
        let jwt = self.core.session_jwt(&resolved.user).await;
        let raw = token.as_ref().map(SessionToken::expose).unwrap_or_default();
        Ok(Response::new(pb::GetSessionResponse {
            session: Some(session_pb(resolved.session, raw)),
            user: Some(user_pb(resolved.user)),
            refreshed: resolved.refreshed,
            remember: resolved.remember,
            jwt: jwt.unwrap_or_default(),
        }))
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let sessions = self
            .core
            .list_sessions(self.caller.token(&request).as_ref())
            .await?;
        Ok(Response::new(pb::ListSessionsResponse {
            sessions: sessions.into_iter().map(listed_session_pb).collect(),
        }))
    }

    async fn revoke_session(
        &self,
        request: Request<pb::RevokeSessionRequest>,
    ) -> Result<Response<pb::RevokeSessionResponse>, Status> {
        let token = self.caller.token(&request);
        let target = convert::auth::session_ref("token", &request.get_ref().token)?;
        let revoked_current = self.core.revoke_session(token.as_ref(), &target).await?;
        Ok(Response::new(pb::RevokeSessionResponse {
            status: true,
            revoked_current,
        }))
    }

    async fn revoke_sessions(
        &self,
        request: Request<pb::RevokeSessionsRequest>,
    ) -> Result<Response<pb::RevokeSessionsResponse>, Status> {
        self.core
            .revoke_sessions(self.caller.token(&request).as_ref(), false)
            .await?;
        Ok(Response::new(pb::RevokeSessionsResponse { status: true }))
    }

    async fn revoke_other_sessions(
        &self,
        request: Request<pb::RevokeOtherSessionsRequest>,
    ) -> Result<Response<pb::RevokeOtherSessionsResponse>, Status> {
        self.core
            .revoke_sessions(self.caller.token(&request).as_ref(), true)
            .await?;
        Ok(Response::new(pb::RevokeOtherSessionsResponse {
            status: true,
        }))
    }

    async fn issue_token(
        &self,
        request: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        if !self.jwt_routes {
            return Err(Status::unimplemented(
                "the jwt plugin is not enabled (PLUGINS)",
            ));
        }
        let token = self
            .core
            .issue_token(self.caller.token(&request).as_ref())
            .await?;
        Ok(Response::new(pb::IssueTokenResponse { token }))
    }

    async fn get_jwks(
        &self,
        _request: Request<pb::GetJwksRequest>,
    ) -> Result<Response<pb::GetJwksResponse>, Status> {
        let keys = self.core.jwks().await?;
        Ok(Response::new(pb::GetJwksResponse {
            keys: keys.into_iter().map(jwk_pb).collect(),
        }))
    }

    async fn update_user(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UpdateUserResponse>, Status> {
        let token = self.caller.token(&request);
        let body = request.into_inner();
        let image = if body.remove_image {
            Some(None)
        } else {
            convert::optional_text("body.image", body.image)?.map(Some)
        };
        let update = ProfileUpdate {
            name: convert::optional_text("body.name", body.name)?,
            image,
        };
        let user = self.account.update_user(token.as_ref(), update).await?;
        Ok(Response::new(pb::UpdateUserResponse {
            status: true,
            user: Some(user_pb(user)),
        }))
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let token = self.caller.token(&request);
        let client = self.caller.client(&request);
        let input = convert::auth::change_password(request.into_inner());
        let changed = self
            .account
            .change_password(token.as_ref(), input, client)
            .await?;
        let (token, session) = match changed.opened {
            Some((token, session)) => {
                let raw = token.expose().to_owned();
                (Some(raw.clone()), Some(session_pb(session, &raw)))
            }
            None => (None, None),
        };
        Ok(Response::new(pb::ChangePasswordResponse {
            token,
            user: Some(user_pb(changed.user)),
            session,
        }))
    }

    async fn change_email(
        &self,
        request: Request<pb::ChangeEmailRequest>,
    ) -> Result<Response<pb::ChangeEmailResponse>, Status> {
        let token = self.caller.token(&request);
        let body = request.into_inner();
        let new_email = convert::auth::email_field("newEmail", &body.new_email)?;
        let callback_url = convert::optional_text("body.callbackURL", body.callback_url)?;
        self.account
            .change_email(token.as_ref(), &new_email, callback_url.as_deref())
            .await?;
        Ok(Response::new(pb::ChangeEmailResponse { status: true }))
    }

    async fn delete_user(
        &self,
        request: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        let token = self.caller.token(&request);
        let body = request.into_inner();
        let input = convert::auth::delete_user(body.password, body.token)?;
        if self.account.deletion_confirmed_by_mail() && input.token.is_none() {
            let callback_url = convert::optional_text("body.callbackURL", body.callback_url)?;
            return self
                .mail_deletion_link_rpc(token, input.password, callback_url)
                .await;
        }
        self.account.delete_user(token.as_ref(), input).await?;
        Ok(Response::new(pb::DeleteUserResponse {
            success: true,
            message: "User deleted".into(),
        }))
    }

    async fn send_verification_email(
        &self,
        request: Request<pb::SendVerificationEmailRequest>,
    ) -> Result<Response<pb::SendVerificationEmailResponse>, Status> {
        let token = self.caller.token(&request);
        let body = request.into_inner();
        let email = convert::auth::email_field("email", &body.email)?;
        let callback_url = convert::optional_text("body.callbackURL", body.callback_url)?;
        self.account
            .send_verification_email(token.as_ref(), &email, callback_url.as_deref())
            .await?;
        Ok(Response::new(pb::SendVerificationEmailResponse {
            status: true,
        }))
    }

    async fn verify_email(
        &self,
        request: Request<pb::VerifyEmailRequest>,
    ) -> Result<Response<pb::VerifyEmailResponse>, Status> {
        let token = self.caller.token(&request);
        let link = convert::auth::link_token(request.into_inner().token)?;
        let verified = self.account.verify_email(token.as_ref(), &link).await?;
        Ok(Response::new(pb::VerifyEmailResponse {
            status: true,
            user: verified.user.map(user_pb),
            token: None,
            session: None,
        }))
    }

    async fn request_password_reset(
        &self,
        request: Request<pb::RequestPasswordResetRequest>,
    ) -> Result<Response<pb::RequestPasswordResetResponse>, Status> {
        let body = request.into_inner();
        let email = convert::auth::email_field("email", &body.email)?;
        let redirect_to = convert::optional_text("body.redirectTo", body.redirect_to)?;
        self.account
            .request_password_reset(&email, redirect_to.as_deref())
            .await?;
        Ok(Response::new(pb::RequestPasswordResetResponse {
            status: true,
            message: RESET_REQUESTED.into(),
        }))
    }

    async fn check_reset_token(
        &self,
        request: Request<pb::CheckResetTokenRequest>,
    ) -> Result<Response<pb::CheckResetTokenResponse>, Status> {
        let link = LinkToken::parse(request.into_inner().token);
        let valid = self.account.check_reset_token(link.as_ref()).await?;
        Ok(Response::new(pb::CheckResetTokenResponse { valid }))
    }

    async fn reset_password(
        &self,
        request: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        let body = request.into_inner();
        let link = convert::auth::link_token(body.token)?;
        self.account
            .reset_password(&link, body.new_password.into())
            .await?;
        Ok(Response::new(pb::ResetPasswordResponse { status: true }))
    }

    async fn update_session(
        &self,
        request: Request<pb::UpdateSessionRequest>,
    ) -> Result<Response<pb::UpdateSessionResponse>, Status> {
        self.update_session_rpc(request).await
    }

    async fn verify_password(
        &self,
        request: Request<pb::VerifyPasswordRequest>,
    ) -> Result<Response<pb::VerifyPasswordResponse>, Status> {
        self.verify_password_rpc(request).await
    }

    async fn delete_user_callback(
        &self,
        request: Request<pb::DeleteUserCallbackRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        self.delete_user_callback_rpc(request).await
    }
}

fn jwk_pb(key: PublicKey) -> pb::Jwk {
    pb::Jwk {
        kid: key.kid,
        kty: key.kty,
        crv: key.crv,
        x: key.x,
        alg: key.alg,
    }
}
