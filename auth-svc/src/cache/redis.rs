//! The Redis-backed cache: keys `<prefix>session:<hash>`, millisecond TTLs, a lazily created connection with short
//! timeouts, a circuit breaker, and a background worker that retries tombstones Redis did not take.
//!
//! Lookups that arrive together go to Redis together: the first opens a batch and a task that sends it once the
//! tasks already runnable have had their turn, and every lookup made meanwhile joins it, so one `MGET` (one write,
//! one read, one wake-up of Redis) answers them all. Sent one by one, the writes to Redis were half of what auth-svc
//! spent writing to sockets under load.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisResult, Script, Value};
use tokio::sync::{mpsc, oneshot};

use super::key_uses::{Counters, Limits, Refusal};
use super::{CacheError, Lookup, RedisOptions, TOMBSTONE, entry_ttl};
use warden_common::breaker::{AfterFailure, Breaker};

/// Sets the value unless the key holds a tombstone; a TTL of 0 deletes the value instead (the session is over).
/// KEYS[1] = key, ARGV = tombstone, value, ttl in ms.
const UPDATE_UNLESS_REVOKED: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return 0
end
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
";

pub(crate) struct RedisCache {
    client: Client,
    key_prefix: String,
    ttl: Duration,
    options: RedisOptions,
    breaker: Breaker,
    update_script: Script,
    key_use_script: Script,
    attempts: AtomicU64,
    /// Created on first use (it needs a running Tokio runtime), and dropped when the breaker opens so that a trial
    /// dials afresh instead of replaying the manager's last failed reconnect.
    connection: Mutex<Option<ConnectionManager>>,
    /// Feeds the tombstone retry worker, started on first need.
    retry_queue: Mutex<Option<mpsc::UnboundedSender<Vec<String>>>>,
    /// The lookups waiting for the batch that will be sent next, if one is open.
    batch: Mutex<Option<Batch>>,
}

/// Lookups bound for one `MGET`: each key, and where its answer goes (`None` when Redis could not be asked).
type Batch = Vec<(String, oneshot::Sender<Option<Option<String>>>)>;

/// The most keys one `MGET` carries: the lookup that fills a batch sends it at once, and the next opens another.
const MAX_BATCH: usize = 128;

impl RedisCache {
    pub(crate) fn new(
        url: &str,
        key_prefix: &str,
        ttl: Duration,
        options: RedisOptions,
    ) -> Result<Arc<Self>, CacheError> {
        let client = Client::open(url).map_err(|error| CacheError::InvalidUrl {
            reason: error.to_string(),
        })?;
        Ok(Arc::new(Self {
            client,
            key_prefix: key_prefix.to_owned(),
            ttl,
            breaker: Breaker::new(options.failure_threshold, options.cooldown),
            options,
            update_script: Script::new(UPDATE_UNLESS_REVOKED),
            key_use_script: Script::new(super::key_uses::TAKE_SCRIPT),
            attempts: AtomicU64::new(0),
            connection: Mutex::new(None),
            retry_queue: Mutex::new(None),
            batch: Mutex::new(None),
        }))
    }

    /// `None` when Redis could not be asked (an error, a timeout, the breaker open).
    pub(crate) async fn get(self: &Arc<Self>, token_hash: &str) -> Option<Lookup> {
        if !self.breaker.try_acquire() {
            return None;
        }
        let (answer, answered) = oneshot::channel();
        let (opened, full) = {
            let mut open = lock(&self.batch);
            let batch = open.get_or_insert_with(Vec::new);
            batch.push((self.key(token_hash), answer));
            let opened = batch.len() == 1;
            (opened, open.take_if(|batch| batch.len() >= MAX_BATCH))
        };
        // Tasks of their own, so that a caller going away cannot strand the lookups that joined its batch.
        if let Some(batch) = full {
            let cache = self.clone();
            tokio::spawn(async move { cache.lookup_batch(batch).await });
        }
        if opened {
            tokio::spawn(send_open_batch(PendingBatch(Some(self.clone()))));
        }
        // Unanswered only when the task sending it was dropped unfinished (its runtime stopped): Redis was not asked.
        let found = answered.await.ok().flatten();
        found.map(|value| match value {
            Some(value) if value == TOMBSTONE => Lookup::Revoked,
            Some(value) => Lookup::Hit(value),
            None => Lookup::Miss,
        })
    }

    /// Sends `batch` as one `MGET` and hands each lookup its answer.
    async fn lookup_batch(&self, batch: Batch) {
        let (keys, answers): (Vec<String>, Vec<_>) = batch.into_iter().unzip();
        let found = self
            .attempt(|mut conn| async move {
                redis::cmd("MGET")
                    .arg(&keys)
                    .query_async::<Vec<Option<String>>>(&mut conn)
                    .await
            })
            .await
            .filter(|values| values.len() == answers.len());
        let mut values = found.map(Vec::into_iter);
        for answer in answers {
            let _ = answer.send(values.as_mut().and_then(Iterator::next));
        }
    }

    pub(crate) async fn fill(&self, token_hash: &str, value: &str, expires_at: DateTime<Utc>) {
        let Some(ttl) = entry_ttl(self.ttl, expires_at, Utc::now()) else {
            return;
        };
        let key = self.key(token_hash);
        self.call(|mut conn| async move {
            redis::cmd("SET")
                .arg(&key)
                .arg(value)
                .arg("PX")
                .arg(millis(ttl))
                .arg("NX")
                .query_async::<Value>(&mut conn)
                .await
        })
        .await;
    }

    pub(crate) async fn update(&self, token_hash: &str, value: &str, expires_at: DateTime<Utc>) {
        let ttl_ms = entry_ttl(self.ttl, expires_at, Utc::now()).map_or(0, millis);
        let key = self.key(token_hash);
        let script = &self.update_script;
        self.call(|mut conn| async move {
            script
                .key(&key)
                .arg(TOMBSTONE)
                .arg(value)
                .arg(ttl_ms)
                .invoke_async::<i64>(&mut conn)
                .await
        })
        .await;
    }

    pub(crate) async fn revoke(self: &Arc<Self>, token_hashes: &[String]) {
        if token_hashes.is_empty() {
            return;
        }
        let keys: Vec<String> = token_hashes.iter().map(|hash| self.key(hash)).collect();
        let ttl = self.ttl;
        let written = self.call(|conn| write_tombstones(conn, &keys, ttl)).await;
        if written.is_none() {
            tracing::debug!(
                count = keys.len(),
                "session tombstones deferred to background retry"
            );
            self.retry_later(keys);
        }
    }

    /// One use of an API key, decided by the script; `None` when Redis could not be asked.
    pub(crate) async fn key_use(
        &self,
        id: &str,
        counters: Counters,
        limits: &Limits,
        now: i64,
        ttl: Duration,
    ) -> Option<Result<Counters, Refusal>> {
        let keys = [self.key_use_key(id), self.key_uses_dirty()];
        let script = &self.key_use_script;
        let answer = self
            .call(|mut conn| async move {
                script
                    .key(&keys[0])
                    .key(&keys[1])
                    .arg(now)
                    .arg(counters.remaining)
                    .arg(counters.count)
                    .arg(counters.last)
                    .arg(counters.refill)
                    .arg(limits.created)
                    .arg(limits.refill_interval)
                    .arg(limits.refill_amount)
                    .arg(if limits.rate_limited { "1" } else { "0" })
                    .arg(limits.window)
                    .arg(limits.max)
                    .arg(millis(ttl))
                    .arg(id)
                    .invoke_async::<Vec<i64>>(&mut conn)
                    .await
            })
            .await?;
        Some(match answer.as_slice() {
            [0, remaining, count, last, refill] => Ok(Counters {
                remaining: *remaining,
                count: *count,
                last: *last,
                refill: *refill,
            }),
            [2, try_again_in] => Err(Refusal::RateLimited {
                try_again_in: *try_again_in,
            }),
            _ => Err(Refusal::UsedUp),
        })
    }

    /// Up to `max` keys whose counters changed since they were last taken, with those counters; `None` when Redis
    /// could not be asked.
    pub(crate) async fn drain_key_uses(&self, max: usize) -> Option<Vec<(String, Counters)>> {
        let dirty = self.key_uses_dirty();
        let ids: Vec<String> = self
            .call(|mut conn| async move {
                redis::cmd("SPOP")
                    .arg(&dirty)
                    .arg(max)
                    .query_async::<Vec<String>>(&mut conn)
                    .await
            })
            .await?;
        if ids.is_empty() {
            return Some(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.key_use_key(id)).collect();
        let rows: Vec<Vec<Option<i64>>> = self
            .call(|mut conn| async move {
                let mut pipe = redis::pipe();
                for key in &keys {
                    pipe.cmd("HMGET")
                        .arg(key)
                        .arg("remaining")
                        .arg("count")
                        .arg("last")
                        .arg("refill");
                }
                pipe.query_async::<Vec<Vec<Option<i64>>>>(&mut conn).await
            })
            .await?;
        Some(
            ids.into_iter()
                .zip(rows)
                .filter_map(|(id, row)| match row.as_slice() {
                    [Some(remaining), Some(count), Some(last), Some(refill)] => Some((
                        id,
                        Counters {
                            remaining: *remaining,
                            count: *count,
                            last: *last,
                            refill: *refill,
                        },
                    )),
                    _ => None,
                })
                .collect(),
        )
    }

    /// A key's counters, if the cache holds them; `None` also when Redis could not be asked.
    pub(crate) async fn peek_key_use(&self, id: &str) -> Option<Counters> {
        let key = self.key_use_key(id);
        let row: Vec<Option<i64>> = self
            .call(|mut conn| async move {
                redis::cmd("HMGET")
                    .arg(&key)
                    .arg("remaining")
                    .arg("count")
                    .arg("last")
                    .arg("refill")
                    .query_async::<Vec<Option<i64>>>(&mut conn)
                    .await
            })
            .await?;
        match row.as_slice() {
            [Some(remaining), Some(count), Some(last), Some(refill)] => Some(Counters {
                remaining: *remaining,
                count: *count,
                last: *last,
                refill: *refill,
            }),
            _ => None,
        }
    }

    /// Forgets a key's counters, so that the next use reads them from the row again.
    pub(crate) async fn forget_key_use(&self, id: &str) {
        let key = self.key_use_key(id);
        self.call(|mut conn| async move {
            redis::cmd("DEL")
                .arg(&key)
                .query_async::<Value>(&mut conn)
                .await
        })
        .await;
    }

    fn key_use_key(&self, id: &str) -> String {
        format!("{}apikey-use:{}", self.key_prefix, id)
    }

    fn key_uses_dirty(&self) -> String {
        format!("{}apikey-use-dirty", self.key_prefix)
    }

    pub(crate) fn breaker_open(&self) -> bool {
        self.breaker.is_open()
    }

    pub(crate) fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    fn key(&self, token_hash: &str) -> String {
        format!("{}session:{}", self.key_prefix, token_hash)
    }

    /// One call on the request path: skipped at once while the breaker is open.
    async fn call<T, F, Fut>(&self, op: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if !self.breaker.try_acquire() {
            return None;
        }
        self.attempt(op).await
    }

    /// One bounded round-trip whose outcome feeds the breaker. `None` on any failure.
    async fn attempt<T, F, Fut>(&self, op: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let outcome = match self.connection() {
            Ok(conn) => tokio::time::timeout(self.options.operation_timeout, op(conn))
                .await
                .unwrap_or_else(|_| Err(io::Error::from(io::ErrorKind::TimedOut).into())),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(value) => {
                if self.breaker.record_success() {
                    tracing::info!("Redis answers again; session cache circuit breaker closed");
                }
                Some(value)
            }
            Err(error) => {
                match self.breaker.record_failure() {
                    AfterFailure::StillClosed => {
                        tracing::debug!(%error, "session cache call to Redis failed")
                    }
                    AfterFailure::Opened => {
                        tracing::warn!(
                            %error,
                            cooldown_ms = millis(self.options.cooldown),
                            "Redis keeps failing; session cache circuit breaker open, reading sessions from the database"
                        );
                        self.drop_connection();
                    }
                    AfterFailure::StaysOpen => {
                        tracing::debug!(%error, "session cache trial call to Redis failed");
                        self.drop_connection();
                    }
                }
                None
            }
        }
    }

    fn connection(&self) -> RedisResult<ConnectionManager> {
        let mut slot = lock(&self.connection);
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn =
            ConnectionManager::new_lazy_with_config(self.client.clone(), self.manager_config())?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    fn drop_connection(&self) {
        *lock(&self.connection) = None;
    }

    fn manager_config(&self) -> ConnectionManagerConfig {
        let options = &self.options;
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connection_timeout))
            .set_response_timeout(Some(options.response_timeout))
            .set_number_of_retries(options.connection_retries)
            .set_min_delay(
                options
                    .connection_retry_max_delay
                    .min(Duration::from_millis(100)),
            )
            .set_max_delay(options.connection_retry_max_delay)
    }

    fn retry_later(self: &Arc<Self>, keys: Vec<String>) {
        let mut queue = lock(&self.retry_queue);
        let keys = match queue.as_ref() {
            Some(sender) => match sender.send(keys) {
                Ok(()) => return,
                // The worker's runtime is gone; start another.
                Err(mpsc::error::SendError(keys)) => keys,
            },
            None => keys,
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(retry_tombstones(Arc::downgrade(self), receiver));
        // The receiver is alive: it was just handed to the worker.
        let _ = sender.send(keys);
        *queue = Some(sender);
    }
}

/// Lets every task already runnable make its lookup first, then sends the open batch, if one is open: the batch this
/// task was started for, or, when that one filled up and left at once, a later one (whose own task then finds none).
async fn send_open_batch(pending: PendingBatch) {
    tokio::task::yield_now().await;
    let cache = pending.defuse();
    let open = lock(&cache.batch).take();
    if let Some(batch) = open {
        cache.lookup_batch(batch).await;
    }
}

/// Held while a batch waits to be sent: if the task is dropped first, even before it first ran (its runtime
/// stopping), it closes the open batch, so that its lookups hear that Redis was not asked instead of waiting for good.
struct PendingBatch(Option<Arc<RedisCache>>);

impl PendingBatch {
    fn defuse(mut self) -> Arc<RedisCache> {
        self.0.take().expect("defused once")
    }
}

impl Drop for PendingBatch {
    fn drop(&mut self) {
        if let Some(cache) = self.0.take() {
            drop(lock(&cache.batch).take());
        }
    }
}

async fn write_tombstones(
    mut conn: ConnectionManager,
    keys: &[String],
    ttl: Duration,
) -> RedisResult<()> {
    let mut pipe = redis::pipe();
    for key in keys {
        pipe.cmd("SET")
            .arg(key)
            .arg(TOMBSTONE)
            .arg("PX")
            .arg(millis(ttl))
            .ignore();
    }
    pipe.query_async::<()>(&mut conn).await
}

/// Retries tombstones with exponential backoff until written or until the cache TTL has passed since the revocation
/// (by then every entry they were meant to shadow has expired). Runs while the cache exists; bypasses the breaker,
/// since it is off the request path, and a success here closes it.
async fn retry_tombstones(
    cache: Weak<RedisCache>,
    mut queue: mpsc::UnboundedReceiver<Vec<String>>,
) {
    let Some((options, ttl)) = cache
        .upgrade()
        .map(|cache| (cache.options.clone(), cache.ttl))
    else {
        return;
    };
    let mut pending = Pending {
        give_up_at: HashMap::new(),
        max: options.revoke_retry_max_pending,
        ttl,
    };

    while let Some(keys) = queue.recv().await {
        pending.add(keys);
        let mut delay = options.revoke_retry_initial_delay;
        while !pending.give_up_at.is_empty() {
            tokio::time::sleep(delay).await;
            while let Ok(keys) = queue.try_recv() {
                pending.add(keys);
            }
            pending.drop_outlived();
            if pending.give_up_at.is_empty() {
                break;
            }
            let Some(cache) = cache.upgrade() else {
                return;
            };
            let keys: Vec<String> = pending.give_up_at.keys().cloned().collect();
            if cache
                .attempt(|conn| write_tombstones(conn, &keys, ttl))
                .await
                .is_some()
            {
                tracing::info!(count = keys.len(), "deferred session tombstones written");
                pending.give_up_at.clear();
            } else {
                delay = (delay * 2).min(options.revoke_retry_max_delay);
            }
        }
    }
}

/// Keys awaiting a tombstone, each with the instant past which writing it is pointless.
struct Pending {
    give_up_at: HashMap<String, Instant>,
    max: usize,
    ttl: Duration,
}

impl Pending {
    fn add(&mut self, keys: Vec<String>) {
        let give_up_at = Instant::now() + self.ttl;
        let mut refused = 0usize;
        for key in keys {
            if self.give_up_at.len() < self.max || self.give_up_at.contains_key(&key) {
                self.give_up_at.insert(key, give_up_at);
            } else {
                refused += 1;
            }
        }
        if refused > 0 {
            tracing::warn!(
                count = refused,
                "session tombstone retry queue full; the cache TTL alone bounds these"
            );
        }
    }

    fn drop_outlived(&mut self) {
        let now = Instant::now();
        let before = self.give_up_at.len();
        self.give_up_at.retain(|_, give_up_at| *give_up_at > now);
        let outlived = before - self.give_up_at.len();
        if outlived > 0 {
            tracing::warn!(
                count = outlived,
                "gave up writing session tombstones; the cache TTL has bounded them"
            );
        }
    }
}

/// The guarded values are replaced whole, so a panicking holder cannot leave them half-written.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}
