//! Better Auth's routes for the provider tokens of the caller's accounts: `get-access-token` (refreshing one about
//! to expire), `refresh-token` and `account-info`. One `SocialService` call each.
//!
//! All three take Better Auth's account selection, `{accountId}` (the account row's id) or `{useAccountCookie:
//! true}`, and answer a caller without a session 401 with an empty body, as Better Auth does.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};
use tonic_types::StatusExt;
use warden_proto::{Reason, auth::v1 as pb};

use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema};
use crate::json::iso_date;
use crate::state::AppState;

/// Which account: `Some(row id)`, or None for `useAccountCookie`, which selects nothing here (Warden keeps no
/// account cookie; Better Auth without `storeAccountCookie` answers the same ACCOUNT_NOT_FOUND).
pub struct AccountSelection {
    account_id: Option<String>,
}

impl Schema for AccountSelection {
    fn read(fields: &mut Fields<'_>) -> Self {
        match select(fields.object()) {
            Ok(account_id) => Self { account_id },
            Err(issue) => {
                fields.push_issue(format!("[body] {issue}"));
                Self { account_id: None }
            }
        }
    }
}

/// zod's union of two strict objects, `{accountId: string, userId?: string}` and `{useAccountCookie: true, userId?:
/// string}`: when neither fits, the issues of the one that failed only on unknown keys, else "Invalid input".
fn select(object: &Map<String, Value>) -> Result<Option<String>, String> {
    let user_id_fits = matches!(object.get("userId"), None | Some(Value::String(_)));
    let unknown = |known: &str| {
        let keys: Vec<String> = object
            .keys()
            .filter(|key| *key != known && *key != "userId")
            .map(|key| format!("{key:?}"))
            .collect();
        match keys.as_slice() {
            [] => None,
            [key] => Some(format!("Unrecognized key: {key}")),
            keys => Some(format!("Unrecognized keys: {}", keys.join(", "))),
        }
    };
    if let (Some(Value::String(account_id)), true) = (object.get("accountId"), user_id_fits) {
        return match unknown("accountId") {
            None => Ok(Some(account_id.clone())),
            Some(issue) => Err(issue),
        };
    }
    if let (Some(Value::Bool(true)), true) = (object.get("useAccountCookie"), user_id_fits) {
        return match unknown("useAccountCookie") {
            None => Ok(None),
            Some(issue) => Err(issue),
        };
    }
    Err("Invalid input".to_owned())
}

/// The account's row id, or Better Auth's ACCOUNT_NOT_FOUND for a selection that names none.
fn account_id(selection: Option<String>) -> Result<String, ApiError> {
    selection.ok_or_else(|| ApiError::bad_request(Reason::AccountNotFound, "Account not found"))
}

/// Better Auth's bare 401 on these routes, for a caller without a live session: an empty body, yet labelled JSON.
fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(http::header::CONTENT_TYPE, "application/json")],
    )
        .into_response()
}

/// The RPC's answer, or the error response: a refused session is the bare 401.
async fn answer<T>(
    route: Route,
    rpc: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<Result<T, Response>, ApiError> {
    match rpc.await {
        Ok(response) => Ok(Ok(response.into_inner())),
        Err(status)
            if status
                .get_details_error_info()
                .is_some_and(|info| info.reason == Reason::Unauthorized.as_str()) =>
        {
            Ok(Err(unauthorized()))
        }
        Err(status) => Err(ApiError::upstream(route)(status)),
    }
}

/// get-access-token's answer; absent members are left out, as Better Auth leaves out `undefined`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccessTokenJson {
    access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token_expires_at: Option<String>,
    scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

pub async fn get_access_token(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<AccountSelection>,
) -> Result<Response, ApiError> {
    if current.token().is_none() {
        return Ok(unauthorized());
    }
    let request = pb::GetAccessTokenRequest {
        account_id: account_id(body.account_id)?,
    };
    let mut social = state.social.clone();
    let rpc = social.get_access_token(client.request(request, Some(&current)));
    let valid = match answer(Route::GetAccessToken, rpc).await? {
        Ok(valid) => valid,
        Err(response) => return Ok(response),
    };
    let body = AccessTokenJson {
        access_token: valid.access_token,
        access_token_expires_at: iso_date(valid.access_token_expires_at.as_ref()),
        scopes: valid.scopes,
        id_token: valid.id_token,
    };
    Ok(Json(body).into_response())
}

/// refresh-token's answer, in Better Auth's key order: the refresh token's expiry and the scope are `null` when
/// the row has none, the access token's expiry is left out when the provider gave none.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefreshedJson {
    access_token: String,
    refresh_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token_expires_at: Option<String>,
    refresh_token_expires_at: Option<String>,
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    provider_id: String,
    account_id: String,
}

pub async fn refresh_token(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<AccountSelection>,
) -> Result<Response, ApiError> {
    if current.token().is_none() {
        return Ok(unauthorized());
    }
    let request = pb::RefreshTokenRequest {
        account_id: account_id(body.account_id)?,
    };
    let mut social = state.social.clone();
    let rpc = social.refresh_token(client.request(request, Some(&current)));
    let fresh = match answer(Route::RefreshToken, rpc).await? {
        Ok(fresh) => fresh,
        Err(response) => return Ok(response),
    };
    let body = RefreshedJson {
        access_token: fresh.access_token,
        refresh_token: fresh.refresh_token,
        access_token_expires_at: iso_date(fresh.access_token_expires_at.as_ref()),
        refresh_token_expires_at: iso_date(fresh.refresh_token_expires_at.as_ref()),
        scope: Some(fresh.scope).filter(|scope| !scope.is_empty()),
        id_token: fresh.id_token,
        provider_id: fresh.provider_id,
        account_id: fresh.account_id,
    };
    Ok(Json(body).into_response())
}

pub async fn account_info(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let object: Map<String, Value> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
            .collect();
    let selection =
        select(&object).map_err(|issue| ApiError::validation(format!("[query] {issue}")))?;
    if current.token().is_none() {
        return Ok(unauthorized());
    }
    let request = pb::GetAccountInfoRequest {
        account_id: account_id(selection)?,
    };
    let mut social = state.social.clone();
    let rpc = social.get_account_info(client.request(request, Some(&current)));
    let info = match answer(Route::AccountInfo, rpc).await? {
        Ok(info) => info,
        Err(response) => return Ok(response),
    };
    Ok(Json(account_info_json(info)).into_response())
}

/// account-info's answer: `{user, data, account}`, in Better Auth's key order (a derived struct keeps field order;
/// a `serde_json::Map` would sort the keys).
#[derive(Serialize)]
struct AccountInfoJson {
    user: ProviderUser,
    data: Value,
    account: AccountJson,
}

/// The user as the provider's module maps it: Google's and GitHub's list `name` first, a generic provider's mapping
/// `email` first. Absent members are left out, as Better Auth leaves out `undefined`.
#[derive(Serialize)]
#[serde(untagged)]
enum ProviderUser {
    Builtin {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        image: Option<String>,
        #[serde(rename = "emailVerified")]
        email_verified: bool,
    },
    Generic {
        #[serde(skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        #[serde(rename = "emailVerified")]
        email_verified: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        image: Option<String>,
        name: String,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountJson {
    id: String,
    provider_id: String,
    account_id: String,
}

fn account_info_json(info: pb::GetAccountInfoResponse) -> AccountInfoJson {
    let data: Value =
        serde_json::from_str(&info.data_json).unwrap_or_else(|_| Value::Object(Map::new()));
    let user = if matches!(info.provider_id.as_str(), "google" | "github") {
        ProviderUser::Builtin {
            name: info.name,
            email: info.email,
            image: info.image,
            email_verified: info.email_verified,
        }
    } else {
        ProviderUser::Generic {
            email: info.email,
            email_verified: info.email_verified,
            image: info.image,
            name: info.name,
        }
    };
    AccountInfoJson {
        user,
        data,
        account: AccountJson {
            id: info.id,
            provider_id: info.provider_id,
            account_id: info.provider_account_id,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(provider_id: &str) -> pb::GetAccountInfoResponse {
        pb::GetAccountInfoResponse {
            name: "Ada".into(),
            email: Some("ada@example.com".into()),
            email_verified: true,
            image: None,
            data_json: r#"{"sub":"ada"}"#.into(),
            id: "row".into(),
            provider_id: provider_id.into(),
            provider_account_id: "ada".into(),
        }
    }

    #[tokio::test]
    async fn the_bare_401_is_empty_and_labelled_json_as_better_auths() {
        let response = unauthorized();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "application/json"
        );
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert!(body.is_empty());
    }

    #[test]
    fn account_info_keeps_better_auths_key_order() {
        let text =
            |provider: &str| serde_json::to_string(&account_info_json(info(provider))).unwrap();
        assert_eq!(
            text("google"),
            r#"{"user":{"name":"Ada","email":"ada@example.com","emailVerified":true},"data":{"sub":"ada"},"account":{"id":"row","providerId":"google","accountId":"ada"}}"#
        );
        assert_eq!(
            text("oidc"),
            r#"{"user":{"email":"ada@example.com","emailVerified":true,"name":"Ada"},"data":{"sub":"ada"},"account":{"id":"row","providerId":"oidc","accountId":"ada"}}"#
        );
    }

    fn object(json: Value) -> Map<String, Value> {
        json.as_object().unwrap().clone()
    }

    #[test]
    fn the_selection_is_read_as_zods_union_reads_it() {
        assert_eq!(
            select(&object(serde_json::json!({"accountId": "a1"}))),
            Ok(Some("a1".to_owned()))
        );
        assert_eq!(
            select(&object(
                serde_json::json!({"accountId": "a1", "userId": "u"})
            )),
            Ok(Some("a1".to_owned()))
        );
        assert_eq!(
            select(&object(serde_json::json!({"useAccountCookie": true}))),
            Ok(None)
        );
        for refused in [
            serde_json::json!({}),
            serde_json::json!({"providerId": "oidc"}),
            serde_json::json!({"accountId": 7}),
            serde_json::json!({"accountId": "a1", "userId": 7}),
            serde_json::json!({"useAccountCookie": false}),
        ] {
            assert_eq!(select(&object(refused)), Err("Invalid input".to_owned()));
        }
        assert_eq!(
            select(&object(serde_json::json!({"accountId": "a1", "extra": 1}))),
            Err("Unrecognized key: \"extra\"".to_owned())
        );
    }
}
