//! `ApiKeyService`: Better Auth's api-key plugin over gRPC. The caller is read from the bearer token; the key itself
//! crosses the wire once, in `CreatedApiKey`.

use tonic::{Request, Response, Status};
use warden_proto::{auth::v1 as pb, time::timestamp};

use super::{
    Caller,
    convert::{optional_text, text, user_pb},
};
use crate::{
    core::api_key::{ApiKeyUpdate, ApiKeys, ListQuery, NewApiKey, Permissions, ServerOnly},
    error::{ApiKeyError, AuthError},
    store::ApiKeyRow,
};

pub use pb::api_key_service_server::ApiKeyServiceServer;

#[derive(Clone)]
pub struct GrpcApiKeys {
    core: ApiKeys,
    caller: Caller,
}

impl GrpcApiKeys {
    pub fn new(core: ApiKeys, caller: Caller) -> Self {
        Self { core, caller }
    }
}

pub fn permissions_pb(permissions: Permissions) -> pb::Permissions {
    pb::Permissions {
        grants: permissions
            .0
            .into_iter()
            .map(|(resource, actions)| pb::Grant { resource, actions })
            .collect(),
    }
}

fn permissions(message: pb::Permissions) -> Permissions {
    Permissions(
        message
            .grants
            .into_iter()
            .map(|grant| (grant.resource, grant.actions))
            .collect(),
    )
}

pub fn api_key_pb(row: ApiKeyRow) -> pb::ApiKey {
    pb::ApiKey {
        permissions: row
            .permissions
            .as_deref()
            .and_then(Permissions::from_json)
            .map(permissions_pb),
        id: row.id,
        config_id: row.config_id,
        name: row.name,
        start: row.start,
        reference_id: row.reference_id,
        prefix: row.prefix,
        refill_interval: row.refill_interval,
        refill_amount: row.refill_amount,
        last_refill_at: row.last_refill_at.map(timestamp),
        enabled: row.enabled.unwrap_or(true),
        rate_limit_enabled: row.rate_limit_enabled.unwrap_or(true),
        rate_limit_time_window: row.rate_limit_time_window,
        rate_limit_max: row.rate_limit_max,
        request_count: row.request_count.unwrap_or(0),
        remaining: row.remaining,
        last_request: row.last_request.map(timestamp),
        expires_at: row.expires_at.map(timestamp),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
        // The package stores no metadata as the JSON text `null`.
        metadata_json: row.metadata.filter(|text| text != "null"),
    }
}

/// Metadata sent as JSON text.
fn metadata(raw: Option<String>) -> Result<Option<serde_json::Value>, AuthError> {
    raw.map(|raw| {
        serde_json::from_str(&raw).map_err(|_| AuthError::from(ApiKeyError::InvalidMetadataType))
    })
    .transpose()
}

#[tonic::async_trait]
impl pb::api_key_service_server::ApiKeyService for GrpcApiKeys {
    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::CreatedApiKey>, Status> {
        let token = self.caller.token(&request);
        let message = request.into_inner();
        let new = NewApiKey {
            name: optional_text("body.name", message.name)?,
            expires_in: message.expires_in,
            prefix: optional_text("body.prefix", message.prefix)?,
            metadata: metadata(message.metadata_json)?,
            user_id: optional_text("body.userId", message.user_id)?,
            server_only: ServerOnly {
                remaining: message.remaining,
                refill_amount: message.refill_amount,
                refill_interval: message.refill_interval,
                rate_limit_time_window: message.rate_limit_time_window,
                rate_limit_max: message.rate_limit_max,
                rate_limit_enabled: message.rate_limit_enabled,
                permissions: message.permissions.map(|p| Some(permissions(p))),
            },
            from_http: message.from_http,
        };
        let created = self.core.create(token.as_ref(), new).await?;
        Ok(Response::new(pb::CreatedApiKey {
            api_key: Some(api_key_pb(created.row)),
            key: created.key,
        }))
    }

    async fn get_api_key(
        &self,
        request: Request<pb::GetApiKeyRequest>,
    ) -> Result<Response<pb::ApiKey>, Status> {
        let token = self.caller.token(&request);
        let id = text("query.id", request.into_inner().id)?;
        let row = self.core.get(token.as_ref(), &id).await?;
        Ok(Response::new(api_key_pb(row)))
    }

    async fn update_api_key(
        &self,
        request: Request<pb::UpdateApiKeyRequest>,
    ) -> Result<Response<pb::ApiKey>, Status> {
        let token = self.caller.token(&request);
        let message = request.into_inner();
        let key_id = text("body.keyId", message.key_id)?;
        let expires_in = if message.clear_expiry {
            Some(None)
        } else {
            message.expires_in.map(Some)
        };
        let permissions = if message.clear_permissions {
            Some(None)
        } else {
            message.permissions.map(|p| Some(permissions(p)))
        };
        let update = ApiKeyUpdate {
            name: optional_text("body.name", message.name)?,
            enabled: message.enabled,
            expires_in,
            metadata: metadata(message.metadata_json)?,
            user_id: optional_text("body.userId", message.user_id)?,
            server_only: ServerOnly {
                remaining: message.remaining,
                refill_amount: message.refill_amount,
                refill_interval: message.refill_interval,
                rate_limit_time_window: message.rate_limit_time_window,
                rate_limit_max: message.rate_limit_max,
                rate_limit_enabled: message.rate_limit_enabled,
                permissions,
            },
            from_http: message.from_http,
        };
        let row = self.core.update(token.as_ref(), &key_id, update).await?;
        Ok(Response::new(api_key_pb(row)))
    }

    async fn delete_api_key(
        &self,
        request: Request<pb::DeleteApiKeyRequest>,
    ) -> Result<Response<pb::DeleteApiKeyResponse>, Status> {
        let token = self.caller.token(&request);
        let message = request.into_inner();
        let key_id = text("body.keyId", message.key_id)?;
        let user_id = optional_text("body.userId", message.user_id)?;
        self.core
            .delete(token.as_ref(), &key_id, user_id.as_deref())
            .await?;
        Ok(Response::new(pb::DeleteApiKeyResponse { success: true }))
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        let token = self.caller.token(&request);
        let message = request.into_inner();
        let descending = match message.sort_direction.as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => {
                return Err(AuthError::Validation(
                    r#"[query.sortDirection] Invalid option: expected one of "asc"|"desc""#.into(),
                )
                .into());
            }
        };
        let query = ListQuery {
            limit: message.limit.map(|n| n as usize),
            offset: message.offset.map(|n| n as usize),
            sort_by: optional_text("query.sortBy", message.sort_by)?,
            descending,
            user_id: optional_text("query.userId", message.user_id)?,
        };
        let (rows, total) = self.core.list(token.as_ref(), query).await?;
        Ok(Response::new(pb::ListApiKeysResponse {
            api_keys: rows.into_iter().map(api_key_pb).collect(),
            total: u32::try_from(total).unwrap_or(u32::MAX),
            limit: message.limit,
            offset: message.offset,
        }))
    }

    async fn verify_api_key(
        &self,
        request: Request<pb::VerifyApiKeyRequest>,
    ) -> Result<Response<pb::VerifyApiKeyResponse>, Status> {
        let token = self.caller.token(&request);
        if !self.core.caller_is_admin(token.as_ref()).await? {
            return Err(AuthError::from(ApiKeyError::AdminOnly).into());
        }
        let message = request.into_inner();
        let required = message.permissions.map(permissions);
        let answer = match self.core.verify(&message.key, required.as_ref()).await {
            Ok(row) => pb::VerifyApiKeyResponse {
                valid: true,
                api_key: Some(api_key_pb(row)),
                ..Default::default()
            },
            Err(AuthError::ApiKey(refusal)) => pb::VerifyApiKeyResponse {
                valid: false,
                error_code: Some(refusal.reason().as_str().to_owned()),
                error_message: Some(refusal.to_string()),
                try_again_in: match refusal {
                    ApiKeyError::RateLimited { try_again_in_ms } => Some(try_again_in_ms),
                    _ => None,
                },
                api_key: None,
            },
            Err(other) => return Err(other.into()),
        };
        Ok(Response::new(answer))
    }

    async fn authenticate_api_key(
        &self,
        request: Request<pb::AuthenticateApiKeyRequest>,
    ) -> Result<Response<pb::AuthenticatedApiKey>, Status> {
        let key = self
            .caller
            .api_key(&request)
            .ok_or(ApiKeyError::InvalidApiKey)
            .map_err(AuthError::from)?;
        let required = request.into_inner().permissions.map(permissions);
        let (row, owner) = self.core.authenticate(&key, required.as_ref()).await?;
        Ok(Response::new(pb::AuthenticatedApiKey {
            user: Some(user_pb(owner)),
            key_id: row.id,
            permissions: row
                .permissions
                .as_deref()
                .and_then(Permissions::from_json)
                .map(permissions_pb),
        }))
    }

    async fn delete_expired_api_keys(
        &self,
        request: Request<pb::DeleteExpiredApiKeysRequest>,
    ) -> Result<Response<pb::DeleteExpiredApiKeysResponse>, Status> {
        let token = self.caller.token(&request);
        if !self.core.caller_is_admin(token.as_ref()).await? {
            return Err(AuthError::from(ApiKeyError::AdminOnly).into());
        }
        let deleted = self.core.delete_expired().await?;
        Ok(Response::new(pb::DeleteExpiredApiKeysResponse {
            deleted: u32::try_from(deleted).unwrap_or(u32::MAX),
        }))
    }
}
