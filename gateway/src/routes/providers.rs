//! Warden's own `GET /api/warden/providers`: the social providers this deployment offers, for sign-in buttons.
//!
//! Better Auth has no such route (its client is configured with the providers at build time), so it lives outside
//! `/api/auth`. The gateway knows the providers only by asking auth-svc's `SocialService.ListProviders`: ids and names,
//! never a client id or secret.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use warden_proto::auth::v1 as pb;

use super::call;
use crate::error::{ApiError, Route};
use crate::extract::ClientInfo;
use crate::state::AppState;

#[derive(Serialize)]
pub struct Providers {
    providers: Vec<Provider>,
}

#[derive(Serialize)]
struct Provider {
    id: String,
    name: String,
}

pub async fn list_providers(
    State(state): State<AppState>,
    client: ClientInfo,
) -> Result<Json<Providers>, ApiError> {
    let listed = call(
        Route::ListProviders,
        state
            .social
            .clone()
            .list_providers(client.request(pb::ListProvidersRequest {}, None)),
    )
    .await?;
    let providers = listed
        .providers
        .into_iter()
        .map(|provider| Provider {
            id: provider.id,
            name: provider.name,
        })
        .collect();
    Ok(Json(Providers { providers }))
}
