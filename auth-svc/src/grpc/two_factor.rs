//! `TwoFactorService`: Better Auth's two-factor plugin over gRPC. The caller is read from the bearer token; a sign-in
//! challenge travels in the messages, so clients without cookies complete it as a browser does with its cookie.

use tonic::{Request, Response, Status};
use warden_proto::auth::v1 as pb;

use super::{Caller, convert::user_pb};
use crate::{
    core::two_factor::{CodeCheck, Method, TwoFactor, Verified},
    error::AuthError,
};

pub use pb::two_factor_service_server::TwoFactorServiceServer;

#[derive(Clone)]
pub struct GrpcTwoFactor {
    core: TwoFactor,
    caller: Caller,
}

impl GrpcTwoFactor {
    pub fn new(core: TwoFactor, caller: Caller) -> Self {
        Self { core, caller }
    }
}

/// Better Auth's `method` field: "totp" unless "otp" is asked for; anything else is zod's refusal.
fn method(raw: Option<String>) -> Result<Method, AuthError> {
    match raw.as_deref() {
        None | Some("totp") => Ok(Method::Totp),
        Some("otp") => Ok(Method::Otp),
        Some(_) => Err(AuthError::Validation(
            r#"[body.method] Invalid option: expected one of "otp"|"totp""#.into(),
        )),
    }
}

fn challenge(raw: Option<String>) -> Option<String> {
    raw.filter(|challenge| !challenge.is_empty())
}

fn verified(verified: Verified) -> pb::VerifyCodeResponse {
    let Verified {
        user,
        opened,
        token,
        remember,
        trusted,
        challenge_completed,
    } = verified;
    let (token, session_opened) = match (opened, token) {
        (Some(opened), _) => (opened.token.expose().to_owned(), true),
        (None, Some(token)) => (token.expose().to_owned(), false),
        (None, None) => (String::new(), false),
    };
    pb::VerifyCodeResponse {
        token,
        user: Some(user_pb(user)),
        session_opened,
        trust_device: trusted,
        remember,
        challenge_completed,
    }
}

#[tonic::async_trait]
impl pb::two_factor_service_server::TwoFactorService for GrpcTwoFactor {
    async fn enable(
        &self,
        request: Request<pb::EnableTwoFactorRequest>,
    ) -> Result<Response<pb::EnableTwoFactorResponse>, Status> {
        let token = self.caller.token(&request);
        let message = request.into_inner();
        let method = method(message.method)?;
        let issuer = message.issuer.filter(|issuer| !issuer.is_empty());
        let enabled = self
            .core
            .enable(token.as_ref(), message.password.into(), method, issuer)
            .await?;
        Ok(Response::new(pb::EnableTwoFactorResponse {
            method: match method {
                Method::Totp => "totp",
                Method::Otp => "otp",
            }
            .into(),
            totp_uri: enabled.totp_uri,
            backup_codes: enabled.backup_codes,
            token: enabled
                .replaced
                .map(|opened| opened.token.expose().to_owned()),
        }))
    }

    async fn disable(
        &self,
        request: Request<pb::DisableTwoFactorRequest>,
    ) -> Result<Response<pb::DisableTwoFactorResponse>, Status> {
        let token = self.caller.token(&request);
        let password = request.into_inner().password.into();
        let opened = self.core.disable(token.as_ref(), password).await?;
        Ok(Response::new(pb::DisableTwoFactorResponse {
            status: true,
            token: opened.token.expose().to_owned(),
        }))
    }

    async fn get_totp_uri(
        &self,
        request: Request<pb::GetTotpUriRequest>,
    ) -> Result<Response<pb::GetTotpUriResponse>, Status> {
        let token = self.caller.token(&request);
        let password = request.into_inner().password.into();
        let totp_uri = self.core.totp_uri(token.as_ref(), password).await?;
        Ok(Response::new(pb::GetTotpUriResponse { totp_uri }))
    }

    async fn verify_totp(
        &self,
        request: Request<pb::VerifyCodeRequest>,
    ) -> Result<Response<pb::VerifyCodeResponse>, Status> {
        let token = self.caller.token(&request);
        let client = self.caller.client(&request);
        let check = code_check(request.into_inner());
        let done = self.core.verify_totp(token.as_ref(), check, client).await?;
        Ok(Response::new(verified(done)))
    }

    async fn send_otp(
        &self,
        request: Request<pb::SendOtpRequest>,
    ) -> Result<Response<pb::SendOtpResponse>, Status> {
        let token = self.caller.token(&request);
        let challenge = challenge(request.into_inner().challenge);
        self.core
            .send_otp(token.as_ref(), challenge.as_deref())
            .await?;
        Ok(Response::new(pb::SendOtpResponse { status: true }))
    }

    async fn verify_otp(
        &self,
        request: Request<pb::VerifyCodeRequest>,
    ) -> Result<Response<pb::VerifyCodeResponse>, Status> {
        let token = self.caller.token(&request);
        let client = self.caller.client(&request);
        let check = code_check(request.into_inner());
        let done = self.core.verify_otp(token.as_ref(), check, client).await?;
        Ok(Response::new(verified(done)))
    }

    async fn verify_backup_code(
        &self,
        request: Request<pb::VerifyBackupCodeRequest>,
    ) -> Result<Response<pb::VerifyCodeResponse>, Status> {
        let token = self.caller.token(&request);
        let client = self.caller.client(&request);
        let message = request.into_inner();
        let check = CodeCheck {
            code: message.code,
            challenge: challenge(message.challenge),
            trust_device: message.trust_device,
            dont_remember: message.dont_remember,
        };
        let done = self
            .core
            .verify_backup_code(token.as_ref(), check, message.disable_session, client)
            .await?;
        Ok(Response::new(verified(done)))
    }

    async fn generate_backup_codes(
        &self,
        request: Request<pb::GenerateBackupCodesRequest>,
    ) -> Result<Response<pb::GenerateBackupCodesResponse>, Status> {
        let token = self.caller.token(&request);
        let password = request.into_inner().password.into();
        let backup_codes = self
            .core
            .generate_backup_codes(token.as_ref(), password)
            .await?;
        Ok(Response::new(pb::GenerateBackupCodesResponse {
            status: true,
            backup_codes,
        }))
    }
}

fn code_check(message: pb::VerifyCodeRequest) -> CodeCheck {
    CodeCheck {
        code: message.code,
        challenge: challenge(message.challenge),
        trust_device: message.trust_device,
        dont_remember: message.dont_remember,
    }
}
