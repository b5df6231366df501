//! `PasskeyService`: Better Auth's passkey plugin over gRPC. The caller is read from the bearer token; a ceremony's
//! token travels in the messages, as a browser's signed cookie carries it.

use tonic::{Request, Response, Status};
use warden_proto::{auth::v1 as pb, time::timestamp};

use super::{
    Caller,
    convert::{optional_text, session_pb, text, user_pb},
};
use crate::{
    core::passkey::{Attachment, Passkeys, Registration},
    error::AuthError,
    store::PasskeyRow,
};

pub use pb::passkey_service_server::PasskeyServiceServer;

#[derive(Clone)]
pub struct GrpcPasskeys {
    core: Passkeys,
    caller: Caller,
}

impl GrpcPasskeys {
    pub fn new(core: Passkeys, caller: Caller) -> Self {
        Self { core, caller }
    }
}

pub fn passkey_pb(row: PasskeyRow) -> pb::Passkey {
    pb::Passkey {
        id: row.id,
        name: row.name,
        public_key: row.public_key,
        user_id: row.user_id,
        credential_id: row.credential_id,
        counter: row.counter,
        device_type: row.device_type,
        backed_up: row.backed_up,
        transports: row.transports,
        created_at: row.created_at.map(timestamp),
        aaguid: row.aaguid,
    }
}

/// The package's `authenticatorAttachment` query value.
fn attachment(raw: Option<String>) -> Result<Option<Attachment>, AuthError> {
    match raw.as_deref() {
        None | Some("") => Ok(None),
        Some("platform") => Ok(Some(Attachment::Platform)),
        Some("cross-platform") => Ok(Some(Attachment::CrossPlatform)),
        Some(_) => Err(AuthError::Validation(
            r#"[query.authenticatorAttachment] Invalid option: expected one of "platform"|"cross-platform""#
                .into(),
        )),
    }
}

/// The authenticator's answer, as JSON.
fn response(raw: &str) -> Result<serde_json::Value, AuthError> {
    serde_json::from_str(raw)
        .map_err(|_| AuthError::Validation("[body.response] Invalid input: expected JSON".into()))
}

fn ceremony(raw: &str) -> Option<&str> {
    (!raw.is_empty()).then_some(raw)
}

#[tonic::async_trait]
impl pb::passkey_service_server::PasskeyService for GrpcPasskeys {
    async fn generate_register_options(
        &self,
        request: Request<pb::GenerateRegisterOptionsRequest>,
    ) -> Result<Response<pb::PasskeyOptions>, Status> {
        let token = self.caller.token(&request);
        let message = request.into_inner();
        let name = optional_text("query.name", message.name)?;
        let attachment = attachment(message.authenticator_attachment)?;
        let ceremony = self
            .core
            .registration_options(token.as_ref(), name.as_deref(), attachment)
            .await?;
        Ok(Response::new(pb::PasskeyOptions {
            options_json: ceremony.options_json,
            challenge: ceremony.token,
        }))
    }

    async fn verify_registration(
        &self,
        request: Request<pb::VerifyRegistrationRequest>,
    ) -> Result<Response<pb::VerifyRegistrationResponse>, Status> {
        let token = self.caller.token(&request);
        let client = self.caller.client(&request);
        let message = request.into_inner();
        let answer = response(&message.response_json)?;
        let name = optional_text("body.name", message.name)?;
        let registration = Registration {
            ceremony: ceremony(&message.challenge),
            response: &answer,
            name,
            create_session: message.create_session,
            without_origin: message.without_origin,
        };
        let registered = self
            .core
            .register(token.as_ref(), registration, client)
            .await?;
        let (session, user) = match registered.opened {
            Some(opened) => (
                Some(session_pb(opened.session, opened.token.expose())),
                Some(user_pb(opened.user)),
            ),
            None => (None, None),
        };
        Ok(Response::new(pb::VerifyRegistrationResponse {
            passkey: Some(passkey_pb(registered.passkey)),
            session,
            user,
        }))
    }

    async fn generate_authenticate_options(
        &self,
        request: Request<pb::GenerateAuthenticateOptionsRequest>,
    ) -> Result<Response<pb::PasskeyOptions>, Status> {
        let token = self.caller.token(&request);
        let ceremony = self.core.authentication_options(token.as_ref()).await?;
        Ok(Response::new(pb::PasskeyOptions {
            options_json: ceremony.options_json,
            challenge: ceremony.token,
        }))
    }

    async fn verify_authentication(
        &self,
        request: Request<pb::VerifyAuthenticationRequest>,
    ) -> Result<Response<pb::VerifyAuthenticationResponse>, Status> {
        let client = self.caller.client(&request);
        let message = request.into_inner();
        let answer = response(&message.response_json)?;
        let opened = self
            .core
            .authenticate(ceremony(&message.challenge), &answer, client)
            .await?;
        Ok(Response::new(pb::VerifyAuthenticationResponse {
            session: Some(session_pb(opened.session, opened.token.expose())),
            user: Some(user_pb(opened.user)),
        }))
    }

    async fn list_user_passkeys(
        &self,
        request: Request<pb::ListUserPasskeysRequest>,
    ) -> Result<Response<pb::ListUserPasskeysResponse>, Status> {
        let token = self.caller.token(&request);
        let rows = self.core.list(token.as_ref()).await?;
        Ok(Response::new(pb::ListUserPasskeysResponse {
            passkeys: rows.into_iter().map(passkey_pb).collect(),
        }))
    }

    async fn delete_passkey(
        &self,
        request: Request<pb::DeletePasskeyRequest>,
    ) -> Result<Response<pb::DeletePasskeyResponse>, Status> {
        let token = self.caller.token(&request);
        let id = text("body.id", request.into_inner().id)?;
        self.core.delete(token.as_ref(), &id).await?;
        Ok(Response::new(pb::DeletePasskeyResponse { status: true }))
    }

    async fn update_passkey(
        &self,
        request: Request<pb::UpdatePasskeyRequest>,
    ) -> Result<Response<pb::UpdatePasskeyResponse>, Status> {
        let token = self.caller.token(&request);
        let message = request.into_inner();
        let id = text("body.id", message.id)?;
        let name = text("body.name", message.name)?;
        if name.trim().is_empty() {
            return Err(AuthError::Validation(
                "[body.name] Too small: expected string to have >=1 characters".into(),
            )
            .into());
        }
        let row = self.core.rename(token.as_ref(), &id, &name).await?;
        Ok(Response::new(pb::UpdatePasskeyResponse {
            passkey: Some(passkey_pb(row)),
        }))
    }
}
