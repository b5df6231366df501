//! Better Auth's jwt plugin: a JWT for the caller's session, and the JWKS that verifies it.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::json;
use warden_proto::auth::v1 as pb;

use super::call;
use crate::error::{ApiError, Route};
use crate::extract::{ClientInfo, CurrentSession};
use crate::state::AppState;

/// Better Auth's jwt plugin: a JWT for the caller's session.
pub async fn token(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
) -> Result<Json<serde_json::Value>, ApiError> {
    if current.token().is_none() {
        return Err(ApiError::unauthorized());
    }
    let response = call(
        Route::IssueToken,
        state
            .auth
            .clone()
            .issue_token(client.request(pb::IssueTokenRequest {}, Some(&current))),
    )
    .await?;
    Ok(Json(json!({ "token": response.token })))
}

/// One public key in the order Better Auth's jwt plugin writes its fields.
#[derive(Serialize)]
pub struct Jwk {
    alg: String,
    crv: String,
    x: String,
    kty: String,
    kid: String,
}

#[derive(Serialize)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

/// The public keys that verify Warden's JWTs; needs no session.
pub async fn jwks(
    State(state): State<AppState>,
    client: ClientInfo,
) -> Result<Json<Jwks>, ApiError> {
    let response = call(
        Route::GetJwks,
        state
            .auth
            .clone()
            .get_jwks(client.request(pb::GetJwksRequest {}, None)),
    )
    .await?;
    let keys = response
        .keys
        .into_iter()
        .map(|key| Jwk {
            alg: key.alg,
            crv: key.crv,
            x: key.x,
            kty: key.kty,
            kid: key.kid,
        })
        .collect();
    Ok(Json(Jwks { keys }))
}
