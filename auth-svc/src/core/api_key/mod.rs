//! Better Auth's api-key plugin (`@better-auth/api-key`): keys for machines, owned by a user (`referenceId`), shown
//! once and stored as their SHA-256, with an expiry, a switch, a number of uses with refills, a per-key rate limit and
//! permissions. The rules and refusals are the package's, in its order; [`ApiKeys::verify`] is its server-only
//! `verifyApiKey`, and counts each use with the same guarded updates, so that concurrent uses can never pass a limit.

mod background;
mod permissions;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Order;
use std::sync::Arc;
use warden_common::token::{hash_api_key, is_api_key_shaped};

pub use background::KeyJobHandle;
pub use permissions::Permissions;

use serde::{Deserialize, Serialize};

use crate::cache::key_uses::{Counters, Limits, Refusal};
use crate::{
    cache::Lookup,
    core::sessions::Sessions,
    domain::{SessionToken, UserRecord, generate_id, is_admin, now, random_string_from},
    error::{ApiKeyError, AuthError},
    store::{ApiKeyChanges, ApiKeyColumn, ApiKeyRow, Store},
};

/// The configuration id of every key Warden makes (the package's default configuration).
pub const DEFAULT_CONFIG_ID: &str = "default";
/// How many random letters a key has after its prefix.
const KEY_LENGTH: usize = 64;
/// How many of a key's first characters are kept to tell it apart.
const START_LENGTH: usize = 6;
const KEY_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// The package's bounds on names and prefixes, in characters.
const NAME_LENGTH: std::ops::RangeInclusive<usize> = 1..=32;
const PREFIX_LENGTH: std::ops::RangeInclusive<usize> = 1..=32;
/// The package's bounds on `expiresIn`, in days.
const MIN_EXPIRES_IN_DAYS: f64 = 1.0;
const MAX_EXPIRES_IN_DAYS: f64 = 365.0;

/// The plugin's options (API_KEY_*), the package's defaults unless set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeySettings {
    /// Whether keys are rate limited at all (`rateLimit.enabled`).
    pub rate_limit_enabled: bool,
    /// A new key's limit: `rate_limit_max` requests per `rate_limit_window_ms` (10 a day).
    pub rate_limit_max: i32,
    pub rate_limit_window_ms: i32,
    /// Whether keys may carry metadata (`enableMetadata`, off).
    pub metadata: bool,
    /// Whether `x-api-key` stands for a session on Better Auth's routes (`enableSessionForAPIKeys`, off).
    pub sessions: bool,
    /// How often the use counters kept in the cache are written back to the rows (`API_KEY_WRITE_BACK`).
    pub write_back: std::time::Duration,
}

impl Default for ApiKeySettings {
    fn default() -> Self {
        Self {
            rate_limit_enabled: true,
            rate_limit_max: 10,
            rate_limit_window_ms: 86_400_000,
            metadata: false,
            sessions: false,
            write_back: std::time::Duration::from_secs(10),
        }
    }
}

/// A new key's properties, as the create request gives them.
#[derive(Clone, Debug, Default)]
pub struct NewApiKey {
    pub name: Option<String>,
    /// Seconds.
    pub expires_in: Option<i64>,
    pub prefix: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub user_id: Option<String>,
    pub server_only: ServerOnly,
    /// Asked over HTTP: the server-only properties are refused whoever asks.
    pub from_http: bool,
}

/// The properties only the server may set (the package's `SERVER_ONLY_PROPERTY`).
#[derive(Clone, Debug, Default)]
pub struct ServerOnly {
    pub remaining: Option<i32>,
    pub refill_amount: Option<i32>,
    pub refill_interval: Option<i32>,
    pub rate_limit_time_window: Option<i32>,
    pub rate_limit_max: Option<i32>,
    pub rate_limit_enabled: Option<bool>,
    /// `Some(None)`: clear them (update only).
    pub permissions: Option<Option<Permissions>>,
}

impl ServerOnly {
    fn is_empty(&self) -> bool {
        self.remaining.is_none()
            && self.refill_amount.is_none()
            && self.refill_interval.is_none()
            && self.rate_limit_time_window.is_none()
            && self.rate_limit_max.is_none()
            && self.rate_limit_enabled.is_none()
            && self.permissions.is_none()
    }
}

/// What an update asks for.
#[derive(Clone, Debug, Default)]
pub struct ApiKeyUpdate {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    /// `Some(None)`: never expire.
    pub expires_in: Option<Option<i64>>,
    pub metadata: Option<serde_json::Value>,
    pub user_id: Option<String>,
    pub server_only: ServerOnly,
    pub from_http: bool,
}

/// How a list is sorted and paged.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    pub sort_by: Option<String>,
    pub descending: bool,
    /// An administrator's list of another user's keys.
    pub user_id: Option<String>,
}

/// A key just made: its row and the key itself, shown this once.
pub struct Created {
    pub row: ApiKeyRow,
    pub key: String,
}

#[derive(Clone)]
pub struct ApiKeys {
    store: Store,
    sessions: Sessions,
    settings: Arc<ApiKeySettings>,
    admin_user_ids: Arc<[String]>,
    /// The last use of each key that counts nothing (no uses to take, no rate limit), in milliseconds, kept in
    /// process until the next write-back: such a use needs no shared counter.
    touched: Arc<std::sync::Mutex<std::collections::HashMap<String, i64>>>,
}

impl ApiKeys {
    pub fn new(
        store: Store,
        sessions: Sessions,
        settings: ApiKeySettings,
        admin_user_ids: Vec<String>,
    ) -> Self {
        Self {
            store,
            sessions,
            settings: Arc::new(settings),
            admin_user_ids: admin_user_ids.into(),
            touched: Arc::default(),
        }
    }

    pub fn settings(&self) -> &ApiKeySettings {
        &self.settings
    }

    /// Who calls: a session, or an API key (a credential shaped like one; its use is counted). `Unauthorized`
    /// without either.
    async fn actor(&self, token: Option<&SessionToken>) -> Result<Actor, AuthError> {
        if let Some(key) = token
            .map(SessionToken::expose)
            .filter(|t| is_api_key_shaped(t))
        {
            let (row, owner) = self.authenticate(key, None).await?;
            return Ok(Actor {
                user: owner,
                impersonated: false,
                key: Some(row.permissions.as_deref().and_then(Permissions::from_json)),
            });
        }
        let resolved = self.sessions.signed_in(token).await?;
        Ok(Actor {
            impersonated: resolved.session.impersonated_by.is_some(),
            user: resolved.user,
            key: None,
        })
    }

    /// [`Self::actor`], or the package's 401 `UNAUTHORIZED_SESSION`.
    async fn caller(&self, token: Option<&SessionToken>) -> Result<Actor, AuthError> {
        match self.actor(token).await {
            Err(AuthError::Unauthorized) => Err(ApiKeyError::UnauthorizedSession.into()),
            other => other,
        }
    }

    /// Whether the caller is an administrator, read from the user row afresh: a cached session must not keep a
    /// withdrawn role alive (the admin plugin's rule).
    async fn is_admin(&self, caller: &Actor) -> Result<bool, AuthError> {
        Ok(self
            .store
            .find_user_by_id(&caller.user.id)
            .await?
            .is_some_and(|user| is_admin(&user, &self.admin_user_ids)))
    }

    /// Whose key a request names: the caller's, or (an administrator's request) `user_id`'s.
    async fn owner(
        &self,
        caller: &Actor,
        user_id: Option<&str>,
        from_http: bool,
    ) -> Result<String, AuthError> {
        match user_id {
            None => Ok(caller.user.id.clone()),
            Some(id) if id == caller.user.id => Ok(id.to_owned()),
            Some(id) if !from_http && self.is_admin(caller).await? => {
                self.store
                    .find_user_by_id(id)
                    .await?
                    .ok_or(AuthError::UserNotFound)?;
                Ok(id.to_owned())
            }
            Some(_) => Err(ApiKeyError::UnauthorizedSession.into()),
        }
    }

    /// The server-only properties are the server's: refused over HTTP, and over gRPC unless an administrator asks.
    async fn allow_server_only(
        &self,
        server_only: &ServerOnly,
        from_http: bool,
        caller: Option<&Actor>,
    ) -> Result<(), AuthError> {
        if server_only.is_empty() {
            return Ok(());
        }
        match caller {
            Some(caller) if !from_http && self.is_admin(caller).await? => Ok(()),
            _ => Err(ApiKeyError::ServerOnlyProperty.into()),
        }
    }

    pub async fn create(
        &self,
        token: Option<&SessionToken>,
        new: NewApiKey,
    ) -> Result<Created, AuthError> {
        let caller = match self.actor(token).await {
            Ok(caller) => Some(caller),
            Err(AuthError::Unauthorized) => None,
            Err(other) => return Err(other),
        };
        self.allow_server_only(&new.server_only, new.from_http, caller.as_ref())
            .await?;
        if new.from_http && new.user_id.is_some() {
            return Err(ApiKeyError::UnauthorizedSession.into());
        }
        let caller = caller.ok_or(ApiKeyError::UnauthorizedSession)?;
        if caller.impersonated {
            return Err(ApiKeyError::Impersonating.into());
        }
        caller.may(KeyAction::Create)?;
        // A key makes keys with at most its own permissions: never one with its owner's full rights.
        if let Some(Some(own)) = &caller.key {
            match new
                .server_only
                .permissions
                .as_ref()
                .and_then(Option::as_ref)
            {
                Some(asked) if own.allows(asked) => {}
                _ => return Err(ApiKeyError::InsufficientPermissions.into()),
            }
        }
        let owner = self
            .owner(&caller, new.user_id.as_deref(), new.from_http)
            .await?;
        let metadata = self.metadata(new.metadata.as_ref())?;
        let server = &new.server_only;
        check_refill(server.refill_amount, server.refill_interval)?;
        if let Some(seconds) = new.expires_in.filter(|seconds| *seconds != 0) {
            check_expires_in(seconds)?;
        }
        if let Some(prefix) = new.prefix.as_deref().filter(|prefix| !prefix.is_empty()) {
            check_length(prefix, PREFIX_LENGTH, ApiKeyError::InvalidPrefixLength)?;
        }
        if let Some(name) = new.name.as_deref().filter(|name| !name.is_empty()) {
            check_length(name, NAME_LENGTH, ApiKeyError::InvalidNameLength)?;
        }
        self.cleanup_expired().await;

        let prefix = new.prefix.filter(|prefix| !prefix.is_empty());
        let key = format!(
            "{}{}",
            prefix.as_deref().unwrap_or_default(),
            random_string_from(KEY_LENGTH, KEY_ALPHABET)
        );
        let at = now();
        let settings = &self.settings;
        let row = ApiKeyRow {
            id: generate_id(),
            config_id: DEFAULT_CONFIG_ID.to_owned(),
            name: new.name,
            start: Some(key.chars().take(START_LENGTH).collect()),
            reference_id: owner,
            prefix,
            key: hash_api_key(&key),
            refill_interval: server.refill_interval,
            refill_amount: server.refill_amount,
            last_refill_at: None,
            enabled: Some(true),
            rate_limit_enabled: Some(
                server
                    .rate_limit_enabled
                    .unwrap_or(settings.rate_limit_enabled),
            ),
            rate_limit_time_window: Some(
                server
                    .rate_limit_time_window
                    .unwrap_or(settings.rate_limit_window_ms),
            ),
            rate_limit_max: Some(server.rate_limit_max.unwrap_or(settings.rate_limit_max)),
            request_count: Some(0),
            remaining: server.remaining.or(server.refill_amount),
            last_request: None,
            expires_at: new
                .expires_in
                .filter(|seconds| *seconds != 0)
                .map(|seconds| at + TimeDelta::seconds(seconds)),
            created_at: at,
            updated_at: at,
            permissions: server.permissions.clone().flatten().map(|p| p.to_json()),
            // The package's field transform writes JSON text, `null` included.
            metadata: Some(metadata.map_or_else(|| "null".to_owned(), |value| value.to_string())),
        };
        self.store.insert_api_key(&row).await?;
        Ok(Created { row, key })
    }

    /// Metadata as the package takes it: refused when turned off, an object otherwise.
    fn metadata<'a>(
        &self,
        metadata: Option<&'a serde_json::Value>,
    ) -> Result<Option<&'a serde_json::Value>, AuthError> {
        let Some(value) = metadata.filter(|value| truthy(value)) else {
            return Ok(None);
        };
        if !self.settings.metadata {
            return Err(ApiKeyError::MetadataDisabled.into());
        }
        if !value.is_object() && !value.is_array() {
            return Err(ApiKeyError::InvalidMetadataType.into());
        }
        Ok(Some(value))
    }

    /// One of `owner`'s keys; another user's reads as not found.
    async fn key_of(&self, owner: &str, id: &str) -> Result<ApiKeyRow, AuthError> {
        self.store
            .find_api_key(id)
            .await?
            .filter(|row| is_default_config(&row.config_id) && row.reference_id == owner)
            .ok_or_else(|| ApiKeyError::KeyNotFound.into())
    }

    pub async fn get(
        &self,
        token: Option<&SessionToken>,
        id: &str,
    ) -> Result<ApiKeyRow, AuthError> {
        let caller = self.actor(token).await?;
        caller.may(KeyAction::Read)?;
        let row = self.key_of(&caller.user.id, id).await?;
        self.cleanup_expired().await;
        Ok(self.live(row).await)
    }

    pub async fn list(
        &self,
        token: Option<&SessionToken>,
        query: ListQuery,
    ) -> Result<(Vec<ApiKeyRow>, usize), AuthError> {
        let caller = self.actor(token).await?;
        caller.may(KeyAction::Read)?;
        let owner = self.owner(&caller, query.user_id.as_deref(), false).await?;
        let sort = match query.sort_by.as_deref() {
            None => None,
            Some(field) => Some((
                // The package answers an unknown field with a bare 500; Warden says what is wrong.
                sort_column(field).ok_or_else(|| {
                    AuthError::Validation(format!(
                        "[query.sortBy] Invalid input: {field:?} is not a field of an API key"
                    ))
                })?,
                if query.descending {
                    Order::Desc
                } else {
                    Order::Asc
                },
            )),
        };
        let rows: Vec<ApiKeyRow> = self
            .store
            .api_keys_of(&owner, sort)
            .await?
            .into_iter()
            .filter(|row| is_default_config(&row.config_id))
            .collect();
        let total = rows.len();
        self.cleanup_expired().await;
        let mut page = Vec::new();
        for row in rows
            .into_iter()
            .skip(query.offset.unwrap_or(0))
            .take(query.limit.unwrap_or(usize::MAX))
        {
            page.push(self.live(row).await);
        }
        Ok((page, total))
    }

    pub async fn update(
        &self,
        token: Option<&SessionToken>,
        id: &str,
        update: ApiKeyUpdate,
    ) -> Result<ApiKeyRow, AuthError> {
        let caller = self.caller(token).await?;
        caller.may(KeyAction::Update)?;
        let other_owner = update
            .user_id
            .as_deref()
            .is_some_and(|user_id| user_id != caller.user.id);
        if other_owner && (update.from_http || !self.is_admin(&caller).await?) {
            return Err(ApiKeyError::UnauthorizedSession.into());
        }
        self.allow_server_only(&update.server_only, update.from_http, Some(&caller))
            .await?;
        let owner = update.user_id.as_deref().unwrap_or(&caller.user.id);
        let row = self.key_of(owner, id).await?;

        let mut changes = ApiKeyChanges::default();
        if let Some(name) = update.name {
            check_length(&name, NAME_LENGTH, ApiKeyError::InvalidNameLength)?;
            changes.name = Some(name);
        }
        changes.enabled = update.enabled;
        if let Some(expires_in) = update.expires_in {
            if let Some(seconds) = expires_in {
                check_expires_in(seconds)?;
            }
            changes.expires_at = Some(
                expires_in
                    .filter(|seconds| *seconds != 0)
                    .map(|seconds| now() + TimeDelta::seconds(seconds)),
            );
        }
        if let Some(metadata) = update.metadata.as_ref().filter(|_| self.settings.metadata) {
            if !metadata.is_object() && !metadata.is_array() {
                return Err(ApiKeyError::InvalidMetadataType.into());
            }
            changes.metadata = Some(metadata.to_string());
        }
        let server = update.server_only;
        changes.remaining = server.remaining;
        if server.refill_amount.is_some() || server.refill_interval.is_some() {
            check_refill(server.refill_amount, server.refill_interval)?;
            changes.refill = server.refill_amount.zip(server.refill_interval);
        }
        changes.rate_limit_enabled = server.rate_limit_enabled;
        changes.rate_limit_time_window = server.rate_limit_time_window;
        changes.rate_limit_max = server.rate_limit_max;
        changes.permissions = server
            .permissions
            .map(|permissions| permissions.map(|p| p.to_json()));
        if changes.is_empty() {
            return Err(ApiKeyError::NoValuesToUpdate.into());
        }
        // Uses counted since the last write-back go to the row first; new remaining uses then start afresh.
        self.write_back().await?;
        let updated = self
            .store
            .update_api_key(&row.id, &changes)
            .await?
            .ok_or(ApiKeyError::KeyNotFound)?;
        if changes.remaining.is_some() || changes.refill.is_some() {
            self.sessions.cache().forget_key_use(&row.id).await;
        }
        self.recache(&updated).await?;
        self.cleanup_expired().await;
        Ok(self.live(updated).await)
    }

    /// Deletes one of the caller's keys, or (an administrator) one of `user_id`'s.
    pub async fn delete(
        &self,
        token: Option<&SessionToken>,
        id: &str,
        user_id: Option<&str>,
    ) -> Result<(), AuthError> {
        let caller = self.actor(token).await?;
        caller.may(KeyAction::Delete)?;
        if caller.user.banned == Some(true) {
            return Err(ApiKeyError::UserBanned.into());
        }
        let owner = self.owner(&caller, user_id, false).await?;
        let row = self.key_of(&owner, id).await?;
        self.remove(&row).await?;
        self.cleanup_expired().await;
        Ok(())
    }

    /// The package's `verifyApiKey`: whether `key` is a live key with at least `required`'s permissions, counting
    /// this use against its uses and its rate limit. The answer is the key after this use.
    pub async fn verify(
        &self,
        key: &str,
        required: Option<&Permissions>,
    ) -> Result<ApiKeyRow, AuthError> {
        let needs = required.map(|required| Needs {
            required,
            owner_rights: false,
            refusal: || ApiKeyError::KeyNotFound,
        });
        let (row, _) = self.checked(key, needs, false).await?;
        Ok(row)
    }

    /// Whose key `key` is, for a service the key is presented to: the key's checks and one use counted, as
    /// [`Self::verify`], then its owner, who must still exist and not be banned.
    /// `required`, what the call needs, is checked before the use is counted: a key without permissions has all its
    /// owner's rights, one with permissions only those.
    pub async fn authenticate(
        &self,
        key: &str,
        required: Option<&Permissions>,
    ) -> Result<(ApiKeyRow, UserRecord), AuthError> {
        let needs = required.map(|required| Needs {
            required,
            owner_rights: true,
            refusal: || ApiKeyError::InsufficientPermissions,
        });
        let (row, owner) = self.checked(key, needs, true).await?;
        Ok((row, owner.ok_or(ApiKeyError::InvalidApiKey)?))
    }

    /// An administrator's key calling the admin plugin's `action` (`("user", "ban")`): its permissions must name it,
    /// whatever its owner's role; the owner is returned, for the admin check.
    pub async fn authenticate_admin(
        &self,
        key: &str,
        action: (&str, &str),
    ) -> Result<UserRecord, AuthError> {
        let required = Permissions(vec![(action.0.to_owned(), vec![action.1.to_owned()])]);
        let needs = Needs {
            required: &required,
            owner_rights: false,
            refusal: || ApiKeyError::InsufficientPermissions,
        };
        let (_, owner) = self.checked(key, Some(needs), true).await?;
        Ok(owner.ok_or(ApiKeyError::InvalidApiKey)?)
    }

    /// The key `key` names (from the cache, else the database: by hash only), checked and used once; with
    /// `acting`, the key acts for its owner, who must exist and not be banned. Every refusal comes before the use
    /// is counted.
    async fn checked(
        &self,
        key: &str,
        needs: Option<Needs<'_>>,
        acting: bool,
    ) -> Result<(ApiKeyRow, Option<UserRecord>), AuthError> {
        let hash = hash_api_key(key);
        let Cached { row, owner } = self.cached(&hash).await?;
        if row.enabled == Some(false) {
            return Err(ApiKeyError::KeyDisabled.into());
        }
        let at = now();
        if row.expires_at.is_some_and(|expires| expires < at) {
            self.remove(&row).await?;
            return Err(ApiKeyError::KeyExpired.into());
        }
        if let Some(needs) = needs {
            needs.check(row.permissions.as_deref())?;
        }
        if acting {
            match &owner {
                None => return Err(ApiKeyError::InvalidApiKey.into()),
                Some(owner) if owner.is_banned(at) => return Err(AuthError::BannedUser),
                Some(_) => {}
            }
        }
        let row = self.take_use(row, at).await?;
        Ok((row, owner))
    }

    /// The key whose stored hash is `hash`, and its owner: the cache's entry, else the rows (then cached). A revoked
    /// key's tombstone answers at once.
    async fn cached(&self, hash: &str) -> Result<Cached, AuthError> {
        let cache = self.sessions.cache();
        let entry = cache_key(hash);
        match cache.get(&entry).await {
            Lookup::Revoked => return Err(ApiKeyError::InvalidApiKey.into()),
            Lookup::Hit(value) => {
                if let Ok(cached) = serde_json::from_str::<Cached>(&value) {
                    return Ok(cached);
                }
            }
            Lookup::Miss => {}
        }
        let row = self
            .store
            .find_api_key_by_hash(hash)
            .await?
            .ok_or(ApiKeyError::InvalidApiKey)?;
        let owner = self.store.find_user_by_id(&row.reference_id).await?;
        let cached = Cached { row, owner };
        if let Ok(value) = serde_json::to_string(&cached) {
            cache.fill(&entry, &value, entry_expiry(&cached.row)).await;
        }
        Ok(cached)
    }

    /// Writes a key's changed row through to its cache entry (unless it was revoked meanwhile).
    async fn recache(&self, row: &ApiKeyRow) -> Result<(), AuthError> {
        let owner = self.store.find_user_by_id(&row.reference_id).await?;
        let cached = Cached {
            row: row.clone(),
            owner,
        };
        if let Ok(value) = serde_json::to_string(&cached) {
            self.sessions
                .cache()
                .update(&cache_key(&row.key), &value, entry_expiry(row))
                .await;
        }
        Ok(())
    }

    /// Deletes a key: the row, then a tombstone in the cache and its counters, so no replica honours it again.
    async fn remove(&self, row: &ApiKeyRow) -> Result<(), AuthError> {
        self.store.delete_api_key(&row.id).await?;
        self.forget(&[(row.id.clone(), row.key.clone())]).await;
        Ok(())
    }

    /// Tombstones deleted keys (`(id, hash)`) in the cache and drops their counters.
    async fn forget(&self, gone: &[(String, String)]) {
        if gone.is_empty() {
            return;
        }
        let cache = self.sessions.cache();
        let entries: Vec<String> = gone.iter().map(|(_, hash)| cache_key(hash)).collect();
        cache.revoke(&entries).await;
        for (id, _) in gone {
            cache.forget_key_use(id).await;
        }
    }

    /// Counts one use of `row` and answers the row as it stands after it. The counters live in the cache (shared by
    /// every replica through Redis) and are written back to the row periodically; when the cache cannot be asked,
    /// the row itself is counted with guarded updates. A key that counts nothing is not counted at all: only the
    /// time of its last use is noted, for the next write-back.
    async fn take_use(&self, row: ApiKeyRow, at: DateTime<Utc>) -> Result<ApiKeyRow, AuthError> {
        let limits = Limits::of(&row, self.settings.rate_limit_enabled);
        let counters = Counters::of(&row);
        let now_ms = at.timestamp_millis();
        if limits.counts_nothing() && counters.remaining < 0 {
            // Nothing to decide: the package only notes the time of the use (unless the key has no window at all).
            if !limits.rate_limited {
                lock(&self.touched).insert(row.id.clone(), now_ms);
                return Ok(with_counters(
                    row,
                    Counters {
                        last: now_ms,
                        ..counters
                    },
                ));
            }
            return Ok(row);
        }
        let cache = self.sessions.cache();
        match cache
            .key_use(&row.id, counters, &limits, now_ms, USE_COUNTERS_TTL)
            .await
        {
            Some(Ok(next)) => Ok(with_counters(row, next)),
            Some(Err(Refusal::UsedUp)) => {
                if limits.refill_amount == 0 || limits.refill_interval == 0 {
                    self.remove(&row).await?;
                }
                Err(ApiKeyError::UsageExceeded.into())
            }
            Some(Err(Refusal::RateLimited { try_again_in })) => Err(ApiKeyError::RateLimited {
                try_again_in_ms: try_again_in.max(0),
            }
            .into()),
            None => self.take_use_in_database(&row, at).await,
        }
    }

    /// [`Self::take_use`] on the row itself, as the package counts: for when the cache cannot be asked.
    async fn take_use_in_database(
        &self,
        row: &ApiKeyRow,
        at: DateTime<Utc>,
    ) -> Result<ApiKeyRow, AuthError> {
        if row.remaining == Some(0) && row.refill_amount.is_none() {
            self.remove(row).await?;
            return Err(ApiKeyError::UsageExceeded.into());
        }
        if row.remaining.is_some() {
            self.take_use_from_row(row, at).await?;
        }
        self.count_request(row, at).await?;
        self.store.touch_api_key(&row.id, None, at).await?;
        self.store
            .find_api_key(&row.id)
            .await?
            .ok_or_else(|| ApiKeyError::InvalidApiKey.into())
    }

    /// `row` with the uses the cache has counted since the last write-back.
    async fn live(&self, row: ApiKeyRow) -> ApiKeyRow {
        let touched = lock(&self.touched).get(&row.id).copied();
        if let Some(last) = touched {
            let counters = Counters::of(&row);
            return with_counters(row, Counters { last, ..counters });
        }
        match self.sessions.cache().peek_key_use(&row.id).await {
            Some(counters) => with_counters(row, counters),
            None => row,
        }
    }

    /// Writes the counters the cache holds back to the rows, a batch at a time; how many rows were written.
    pub async fn write_back(&self) -> Result<usize, AuthError> {
        let mut written = 0;
        let touched: Vec<(String, i64)> = lock(&self.touched).drain().collect();
        for (id, last) in touched {
            if let Some(at) = DateTime::from_timestamp_millis(last) {
                self.store.touch_api_key(&id, Some(at), at).await?;
                written += 1;
            }
        }
        loop {
            let Some(batch) = self.sessions.cache().drain_key_uses(WRITE_BACK_BATCH).await else {
                return Ok(written);
            };
            let last = batch.len() < WRITE_BACK_BATCH;
            for (id, counters) in batch {
                let at = |ms: i64| {
                    (ms >= 0)
                        .then(|| DateTime::from_timestamp_millis(ms))
                        .flatten()
                };
                self.store
                    .write_api_key_counters(
                        &id,
                        (counters.remaining >= 0)
                            .then(|| i32::try_from(counters.remaining).unwrap_or(i32::MAX)),
                        i32::try_from(counters.count).unwrap_or(i32::MAX),
                        at(counters.last),
                        at(counters.refill),
                    )
                    .await?;
                written += 1;
            }
            if last {
                return Ok(written);
            }
        }
    }

    /// Takes one of the row's uses, refilling them first when a refill is due; exactly one concurrent use wins a
    /// refill, and a use is never taken below zero.
    async fn take_use_from_row(&self, row: &ApiKeyRow, at: DateTime<Utc>) -> Result<(), AuthError> {
        if let (Some(interval), Some(amount)) = (row.refill_interval, row.refill_amount)
            && interval != 0
            && amount != 0
        {
            let last = row.last_refill_at.unwrap_or(row.created_at);
            if (at - last).num_milliseconds() > i64::from(interval)
                && self
                    .store
                    .refill_api_key(&row.id, row.last_refill_at, amount, at)
                    .await?
            {
                return Ok(());
            }
        }
        if self.store.take_api_key_use(&row.id).await? {
            Ok(())
        } else {
            Err(ApiKeyError::UsageExceeded.into())
        }
    }

    /// Counts the request in the key's rate-limit window, as the package decides: a key over its limit is refused
    /// with the milliseconds until its window ends.
    async fn count_request(&self, row: &ApiKeyRow, at: DateTime<Utc>) -> Result<(), AuthError> {
        let mut row = row.clone();
        loop {
            if !self.settings.rate_limit_enabled || row.rate_limit_enabled == Some(false) {
                self.store.touch_api_key(&row.id, Some(at), at).await?;
                return Ok(());
            }
            let (Some(window), Some(max)) = (row.rate_limit_time_window, row.rate_limit_max) else {
                return Ok(());
            };
            let window_start = at - TimeDelta::milliseconds(i64::from(window));
            let counted = match row.last_request {
                None => self.store.start_api_key_window(&row.id, None, at).await?,
                Some(last) if (at - last).num_milliseconds() > i64::from(window) => {
                    self.store
                        .start_api_key_window(&row.id, Some(window_start), at)
                        .await?
                }
                Some(last) if row.request_count.unwrap_or(0) >= max => {
                    let elapsed = (at - last).num_milliseconds();
                    return Err(ApiKeyError::RateLimited {
                        try_again_in_ms: (i64::from(window) - elapsed).max(0),
                    }
                    .into());
                }
                Some(_) => {
                    self.store
                        .count_api_key_request(&row.id, window_start, max, at)
                        .await?
                }
            };
            if counted {
                return Ok(());
            }
            // Another use moved the window or the count first: decide again on the row as it is now.
            row = self
                .store
                .find_api_key(&row.id)
                .await?
                .ok_or(ApiKeyError::InvalidApiKey)?;
        }
    }

    /// Deletes every expired key; how many went.
    pub async fn delete_expired(&self) -> Result<usize, AuthError> {
        let gone = self.store.delete_expired_api_keys(now()).await?;
        self.forget(&gone).await;
        Ok(gone.len())
    }

    /// The package deletes expired keys as a side effect of its routes; Warden's background job does it too, so a
    /// failure here is only logged.
    async fn cleanup_expired(&self) {
        if let Err(error) = self.delete_expired().await {
            tracing::warn!(%error, "deleting expired api keys failed");
        }
    }

    /// Whether the caller may set the server-only properties over gRPC (an administrator).
    pub async fn caller_is_admin(&self, token: Option<&SessionToken>) -> Result<bool, AuthError> {
        let caller = self.actor(token).await?;
        if caller.key.is_some() {
            // The package's server-only operations are for administrators' sessions, not for keys.
            return Ok(false);
        }
        self.is_admin(&caller).await
    }
}

/// After an owner's row changed (a ban, its lifting, a new role, removal), the cache entries of their keys follow, so
/// that a banned owner's keys stop on the next call on every replica. A failure leaves entries that the cache TTL
/// ends.
pub async fn owner_changed(store: &Store, cache: &crate::cache::SessionCache, user_id: &str) {
    let rows = match store.api_keys_of(user_id, None).await {
        Ok(rows) => rows,
        Err(error) => {
            tracing::warn!(%error, "api keys: the owner's keys could not be read to refresh their cache entries");
            return;
        }
    };
    if rows.is_empty() {
        return;
    }
    let owner = match store.find_user_by_id(user_id).await {
        Ok(owner) => owner,
        Err(error) => {
            tracing::warn!(%error, "api keys: the owner could not be read to refresh their keys' cache entries");
            return;
        }
    };
    let Some(owner) = owner else {
        let entries: Vec<String> = rows.iter().map(|row| cache_key(&row.key)).collect();
        cache.revoke(&entries).await;
        return;
    };
    for row in rows {
        let entry = cache_key(&row.key);
        let expiry = entry_expiry(&row);
        let cached = Cached {
            row,
            owner: Some(owner.clone()),
        };
        if let Ok(value) = serde_json::to_string(&cached) {
            cache.update(&entry, &value, expiry).await;
        }
    }
}

/// Who calls the key routes: a session's user, or an API key's owner.
struct Actor {
    user: UserRecord,
    /// A session an administrator opened as the user.
    impersonated: bool,
    /// Called with a key: its permissions (`None` inside: the owner's rights).
    key: Option<Option<Permissions>>,
}

/// What a key may do with keys, as its permissions name it (`{"apiKey": ["create"]}`).
#[derive(Clone, Copy)]
enum KeyAction {
    Create,
    Read,
    Update,
    Delete,
}

impl Actor {
    /// A key with permissions must grant `action` on `apiKey`; sessions and keys without permissions may.
    fn may(&self, action: KeyAction) -> Result<(), AuthError> {
        let Some(Some(granted)) = &self.key else {
            return Ok(());
        };
        let action = match action {
            KeyAction::Create => "create",
            KeyAction::Read => "read",
            KeyAction::Update => "update",
            KeyAction::Delete => "delete",
        };
        let needed = Permissions(vec![(KEY_RESOURCE.to_owned(), vec![action.to_owned()])]);
        if granted.allows(&needed) {
            Ok(())
        } else {
            Err(ApiKeyError::InsufficientPermissions.into())
        }
    }
}

/// The resource a key's permissions name for managing keys.
pub const KEY_RESOURCE: &str = "apiKey";

/// What a use of a key needs, and how a key without permissions counts: with its owner's rights (a service the key
/// acts on), or with none (the package's `verifyApiKey`, which finds no such key).
#[derive(Clone, Copy)]
struct Needs<'a> {
    required: &'a Permissions,
    /// Whether a key without permissions may (it has its owner's rights), or must name them.
    owner_rights: bool,
    /// What a key that lacks them is told.
    refusal: fn() -> ApiKeyError,
}

impl Needs<'_> {
    fn check(self, stored: Option<&str>) -> Result<(), AuthError> {
        match stored.map(Permissions::from_json) {
            None if self.owner_rights => Ok(()),
            Some(Some(granted)) if granted.allows(self.required) => Ok(()),
            _ => Err((self.refusal)().into()),
        }
    }
}

/// A key and its owner, as the cache holds them (`apikey:<hash>` beside the sessions).
#[derive(Serialize, Deserialize)]
struct Cached {
    row: ApiKeyRow,
    owner: Option<UserRecord>,
}

/// The cache entry of the key whose stored hash is `hash` (base64url: never a session token's hex hash).
fn cache_key(hash: &str) -> String {
    format!("apikey:{hash}")
}

/// How long a key's cache entry may live: never past the key's expiry (the cache TTL bounds it further).
fn entry_expiry(row: &ApiKeyRow) -> DateTime<Utc> {
    row.expires_at
        .unwrap_or_else(|| now() + TimeDelta::days(365))
}

/// How long counters nobody touches stay in the cache (they are written back long before).
const USE_COUNTERS_TTL: std::time::Duration = std::time::Duration::from_secs(2 * 86_400);
/// How many keys' counters one write-back step takes.
const WRITE_BACK_BATCH: usize = 500;

/// `row` with the use counters `counters`.
fn with_counters(mut row: ApiKeyRow, counters: Counters) -> ApiKeyRow {
    let at = |ms: i64| {
        (ms >= 0)
            .then(|| DateTime::from_timestamp_millis(ms))
            .flatten()
    };
    row.remaining =
        (counters.remaining >= 0).then(|| i32::try_from(counters.remaining).unwrap_or(i32::MAX));
    row.request_count = Some(i32::try_from(counters.count).unwrap_or(i32::MAX));
    row.last_request = at(counters.last);
    row.last_refill_at = at(counters.refill);
    if let Some(last) = row.last_request {
        row.updated_at = row.updated_at.max(last);
    }
    row
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn truthy(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => false,
        serde_json::Value::Bool(flag) => *flag,
        serde_json::Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        serde_json::Value::String(text) => !text.is_empty(),
        _ => true,
    }
}

fn is_default_config(config_id: &str) -> bool {
    config_id.is_empty() || config_id == DEFAULT_CONFIG_ID
}

fn check_refill(amount: Option<i32>, interval: Option<i32>) -> Result<(), AuthError> {
    let set = |value: Option<i32>| value.is_some_and(|value| value != 0);
    match (set(amount), set(interval)) {
        (true, false) => Err(ApiKeyError::RefillAmountAndIntervalRequired.into()),
        (false, true) => Err(ApiKeyError::RefillIntervalAndAmountRequired.into()),
        _ => Ok(()),
    }
}

fn check_expires_in(seconds: i64) -> Result<(), AuthError> {
    let days = seconds as f64 / 86_400.0;
    if days < MIN_EXPIRES_IN_DAYS {
        Err(ApiKeyError::ExpiresInIsTooSmall.into())
    } else if days > MAX_EXPIRES_IN_DAYS {
        Err(ApiKeyError::ExpiresInIsTooLarge.into())
    } else {
        Ok(())
    }
}

fn check_length(
    text: &str,
    bounds: std::ops::RangeInclusive<usize>,
    refusal: ApiKeyError,
) -> Result<(), AuthError> {
    // The package counts UTF-16 code units (`string.length`).
    if bounds.contains(&text.encode_utf16().count()) {
        Ok(())
    } else {
        Err(refusal.into())
    }
}

/// The column a list may be sorted by, named as the package's fields are.
fn sort_column(field: &str) -> Option<ApiKeyColumn> {
    Some(match field {
        "id" => ApiKeyColumn::Id,
        "configId" => ApiKeyColumn::ConfigId,
        "name" => ApiKeyColumn::Name,
        "start" => ApiKeyColumn::Start,
        "referenceId" => ApiKeyColumn::ReferenceId,
        "prefix" => ApiKeyColumn::Prefix,
        "refillInterval" => ApiKeyColumn::RefillInterval,
        "refillAmount" => ApiKeyColumn::RefillAmount,
        "lastRefillAt" => ApiKeyColumn::LastRefillAt,
        "enabled" => ApiKeyColumn::Enabled,
        "rateLimitEnabled" => ApiKeyColumn::RateLimitEnabled,
        "rateLimitTimeWindow" => ApiKeyColumn::RateLimitTimeWindow,
        "rateLimitMax" => ApiKeyColumn::RateLimitMax,
        "requestCount" => ApiKeyColumn::RequestCount,
        "remaining" => ApiKeyColumn::Remaining,
        "lastRequest" => ApiKeyColumn::LastRequest,
        "expiresAt" => ApiKeyColumn::ExpiresAt,
        "createdAt" => ApiKeyColumn::CreatedAt,
        "updatedAt" => ApiKeyColumn::UpdatedAt,
        "permissions" => ApiKeyColumn::Permissions,
        "metadata" => ApiKeyColumn::Metadata,
        _ => return None,
    })
}
