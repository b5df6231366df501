//! The generated `AuthService` trait, kept thin: read credentials and client info, convert, call [`AuthCore`].

use std::net::IpAddr;

use ipnet::IpNet;
use tonic::{Request, Response, Status, metadata::MetadataMap};
use warden_common::AuthSecret;
use warden_proto::auth::v1 as pb;

use crate::{
    account::{Account, ChangePassword, DeleteUser, ProfileUpdate},
    domain::{SessionRecord, SessionToken, UserRecord},
    keys::PublicKey,
    service::{AuthCore, Opened, SignIn, SignUp, SignedUp},
    sessions::ClientInfo,
};

pub use pb::auth_service_server::AuthServiceServer;

mod extras;

pub const FORWARDED_FOR: &str = "x-forwarded-for";
pub const FORWARDED_USER_AGENT: &str = "x-forwarded-user-agent";

/// Better Auth's answer to a password-reset request, whether or not the address is known.
pub const RESET_REQUESTED: &str =
    "If this email exists in our system, check your email for the reset link";

#[derive(Clone)]
pub struct GrpcAuth {
    core: AuthCore,
    account: Account,
    secret: AuthSecret,
    trusted_proxies: std::sync::Arc<[IpNet]>,
}

impl GrpcAuth {
    pub fn new(
        core: AuthCore,
        account: Account,
        secret: AuthSecret,
        trusted_proxies: Vec<IpNet>,
    ) -> Self {
        Self {
            core,
            account,
            secret,
            trusted_proxies: trusted_proxies.into(),
        }
    }

    fn credentials<T>(&self, request: &Request<T>) -> Option<SessionToken> {
        credentials(&self.secret, request.metadata())
    }

    /// The caller's address and agent; forwarded values are believed only from trusted proxies.
    fn client_info<T>(&self, request: &Request<T>) -> ClientInfo {
        let peer = request.remote_addr().map(|addr| addr.ip());
        let metadata = request.metadata();
        let trusted =
            peer.is_some_and(|ip| self.trusted_proxies.iter().any(|net| net.contains(&ip)));
        if trusted && let Some(forwarded) = forwarded_ip(metadata) {
            return ClientInfo {
                ip_address: Some(forwarded.to_string()),
                user_agent: Some(text(metadata, FORWARDED_USER_AGENT).unwrap_or_default()),
            };
        }
        ClientInfo {
            ip_address: peer.map(|ip| ip.to_string()),
            user_agent: Some(text(metadata, "user-agent").unwrap_or_default()),
        }
    }
}

/// `authorization: Bearer <token>`: a signed `token.signature` must verify; a bare token is taken as is.
pub(crate) fn credentials(secret: &AuthSecret, metadata: &MetadataMap) -> Option<SessionToken> {
    let value = metadata.get("authorization")?.to_str().ok()?;
    let (scheme, presented) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let presented = presented.trim();
    if presented.is_empty() {
        return None;
    }
    if presented.contains('.') {
        let decoded = percent_encoding::percent_decode_str(presented)
            .decode_utf8()
            .ok()?;
        return secret.verify(&decoded).map(SessionToken::from_presented);
    }
    Some(SessionToken::from_presented(presented.to_owned()))
}

/// Exactly one valid address, as Better Auth requires of `x-forwarded-for`.
fn forwarded_ip(metadata: &MetadataMap) -> Option<IpAddr> {
    text(metadata, FORWARDED_FOR)?.trim().parse().ok()
}

fn text(metadata: &MetadataMap, key: &str) -> Option<String> {
    metadata.get(key)?.to_str().ok().map(str::to_owned)
}

#[tonic::async_trait]
impl pb::auth_service_server::AuthService for GrpcAuth {
    async fn sign_up_email(
        &self,
        request: Request<pb::SignUpEmailRequest>,
    ) -> Result<Response<pb::SignUpEmailResponse>, Status> {
        let client = self.client_info(&request);
        let body = request.into_inner();
        let input = SignUp {
            name: body.name,
            email: body.email,
            password: body.password,
            image: body.image,
            remember: body.remember_me.unwrap_or(true),
            callback_url: body.callback_url,
        };
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
        let client = self.client_info(&request);
        let body = request.into_inner();
        let input = SignIn {
            email: body.email,
            password: body.password,
            remember: body.remember_me.unwrap_or(true),
            callback_url: body.callback_url.clone(),
        };
        let Opened {
            token,
            session,
            user,
        } = self.core.sign_in(input, client).await?;
        let url = body.callback_url.filter(|url| !url.is_empty());
        Ok(Response::new(pb::SignInEmailResponse {
            redirect: url.is_some(),
            token: token.expose().to_owned(),
            url,
            user: Some(user_pb(user)),
            session: Some(session_pb(session, token.expose())),
        }))
    }

    async fn sign_out(
        &self,
        request: Request<pb::SignOutRequest>,
    ) -> Result<Response<pb::SignOutResponse>, Status> {
        self.core
            .sign_out(self.credentials(&request).as_ref())
            .await?;
        Ok(Response::new(pb::SignOutResponse { success: true }))
    }

    async fn get_session(
        &self,
        request: Request<pb::GetSessionRequest>,
    ) -> Result<Response<pb::GetSessionResponse>, Status> {
        let token = self.credentials(&request);
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
            .list_sessions(self.credentials(&request).as_ref())
            .await?;
        Ok(Response::new(pb::ListSessionsResponse {
            sessions: sessions.into_iter().map(listed_session_pb).collect(),
        }))
    }

    async fn revoke_session(
        &self,
        request: Request<pb::RevokeSessionRequest>,
    ) -> Result<Response<pb::RevokeSessionResponse>, Status> {
        let token = self.credentials(&request);
        let target = request.into_inner().token;
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
            .revoke_sessions(self.credentials(&request).as_ref(), false)
            .await?;
        Ok(Response::new(pb::RevokeSessionsResponse { status: true }))
    }

    async fn revoke_other_sessions(
        &self,
        request: Request<pb::RevokeOtherSessionsRequest>,
    ) -> Result<Response<pb::RevokeOtherSessionsResponse>, Status> {
        self.core
            .revoke_sessions(self.credentials(&request).as_ref(), true)
            .await?;
        Ok(Response::new(pb::RevokeOtherSessionsResponse {
            status: true,
        }))
    }

    async fn issue_token(
        &self,
        request: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let token = self
            .core
            .issue_token(self.credentials(&request).as_ref())
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
        let token = self.credentials(&request);
        let body = request.into_inner();
        let image = if body.remove_image {
            Some(None)
        } else {
            body.image.map(Some)
        };
        let update = ProfileUpdate {
            name: body.name,
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
        let token = self.credentials(&request);
        let client = self.client_info(&request);
        let body = request.into_inner();
        let input = ChangePassword {
            new_password: body.new_password,
            current_password: body.current_password,
            revoke_other_sessions: body.revoke_other_sessions,
        };
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
        let token = self.credentials(&request);
        let body = request.into_inner();
        self.account
            .change_email(
                token.as_ref(),
                &body.new_email,
                body.callback_url.as_deref(),
            )
            .await?;
        Ok(Response::new(pb::ChangeEmailResponse { status: true }))
    }

    async fn delete_user(
        &self,
        request: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        if self.account.deletion_confirmed_by_mail()
            && request.get_ref().token.as_deref().is_none_or(str::is_empty)
        {
            return self.mail_deletion_link_rpc(request).await;
        }
        let token = self.credentials(&request);
        let body = request.into_inner();
        let input = DeleteUser {
            password: body.password,
            token: body.token,
        };
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
        let token = self.credentials(&request);
        let body = request.into_inner();
        self.account
            .send_verification_email(token.as_ref(), &body.email, body.callback_url.as_deref())
            .await?;
        Ok(Response::new(pb::SendVerificationEmailResponse {
            status: true,
        }))
    }

    async fn verify_email(
        &self,
        request: Request<pb::VerifyEmailRequest>,
    ) -> Result<Response<pb::VerifyEmailResponse>, Status> {
        let token = self.credentials(&request);
        let body = request.into_inner();
        let verified = self
            .account
            .verify_email(token.as_ref(), &body.token)
            .await?;
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
        self.account
            .request_password_reset(&body.email, body.redirect_to.as_deref())
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
        let valid = self
            .account
            .check_reset_token(&request.into_inner().token)
            .await?;
        Ok(Response::new(pb::CheckResetTokenResponse { valid }))
    }

    async fn reset_password(
        &self,
        request: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        let body = request.into_inner();
        self.account
            .reset_password(&body.token, body.new_password)
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

pub(crate) fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub(crate) fn user_pb(user: UserRecord) -> pb::User {
    pb::User {
        id: user.id,
        name: user.name,
        email: user.email,
        email_verified: user.email_verified,
        image: user.image,
        created_at: Some(timestamp(user.created_at)),
        updated_at: Some(timestamp(user.updated_at)),
        role: user.role,
        banned: user.banned,
        ban_reason: user.ban_reason,
        ban_expires: user.ban_expires.map(timestamp),
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

/// `token` is the raw token for the caller's own session, the stored hash otherwise.
/// A session in a listing: its token is the stored hash, which names it (for revocation) but never authenticates.
pub(crate) fn listed_session_pb(session: SessionRecord) -> pb::Session {
    let hash = session.token_hash.clone();
    session_pb(session, &hash)
}

pub(crate) fn session_pb(session: SessionRecord, token: &str) -> pb::Session {
    pb::Session {
        id: session.id,
        token: token.to_owned(),
        user_id: session.user_id,
        expires_at: Some(timestamp(session.expires_at)),
        ip_address: session.ip_address,
        user_agent: session.user_agent,
        created_at: Some(timestamp(session.created_at)),
        updated_at: Some(timestamp(session.updated_at)),
        impersonated_by: session.impersonated_by,
    }
}
