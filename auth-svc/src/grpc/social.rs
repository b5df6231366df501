//! The generated `SocialService` trait, kept thin: read the caller, convert, call [`SocialCore`].

use std::collections::BTreeMap;

use tonic::{Request, Response, Status};
use warden_proto::{auth::v1 as pb, time::timestamp};

use super::{
    Caller,
    convert::{self, session_pb, user_pb},
};
use crate::{
    core::social::{
        Callback, Completed, IdTokenLink, IdTokenSignIn, LinkAccount, LinkStarted, SocialCore,
        StartSignIn, parse_scopes,
    },
    error::AuthError,
    store::AccountRow,
};

pub use pb::social_service_server::SocialServiceServer;

#[derive(Clone)]
pub struct GrpcSocial {
    core: SocialCore,
    caller: Caller,
}

impl GrpcSocial {
    pub fn new(core: SocialCore, caller: Caller) -> Self {
        Self { core, caller }
    }
}

#[tonic::async_trait]
impl pb::social_service_server::SocialService for GrpcSocial {
    async fn list_providers(
        &self,
        _request: Request<pb::ListProvidersRequest>,
    ) -> Result<Response<pb::ListProvidersResponse>, Status> {
        let providers = self
            .core
            .providers()
            .into_iter()
            .map(|(id, name)| pb::SocialProvider { id, name })
            .collect();
        Ok(Response::new(pb::ListProvidersResponse { providers }))
    }

    async fn start_sign_in(
        &self,
        request: Request<pb::StartSignInRequest>,
    ) -> Result<Response<pb::StartSignInResponse>, Status> {
        let input = start_sign_in(request.into_inner())?;
        let (url, state) = self.core.start_sign_in(input).await?;
        Ok(Response::new(pb::StartSignInResponse { url, state }))
    }

    async fn complete_sign_in(
        &self,
        request: Request<pb::CompleteSignInRequest>,
    ) -> Result<Response<pb::CompleteSignInResponse>, Status> {
        let client = self.caller.client(&request);
        let message = request.into_inner();
        let callback = Callback {
            provider_id: message.provider_id,
            state: message.state,
            code: message.code,
            error: message.error,
            error_description: message.error_description,
            iss: message.iss,
            kept_state: message.kept_state,
        };
        let Completed {
            redirect_url,
            new_user,
            opened,
        } = self.core.complete_sign_in(callback, client).await?;
        let Some(opened) = opened else {
            return Ok(Response::new(pb::CompleteSignInResponse {
                redirect_url,
                linked: true,
                ..Default::default()
            }));
        };
        let token = opened.token.expose().to_owned();
        Ok(Response::new(pb::CompleteSignInResponse {
            redirect_url,
            new_user,
            session: Some(session_pb(opened.session, &token)),
            user: Some(user_pb(opened.user)),
            token,
            linked: false,
        }))
    }

    async fn sign_in_with_id_token(
        &self,
        request: Request<pb::SignInWithIdTokenRequest>,
    ) -> Result<Response<pb::SignInWithIdTokenResponse>, Status> {
        let client = self.caller.client(&request);
        let message = request.into_inner();
        let input = IdTokenSignIn {
            provider: convert::text("body.provider", message.provider)?,
            id_token: message.id_token,
            nonce: message.nonce,
            access_token: message.access_token,
            request_sign_up: message.request_sign_up,
        };
        let opened = self.core.sign_in_with_id_token(input, client).await?;
        let token = opened.token.expose().to_owned();
        Ok(Response::new(pb::SignInWithIdTokenResponse {
            session: Some(session_pb(opened.session, &token)),
            user: Some(user_pb(opened.user)),
            token,
        }))
    }

    async fn link_account(
        &self,
        request: Request<pb::LinkAccountRequest>,
    ) -> Result<Response<pb::LinkAccountResponse>, Status> {
        let token = self.caller.token(&request);
        let input = link_account(request.into_inner())?;
        let response = match self.core.link_account(token.as_ref(), input).await? {
            LinkStarted::Redirect { url, state } => pb::LinkAccountResponse {
                url,
                state,
                linked: false,
            },
            LinkStarted::Linked => pb::LinkAccountResponse {
                linked: true,
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn get_access_token(
        &self,
        request: Request<pb::GetAccessTokenRequest>,
    ) -> Result<Response<pb::GetAccessTokenResponse>, Status> {
        let token = self.caller.token(&request);
        let account_id = request.into_inner().account_id;
        let valid = self
            .core
            .get_access_token(token.as_ref(), &account_id)
            .await?;
        Ok(Response::new(pb::GetAccessTokenResponse {
            access_token: valid.access_token,
            access_token_expires_at: valid.access_token_expires_at.map(timestamp),
            scopes: valid.scopes,
            id_token: valid.id_token,
        }))
    }

    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        let token = self.caller.token(&request);
        let account_id = request.into_inner().account_id;
        let fresh = self.core.refresh_token(token.as_ref(), &account_id).await?;
        Ok(Response::new(pb::RefreshTokenResponse {
            access_token: fresh.access_token,
            refresh_token: fresh.refresh_token,
            access_token_expires_at: fresh.access_token_expires_at.map(timestamp),
            refresh_token_expires_at: fresh.refresh_token_expires_at.map(timestamp),
            scope: fresh.scope.unwrap_or_default(),
            id_token: fresh.id_token,
            provider_id: fresh.account.provider_id,
            account_id: fresh.account.id,
        }))
    }

    async fn get_account_info(
        &self,
        request: Request<pb::GetAccountInfoRequest>,
    ) -> Result<Response<pb::GetAccountInfoResponse>, Status> {
        let token = self.caller.token(&request);
        let account_id = request.into_inner().account_id;
        let info = self.core.account_info(token.as_ref(), &account_id).await?;
        Ok(Response::new(pb::GetAccountInfoResponse {
            name: info.user.name,
            email: info.user.email,
            email_verified: info.user.email_verified,
            image: info.user.image,
            data_json: info.user.raw.to_string(),
            id: info.account.id,
            provider_id: info.account.provider_id,
            provider_account_id: info.account.account_id,
        }))
    }

    async fn list_accounts(
        &self,
        request: Request<pb::ListAccountsRequest>,
    ) -> Result<Response<pb::ListAccountsResponse>, Status> {
        let token = self.caller.token(&request);
        let accounts = self.core.list_accounts(token.as_ref()).await?;
        Ok(Response::new(pb::ListAccountsResponse {
            accounts: accounts.into_iter().map(account_pb).collect(),
        }))
    }

    async fn unlink_account(
        &self,
        request: Request<pb::UnlinkAccountRequest>,
    ) -> Result<Response<pb::UnlinkAccountResponse>, Status> {
        let token = self.caller.token(&request);
        let account_id = request.into_inner().account_id;
        self.core
            .unlink_account(token.as_ref(), &account_id)
            .await?;
        Ok(Response::new(pb::UnlinkAccountResponse { status: true }))
    }
}

fn start_sign_in(message: pb::StartSignInRequest) -> Result<StartSignIn, AuthError> {
    let additional_data = additional_data(message.additional_data_json.as_deref())?;
    Ok(StartSignIn {
        provider: convert::text("body.provider", message.provider)?,
        callback_url: convert::optional_text("body.callbackURL", message.callback_url)?,
        new_user_callback_url: convert::optional_text(
            "body.newUserCallbackURL",
            message.new_user_callback_url,
        )?,
        error_callback_url: convert::optional_text(
            "body.errorCallbackURL",
            message.error_callback_url,
        )?,
        scopes: message.scopes,
        login_hint: message.login_hint,
        request_sign_up: message.request_sign_up,
        additional_params: message
            .additional_params
            .into_iter()
            .map(|param| (param.name, param.value))
            .collect(),
        additional_data,
    })
}

fn link_account(message: pb::LinkAccountRequest) -> Result<LinkAccount, AuthError> {
    Ok(LinkAccount {
        provider: convert::text("body.provider", message.provider)?,
        callback_url: convert::optional_text("body.callbackURL", message.callback_url)?,
        error_callback_url: convert::optional_text(
            "body.errorCallbackURL",
            message.error_callback_url,
        )?,
        scopes: message.scopes,
        login_hint: message.login_hint,
        additional_params: message
            .additional_params
            .into_iter()
            .map(|param| (param.name, param.value))
            .collect(),
        additional_data: additional_data(message.additional_data_json.as_deref())?,
        id_token: message.id_token.map(|id_token| IdTokenLink {
            token: id_token.token,
            nonce: id_token.nonce,
            access_token: id_token.access_token,
            refresh_token: id_token.refresh_token,
        }),
    })
}

/// Better Auth's `additionalData`, a JSON object carried as text.
fn additional_data(json: Option<&str>) -> Result<BTreeMap<String, serde_json::Value>, AuthError> {
    match json {
        None | Some("") => Ok(BTreeMap::new()),
        Some(json) => serde_json::from_str(json).map_err(|_| {
            AuthError::Validation(
                "[body.additionalData] Invalid input: expected record, received string".into(),
            )
        }),
    }
}

/// An account as Better Auth lists it: no tokens, the scope as a list.
fn account_pb(row: AccountRow) -> pb::LinkedAccount {
    pb::LinkedAccount {
        id: row.id,
        account_id: row.account_id,
        provider_id: row.provider_id,
        user_id: row.user_id,
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
        scopes: parse_scopes(row.scope.as_deref()),
    }
}
