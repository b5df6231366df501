//! Better Auth's api-key plugin under `/api/auth/api-key/`, each route one `ApiKeyService` call, answered as
//! `@better-auth/api-key` answers: its key order (`id` last, the key itself only on create), its zod messages, and
//! its refusal of the server-only properties over HTTP (the requests say `from_http`).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;
use warden_proto::auth::v1 as pb;

use super::stale_session::refuse_upstream as refuse;
use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema};
use crate::json::iso_date;
use crate::query::query_param;
use crate::state::AppState;

/// A key's permissions, an object in the order they were given.
struct PermissionsJson(pb::Permissions);

impl Serialize for PermissionsJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.grants.len()))?;
        for grant in &self.0.grants {
            map.serialize_entry(&grant.resource, &grant.actions)?;
        }
        map.end()
    }
}

/// An `apikey` row as the package answers it: the row's fields in its schema's order, `id` last.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiKey {
    config_id: String,
    name: Option<String>,
    start: Option<String>,
    reference_id: String,
    prefix: Option<String>,
    /// Only in create's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    refill_interval: Option<i32>,
    refill_amount: Option<i32>,
    last_refill_at: Option<String>,
    enabled: bool,
    rate_limit_enabled: bool,
    rate_limit_time_window: Option<i32>,
    rate_limit_max: Option<i32>,
    request_count: i32,
    remaining: Option<i32>,
    last_request: Option<String>,
    expires_at: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    permissions: Option<PermissionsJson>,
    metadata: Value,
    id: String,
}

impl ApiKey {
    fn new(row: pb::ApiKey, key: Option<String>) -> Self {
        let metadata = row
            .metadata_json
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null);
        Self {
            config_id: row.config_id,
            name: row.name,
            start: row.start,
            reference_id: row.reference_id,
            prefix: row.prefix,
            key,
            refill_interval: row.refill_interval,
            refill_amount: row.refill_amount,
            last_refill_at: iso_date(row.last_refill_at.as_ref()),
            enabled: row.enabled,
            rate_limit_enabled: row.rate_limit_enabled,
            rate_limit_time_window: row.rate_limit_time_window,
            rate_limit_max: row.rate_limit_max,
            request_count: row.request_count,
            remaining: row.remaining,
            last_request: iso_date(row.last_request.as_ref()),
            expires_at: iso_date(row.expires_at.as_ref()),
            created_at: iso_date(row.created_at.as_ref()),
            updated_at: iso_date(row.updated_at.as_ref()),
            permissions: row.permissions.map(PermissionsJson),
            metadata,
            id: row.id,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyList {
    api_keys: Vec<ApiKey>,
    total: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u32>,
}

/// The list's answer; `limit` and `offset` only when the request gave them, as the package echoes them.
impl From<pb::ListApiKeysResponse> for KeyList {
    fn from(list: pb::ListApiKeysResponse) -> Self {
        Self {
            api_keys: list
                .api_keys
                .into_iter()
                .map(|row| ApiKey::new(row, None))
                .collect(),
            total: list.total,
            limit: list.limit,
            offset: list.offset,
        }
    }
}

/// zod's `number().min(min)`: a number, else an issue.
fn number_at_least(fields: &mut Fields<'_>, key: &str, min: Option<f64>) -> Option<f64> {
    let value = fields.optional_number(key)?;
    if let Some(min) = min.filter(|min| value < *min) {
        fields.push_issue(format!(
            "[body.{key}] Too small: expected number to be >={min}"
        ));
        return None;
    }
    Some(value)
}

/// A number field that may also be `null` (zod's `.nullable()`).
fn nullable_number(fields: &mut Fields<'_>, key: &str, min: Option<f64>) -> Option<Option<f64>> {
    match fields.object().get(key) {
        Some(Value::Null) => Some(None),
        None => None,
        Some(_) => number_at_least(fields, key, min).map(Some),
    }
}

/// The package's `permissions`: `z.record(z.string(), z.array(z.string()))`.
fn permissions(fields: &mut Fields<'_>, key: &str) -> Option<pb::Permissions> {
    let value = fields.object().get(key)?;
    let Value::Object(map) = value else {
        fields.mismatch(key, "record");
        return None;
    };
    let mut grants = Vec::with_capacity(map.len());
    let mut issues = Vec::new();
    for (resource, actions) in map {
        match actions {
            Value::Array(items) if items.iter().all(Value::is_string) => grants.push(pb::Grant {
                resource: resource.clone(),
                actions: items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned))
                    .collect(),
            }),
            other => issues.push(format!(
                "[body.{key}.{resource}] Invalid input: expected array, received {}",
                crate::json::received(Some(other))
            )),
        }
    }
    for issue in issues {
        fields.push_issue(issue);
    }
    Some(pb::Permissions { grants })
}

fn int(value: f64) -> i32 {
    value.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

fn seconds(value: f64) -> i64 {
    value as i64
}

/// The metadata as JSON text, when it is there at all.
fn metadata(fields: &Fields<'_>) -> Option<String> {
    fields.object().get("metadata").map(Value::to_string)
}

/// The create body (the package's `createApiKeyBodySchema`).
pub struct CreateBody(pb::CreateApiKeyRequest);

impl Schema for CreateBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        let _config_id = fields.optional_string("configId");
        let name = fields.optional_string("name");
        let expires_in = nullable_number(fields, "expiresIn", Some(1.0)).flatten();
        let prefix = fields.optional_string("prefix");
        if prefix.as_deref().is_some_and(|prefix| {
            prefix.is_empty()
                || !prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }) {
            fields.push_issue(
                "[body.prefix] Invalid prefix format, must be alphanumeric and contain only underscores and \
                 hyphens."
                    .to_owned(),
            );
        }
        let remaining = nullable_number(fields, "remaining", Some(0.0)).flatten();
        let metadata = metadata(fields);
        let refill_amount = number_at_least(fields, "refillAmount", Some(1.0));
        let refill_interval = number_at_least(fields, "refillInterval", None);
        let rate_limit_time_window = number_at_least(fields, "rateLimitTimeWindow", None);
        let rate_limit_max = number_at_least(fields, "rateLimitMax", None);
        let rate_limit_enabled = fields.optional_bool("rateLimitEnabled");
        let permissions = permissions(fields, "permissions");
        // `z.coerce.string()`: any value is an owner named, which a browser may not do.
        let user_id = fields.object().get("userId").map(|value| {
            value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned)
        });
        Self(pb::CreateApiKeyRequest {
            name,
            expires_in: expires_in.map(seconds),
            prefix,
            metadata_json: metadata,
            user_id,
            remaining: remaining.map(int),
            refill_amount: refill_amount.map(int),
            refill_interval: refill_interval.map(int),
            rate_limit_time_window: rate_limit_time_window.map(int),
            rate_limit_max: rate_limit_max.map(int),
            rate_limit_enabled,
            permissions,
            from_http: true,
        })
    }
}

/// The update body (the package's `updateApiKeyBodySchema`).
pub struct UpdateBody(pb::UpdateApiKeyRequest);

impl Schema for UpdateBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        let _config_id = fields.optional_string("configId");
        let key_id = fields.string("keyId");
        let user_id = fields.object().get("userId").map(|value| {
            value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned)
        });
        let name = fields.optional_string("name");
        let enabled = fields.optional_bool("enabled");
        let remaining = number_at_least(fields, "remaining", Some(1.0));
        let refill_amount = number_at_least(fields, "refillAmount", None);
        let refill_interval = number_at_least(fields, "refillInterval", None);
        let metadata = metadata(fields);
        let expires_in = nullable_number(fields, "expiresIn", Some(1.0));
        let rate_limit_enabled = fields.optional_bool("rateLimitEnabled");
        let rate_limit_time_window = number_at_least(fields, "rateLimitTimeWindow", None);
        let rate_limit_max = number_at_least(fields, "rateLimitMax", None);
        let clear_permissions = matches!(fields.object().get("permissions"), Some(Value::Null));
        let permissions = if clear_permissions {
            None
        } else {
            permissions(fields, "permissions")
        };
        Self(pb::UpdateApiKeyRequest {
            key_id,
            name,
            enabled,
            expires_in: expires_in.flatten().map(seconds),
            clear_expiry: matches!(expires_in, Some(None)),
            metadata_json: metadata,
            user_id,
            remaining: remaining.map(int),
            refill_amount: refill_amount.map(int),
            refill_interval: refill_interval.map(int),
            rate_limit_enabled,
            rate_limit_time_window: rate_limit_time_window.map(int),
            rate_limit_max: rate_limit_max.map(int),
            permissions,
            clear_permissions,
            from_http: true,
        })
    }
}

/// Warden's admin create: the package's create body with the server-only properties and a required `userId`.
pub struct AdminCreateBody(pb::CreateApiKeyRequest);

impl Schema for AdminCreateBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        let user_id = fields.string("userId");
        let CreateBody(mut message) = CreateBody::read(fields);
        message.user_id = Some(user_id);
        message.from_http = false;
        Self(message)
    }
}

/// Warden's admin delete: `{keyId, userId}`.
pub struct AdminDeleteBody {
    key_id: String,
    user_id: String,
}

impl Schema for AdminDeleteBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            key_id: fields.string("keyId"),
            user_id: fields.string("userId"),
        }
    }
}

pub struct DeleteBody {
    key_id: String,
}

impl Schema for DeleteBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        let _config_id = fields.optional_string("configId");
        Self {
            key_id: fields.string("keyId"),
        }
    }
}

/// Under `API_KEY_SESSIONS`, an `x-api-key` too short to be a key is refused before anything else, as the package's
/// hook refuses it.
fn short_key(current: &CurrentSession) -> Option<Response> {
    (current.key_session() && current.credential().is_none()).then(|| {
        ApiError::local(
            http::StatusCode::FORBIDDEN,
            warden_proto::Reason::InvalidApiKey,
            "Invalid API key.",
        )
        .into_response()
    })
}

/// Sends a create request: the key's JSON with the key itself, shown this once.
async fn send_create(
    state: &AppState,
    current: &CurrentSession,
    client: &ClientInfo,
    message: pb::CreateApiKeyRequest,
) -> Response {
    if let Some(refused) = short_key(current) {
        return refused;
    }
    let request = client.request(message, Some(current));
    match state.api_keys.clone().create_api_key(request).await {
        Ok(response) => {
            let created = response.into_inner();
            match created.api_key {
                Some(row) => Json(ApiKey::new(row, Some(created.key))).into_response(),
                None => ApiError::Internal("a created key without its row").into_response(),
            }
        }
        Err(status) => refuse(state, current, Route::ApiKeyCreate, status),
    }
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(CreateBody(message)): Body<CreateBody>,
) -> Response {
    send_create(&state, &current, &client, message).await
}

pub async fn get(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(refused) = short_key(&current) {
        return refused;
    }
    let Some(id) = query_param(query.as_deref(), "id") else {
        return ApiError::validation(
            "[query.id] Invalid input: expected string, received undefined",
        )
        .into_response();
    };
    let request = client.request(pb::GetApiKeyRequest { id }, Some(&current));
    match state.api_keys.clone().get_api_key(request).await {
        Ok(response) => Json(ApiKey::new(response.into_inner(), None)).into_response(),
        Err(status) => refuse(&state, &current, Route::ApiKeyGet, status),
    }
}

pub async fn update(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(UpdateBody(message)): Body<UpdateBody>,
) -> Response {
    if let Some(refused) = short_key(&current) {
        return refused;
    }
    let request = client.request(message, Some(&current));
    match state.api_keys.clone().update_api_key(request).await {
        Ok(response) => Json(ApiKey::new(response.into_inner(), None)).into_response(),
        Err(status) => refuse(&state, &current, Route::ApiKeyUpdate, status),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<DeleteBody>,
) -> Response {
    if let Some(refused) = short_key(&current) {
        return refused;
    }
    let request = client.request(
        pb::DeleteApiKeyRequest {
            key_id: body.key_id,
            user_id: None,
        },
        Some(&current),
    );
    match state.api_keys.clone().delete_api_key(request).await {
        Ok(_) => Json(serde_json::json!({ "success": true })).into_response(),
        Err(status) => refuse(&state, &current, Route::ApiKeyDelete, status),
    }
}

/// `z.coerce.number().int().nonnegative()` on a query parameter.
fn count(query: Option<&str>, key: &str, issues: &mut Vec<String>) -> Option<u32> {
    let raw = query_param(query, key)?;
    let number: f64 = if raw.trim().is_empty() {
        0.0
    } else {
        raw.trim().parse().unwrap_or(f64::NAN)
    };
    if number.is_nan() {
        issues.push(format!(
            "[query.{key}] Invalid input: expected number, received NaN"
        ));
    } else if number.fract() != 0.0 || number.is_infinite() {
        issues.push(format!(
            "[query.{key}] Invalid input: expected int, received number"
        ));
    } else if number < 0.0 {
        issues.push(format!(
            "[query.{key}] Too small: expected number to be >=0"
        ));
    } else {
        return Some(number.min(f64::from(u32::MAX)) as u32);
    }
    None
}

pub async fn list(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(refused) = short_key(&current) {
        return refused;
    }
    let query = query.as_deref();
    let mut issues = Vec::new();
    let limit = count(query, "limit", &mut issues);
    let offset = count(query, "offset", &mut issues);
    let sort_by = query_param(query, "sortBy");
    let sort_direction = query_param(query, "sortDirection");
    if sort_direction
        .as_deref()
        .is_some_and(|direction| direction != "asc" && direction != "desc")
    {
        issues.push(
            r#"[query.sortDirection] Invalid option: expected one of "asc"|"desc""#.to_owned(),
        );
    }
    if !issues.is_empty() {
        return ApiError::validation(issues.join("; ")).into_response();
    }
    let request = client.request(
        pb::ListApiKeysRequest {
            limit,
            offset,
            sort_by,
            sort_direction,
            user_id: None,
        },
        Some(&current),
    );
    match state.api_keys.clone().list_api_keys(request).await {
        Ok(response) => Json(KeyList::from(response.into_inner())).into_response(),
        Err(status) => refuse(&state, &current, Route::ApiKeyList, status),
    }
}

/// `POST /api/warden/admin/create-api-key`: an administrator issues a key for a user (a service account), with the
/// server-only properties the package keeps from browsers (permissions, remaining uses, refills, rate limits).
pub async fn admin_create(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(AdminCreateBody(message)): Body<AdminCreateBody>,
) -> Response {
    send_create(&state, &current, &client, message).await
}

/// `GET /api/warden/admin/list-api-keys?userId=`: a user's keys, for an administrator.
pub async fn admin_list(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(user_id) = query_param(query.as_deref(), "userId") else {
        return ApiError::validation(
            "[query.userId] Invalid input: expected string, received undefined",
        )
        .into_response();
    };
    let request = client.request(
        pb::ListApiKeysRequest {
            user_id: Some(user_id),
            ..Default::default()
        },
        Some(&current),
    );
    match state.api_keys.clone().list_api_keys(request).await {
        Ok(response) => Json(KeyList::from(response.into_inner())).into_response(),
        Err(status) => refuse(&state, &current, Route::ApiKeyList, status),
    }
}

/// `POST /api/warden/admin/delete-api-key`: revokes a user's key, for an administrator.
pub async fn admin_delete(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<AdminDeleteBody>,
) -> Response {
    let request = client.request(
        pb::DeleteApiKeyRequest {
            key_id: body.key_id,
            user_id: Some(body.user_id),
        },
        Some(&current),
    );
    match state.api_keys.clone().delete_api_key(request).await {
        Ok(_) => Json(serde_json::json!({ "success": true })).into_response(),
        Err(status) => refuse(&state, &current, Route::ApiKeyDelete, status),
    }
}
