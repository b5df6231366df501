//! What the api-key plugin writes: the `apikey` rows, one per key, exactly as `@better-auth/api-key` stores them (so
//! keys the package issued keep working), and the guarded updates that count a key's uses.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait, Order},
};

use super::{Store, entity::apikey};

pub use apikey::Column as ApiKeyColumn;

/// An `apikey` row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub config_id: String,
    pub name: Option<String>,
    pub start: Option<String>,
    pub reference_id: String,
    pub prefix: Option<String>,
    /// base64url (no padding) of the key's SHA-256.
    pub key: String,
    pub refill_interval: Option<i32>,
    pub refill_amount: Option<i32>,
    pub last_refill_at: Option<DateTime<Utc>>,
    pub enabled: Option<bool>,
    pub rate_limit_enabled: Option<bool>,
    pub rate_limit_time_window: Option<i32>,
    pub rate_limit_max: Option<i32>,
    pub request_count: Option<i32>,
    pub remaining: Option<i32>,
    pub last_request: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub permissions: Option<String>,
    pub metadata: Option<String>,
}

impl From<apikey::Model> for ApiKeyRow {
    fn from(row: apikey::Model) -> Self {
        Self {
            id: row.id,
            config_id: row.config_id,
            name: row.name,
            start: row.start,
            reference_id: row.reference_id,
            prefix: row.prefix,
            key: row.key,
            refill_interval: row.refill_interval,
            refill_amount: row.refill_amount,
            last_refill_at: row.last_refill_at,
            enabled: row.enabled,
            rate_limit_enabled: row.rate_limit_enabled,
            rate_limit_time_window: row.rate_limit_time_window,
            rate_limit_max: row.rate_limit_max,
            request_count: row.request_count,
            remaining: row.remaining,
            last_request: row.last_request,
            expires_at: row.expires_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            permissions: row.permissions,
            metadata: row.metadata,
        }
    }
}

/// The changes an update makes; `None` leaves a column as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct ApiKeyChanges {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub metadata: Option<String>,
    pub remaining: Option<i32>,
    pub refill: Option<(i32, i32)>,
    pub rate_limit_enabled: Option<bool>,
    pub rate_limit_time_window: Option<i32>,
    pub rate_limit_max: Option<i32>,
    pub permissions: Option<Option<String>>,
}

impl ApiKeyChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.enabled.is_none()
            && self.expires_at.is_none()
            && self.metadata.is_none()
            && self.remaining.is_none()
            && self.refill.is_none()
            && self.rate_limit_enabled.is_none()
            && self.rate_limit_time_window.is_none()
            && self.rate_limit_max.is_none()
            && self.permissions.is_none()
    }
}

fn set<T: Into<sea_orm::Value> + Clone>(value: Option<T>) -> sea_orm::ActiveValue<T> {
    value.map_or(NotSet, Set)
}

impl Store {
    pub async fn insert_api_key(&self, row: &ApiKeyRow) -> Result<(), sea_orm::DbErr> {
        apikey::Entity::insert(apikey::ActiveModel {
            id: Set(row.id.clone()),
            config_id: Set(row.config_id.clone()),
            name: Set(row.name.clone()),
            start: Set(row.start.clone()),
            reference_id: Set(row.reference_id.clone()),
            prefix: Set(row.prefix.clone()),
            key: Set(row.key.clone()),
            refill_interval: Set(row.refill_interval),
            refill_amount: Set(row.refill_amount),
            last_refill_at: Set(row.last_refill_at),
            enabled: Set(row.enabled),
            rate_limit_enabled: Set(row.rate_limit_enabled),
            rate_limit_time_window: Set(row.rate_limit_time_window),
            rate_limit_max: Set(row.rate_limit_max),
            request_count: Set(row.request_count),
            remaining: Set(row.remaining),
            last_request: Set(row.last_request),
            expires_at: Set(row.expires_at),
            created_at: Set(row.created_at),
            updated_at: Set(row.updated_at),
            permissions: Set(row.permissions.clone()),
            metadata: Set(row.metadata.clone()),
        })
        .exec_without_returning(self.connection())
        .await?;
        Ok(())
    }

    pub async fn find_api_key(&self, id: &str) -> Result<Option<ApiKeyRow>, sea_orm::DbErr> {
        let found = apikey::Entity::find_by_id(id.to_owned())
            .one(self.connection())
            .await?;
        Ok(found.map(ApiKeyRow::from))
    }

    /// The key whose stored hash is `hash`: keys are looked up by hash only.
    pub async fn find_api_key_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<ApiKeyRow>, sea_orm::DbErr> {
        let found = apikey::Entity::find()
            .filter(apikey::Column::Key.eq(hash))
            .one(self.connection())
            .await?;
        Ok(found.map(ApiKeyRow::from))
    }

    /// An owner's keys, ordered by `sort` (then by id, so pages are stable) or as stored.
    pub async fn api_keys_of(
        &self,
        reference_id: &str,
        sort: Option<(ApiKeyColumn, Order)>,
    ) -> Result<Vec<ApiKeyRow>, sea_orm::DbErr> {
        let mut query = apikey::Entity::find().filter(apikey::Column::ReferenceId.eq(reference_id));
        if let Some((column, order)) = sort {
            query = query.order_by(column, order);
        }
        let rows = query.all(self.connection()).await?;
        Ok(rows.into_iter().map(ApiKeyRow::from).collect())
    }

    /// How many keys an owner has.
    pub async fn count_api_keys_of(&self, reference_id: &str) -> Result<u64, sea_orm::DbErr> {
        apikey::Entity::find()
            .filter(apikey::Column::ReferenceId.eq(reference_id))
            .count(self.connection())
            .await
    }

    /// Applies `changes` to a key; the row as stored, `None` when it is gone. As in the package, `updatedAt` moves
    /// only when the key is used.
    pub async fn update_api_key(
        &self,
        id: &str,
        changes: &ApiKeyChanges,
    ) -> Result<Option<ApiKeyRow>, sea_orm::DbErr> {
        let update = apikey::ActiveModel {
            id: Set(id.to_owned()),
            name: changes.name.clone().map_or(NotSet, |name| Set(Some(name))),
            enabled: changes.enabled.map_or(NotSet, |enabled| Set(Some(enabled))),
            expires_at: set(changes.expires_at),
            metadata: changes
                .metadata
                .clone()
                .map_or(NotSet, |meta| Set(Some(meta))),
            remaining: changes.remaining.map_or(NotSet, |left| Set(Some(left))),
            refill_amount: changes
                .refill
                .map_or(NotSet, |(amount, _)| Set(Some(amount))),
            refill_interval: changes
                .refill
                .map_or(NotSet, |(_, interval)| Set(Some(interval))),
            rate_limit_enabled: changes
                .rate_limit_enabled
                .map_or(NotSet, |on| Set(Some(on))),
            rate_limit_time_window: changes
                .rate_limit_time_window
                .map_or(NotSet, |window| Set(Some(window))),
            rate_limit_max: changes.rate_limit_max.map_or(NotSet, |max| Set(Some(max))),
            permissions: set(changes.permissions.clone()),
            ..Default::default()
        };
        let updated = apikey::Entity::update_many()
            .set(update)
            .filter(apikey::Column::Id.eq(id))
            .exec(self.connection())
            .await?;
        if updated.rows_affected == 0 {
            return Ok(None);
        }
        self.find_api_key(id).await
    }

    /// Deletes a key; false when it was already gone.
    pub async fn delete_api_key(&self, id: &str) -> Result<bool, sea_orm::DbErr> {
        let gone = apikey::Entity::delete_by_id(id.to_owned())
            .exec(self.connection())
            .await?;
        Ok(gone.rows_affected == 1)
    }

    /// The stored hashes of an owner's keys.
    pub async fn api_key_hashes_of(
        &self,
        reference_id: &str,
    ) -> Result<Vec<(String, String)>, sea_orm::DbErr> {
        Ok(self
            .api_keys_of(reference_id, None)
            .await?
            .into_iter()
            .map(|row| (row.id, row.key))
            .collect())
    }

    /// Writes back a key's use counters (kept in the cache between write-backs); `updatedAt` follows its last use, as
    /// the package stamps it on each use.
    pub async fn write_api_key_counters(
        &self,
        id: &str,
        remaining: Option<i32>,
        request_count: i32,
        last_request: Option<DateTime<Utc>>,
        last_refill_at: Option<DateTime<Utc>>,
    ) -> Result<(), sea_orm::DbErr> {
        let mut update = apikey::Entity::update_many()
            .col_expr(apikey::Column::Remaining, Expr::value(remaining))
            .col_expr(apikey::Column::RequestCount, Expr::value(request_count))
            .col_expr(apikey::Column::LastRequest, Expr::value(last_request))
            .col_expr(apikey::Column::LastRefillAt, Expr::value(last_refill_at))
            .filter(apikey::Column::Id.eq(id));
        if let Some(at) = last_request {
            update = update.col_expr(apikey::Column::UpdatedAt, Expr::value(at));
        }
        update.exec(self.connection()).await?;
        Ok(())
    }

    /// Deletes every key that expired before `now`; returns their ids and stored hashes.
    pub async fn delete_expired_api_keys(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, sea_orm::DbErr> {
        let expired = apikey::Entity::find()
            .filter(apikey::Column::ExpiresAt.is_not_null())
            .filter(apikey::Column::ExpiresAt.lt(now))
            .all(self.connection())
            .await?;
        let mut gone = Vec::with_capacity(expired.len());
        for row in expired {
            if self.delete_api_key(&row.id).await? {
                gone.push((row.id, row.key));
            }
        }
        Ok(gone)
    }

    /// Refills a key's uses to `amount - 1` (this use taken) if its last refill is still `seen`; false when another
    /// use refilled it first.
    pub async fn refill_api_key(
        &self,
        id: &str,
        seen: Option<DateTime<Utc>>,
        amount: i32,
        now: DateTime<Utc>,
    ) -> Result<bool, sea_orm::DbErr> {
        let guard = match seen {
            Some(at) => Expr::col(apikey::Column::LastRefillAt).eq(at),
            None => Expr::col(apikey::Column::LastRefillAt).is_null(),
        };
        let updated = apikey::Entity::update_many()
            .col_expr(apikey::Column::Remaining, Expr::value(amount - 1))
            .col_expr(apikey::Column::LastRefillAt, Expr::value(now))
            .filter(apikey::Column::Id.eq(id))
            .filter(guard)
            .exec(self.connection())
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Takes one of a key's remaining uses; false when none is left.
    pub async fn take_api_key_use(&self, id: &str) -> Result<bool, sea_orm::DbErr> {
        let updated = apikey::Entity::update_many()
            .col_expr(
                apikey::Column::Remaining,
                Expr::col(apikey::Column::Remaining).sub(1),
            )
            .filter(apikey::Column::Id.eq(id))
            .filter(apikey::Column::Remaining.gt(0))
            .exec(self.connection())
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Counts a request in the key's current window, begun after `window_start`, while fewer than `max` were
    /// counted; false when the window ended or filled meanwhile.
    pub async fn count_api_key_request(
        &self,
        id: &str,
        window_start: DateTime<Utc>,
        max: i32,
        now: DateTime<Utc>,
    ) -> Result<bool, sea_orm::DbErr> {
        let updated = apikey::Entity::update_many()
            .col_expr(
                apikey::Column::RequestCount,
                Expr::col(apikey::Column::RequestCount).add(1),
            )
            .col_expr(apikey::Column::LastRequest, Expr::value(now))
            .filter(apikey::Column::Id.eq(id))
            .filter(apikey::Column::LastRequest.gt(window_start))
            .filter(apikey::Column::RequestCount.lt(max))
            .exec(self.connection())
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Starts a new window with this request if the last one was at `seen` (none, or before the window); false when
    /// another request started it first.
    pub async fn start_api_key_window(
        &self,
        id: &str,
        seen: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, sea_orm::DbErr> {
        let guard = match seen {
            Some(at) => Expr::col(apikey::Column::LastRequest).lte(at),
            None => Expr::col(apikey::Column::LastRequest).is_null(),
        };
        let updated = apikey::Entity::update_many()
            .col_expr(apikey::Column::RequestCount, Expr::value(1))
            .col_expr(apikey::Column::LastRequest, Expr::value(now))
            .filter(apikey::Column::Id.eq(id))
            .filter(guard)
            .exec(self.connection())
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Records a request on a key that counts none, and stamps `updatedAt`.
    pub async fn touch_api_key(
        &self,
        id: &str,
        last_request: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        let mut update = apikey::Entity::update_many()
            .col_expr(apikey::Column::UpdatedAt, Expr::value(now))
            .filter(apikey::Column::Id.eq(id));
        if let Some(at) = last_request {
            update = update.col_expr(apikey::Column::LastRequest, Expr::value(at));
        }
        update.exec(self.connection()).await?;
        Ok(())
    }
}
