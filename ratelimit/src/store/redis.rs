//! The Redis store: each decision is one Lua script, so replicas counting the same key never race, and every key
//! it writes carries a TTL. Calls are bounded by short timeouts and a circuit breaker; `None` means "Redis did not
//! answer" and the caller counts in process instead.

use std::future::Future;
use std::io;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisResult, Script};

use super::{RedisOptions, StoreError};
use crate::{Backoff, Decision, Rule};
use warden_common::breaker::{AfterFailure, Breaker};

/// Better Auth's rule with the key's TTL as the clock: the TTL is reset to the window on every allowed request, so
/// the key exists exactly while "less than a window since the last allowed request" holds.
/// KEYS[1] = key; ARGV = max, window in ms. Returns 0 when allowed, else the milliseconds to wait.
const HIT: &str = r"
local count = tonumber(redis.call('GET', KEYS[1])) or 0
if count >= tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then
    return ttl
  end
  count = 0
end
redis.call('SET', KEYS[1], count + 1, 'PX', ARGV[2])
return 0
";

/// The back-off, timed by Redis's clock so replicas agree. A hash {n = attempts, t = last attempt in ms}.
/// KEYS[1] = key; ARGV = free attempts, base ms, cap ms, memory ms. Returns 0 when allowed, else ms to wait.
const ATTEMPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local count = tonumber(redis.call('HGET', KEYS[1], 'n')) or 0
local last = tonumber(redis.call('HGET', KEYS[1], 't')) or 0
local free = tonumber(ARGV[1])
if count >= free then
  local wait = tonumber(ARGV[3])
  local excess = count - free
  if excess < 40 then
    wait = math.min(tonumber(ARGV[2]) * (2 ^ excess), wait)
  end
  local ready = last + wait
  if now < ready then
    return math.ceil(ready - now)
  end
end
redis.call('HSET', KEYS[1], 'n', count + 1, 't', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 0
";

pub(crate) struct RedisStore {
    client: Client,
    key_prefix: String,
    options: RedisOptions,
    breaker: Breaker,
    hit_script: Script,
    attempt_script: Script,
    /// Created on first use (it needs a running Tokio runtime), and dropped when the breaker opens so that a trial
    /// dials afresh.
    connection: Mutex<Option<ConnectionManager>>,
}

impl RedisStore {
    pub(crate) fn new(
        url: &str,
        key_prefix: &str,
        options: RedisOptions,
    ) -> Result<Self, StoreError> {
        let client = Client::open(url).map_err(|error| StoreError::InvalidUrl {
            reason: error.to_string(),
        })?;
        Ok(Self {
            client,
            key_prefix: key_prefix.to_owned(),
            breaker: Breaker::new(options.failure_threshold, options.cooldown),
            options,
            hit_script: Script::new(HIT),
            attempt_script: Script::new(ATTEMPT),
            connection: Mutex::new(None),
        })
    }

    pub(crate) async fn hit(&self, key: &str, rule: Rule) -> Option<Decision> {
        let key = self.key(key);
        let script = &self.hit_script;
        let wait = self
            .call(|mut conn| async move {
                script
                    .key(&key)
                    .arg(rule.max)
                    .arg(millis(rule.window))
                    .invoke_async::<u64>(&mut conn)
                    .await
            })
            .await?;
        Some(decision(wait))
    }

    pub(crate) async fn attempt(&self, key: &str, backoff: &Backoff) -> Option<Decision> {
        let key = self.key(key);
        let script = &self.attempt_script;
        let wait = self
            .call(|mut conn| async move {
                script
                    .key(&key)
                    .arg(backoff.free)
                    .arg(millis(backoff.base))
                    .arg(millis(backoff.cap))
                    .arg(millis(backoff.memory))
                    .invoke_async::<u64>(&mut conn)
                    .await
            })
            .await?;
        Some(decision(wait))
    }

    pub(crate) async fn remove(&self, key: &str) {
        let key = self.key(key);
        self.call(|mut conn| async move {
            redis::cmd("DEL")
                .arg(&key)
                .query_async::<i64>(&mut conn)
                .await
        })
        .await;
    }

    pub(crate) fn breaker_open(&self) -> bool {
        self.breaker.is_open()
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.key_prefix)
    }

    /// One bounded round-trip, skipped at once while the breaker is open. `None` on any failure.
    async fn call<T, F, Fut>(&self, op: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if !self.breaker.try_acquire() {
            return None;
        }
        let outcome = match self.connection() {
            Ok(conn) => tokio::time::timeout(self.options.operation_timeout, op(conn))
                .await
                .unwrap_or_else(|_| Err(io::Error::from(io::ErrorKind::TimedOut).into())),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(value) => {
                if self.breaker.record_success() {
                    tracing::info!("Redis answers again; rate limits are shared again");
                }
                Some(value)
            }
            Err(error) => {
                match self.breaker.record_failure() {
                    AfterFailure::StillClosed => {
                        tracing::debug!(%error, "rate-limit call to Redis failed; counted in process")
                    }
                    AfterFailure::Opened => {
                        tracing::warn!(
                            %error,
                            "Redis keeps failing; rate-limit circuit breaker open, counting in process"
                        );
                        self.drop_connection();
                    }
                    AfterFailure::StaysOpen => self.drop_connection(),
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
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.options.connection_timeout))
            .set_response_timeout(Some(self.options.response_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(100));
        let conn = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    fn drop_connection(&self) {
        *lock(&self.connection) = None;
    }
}

fn decision(wait_ms: u64) -> Decision {
    if wait_ms == 0 {
        Decision::Allow
    } else {
        Decision::Deny {
            retry_after: Duration::from_millis(wait_ms),
        }
    }
}

/// The guarded value is replaced whole, so a panicking holder cannot leave it half-written.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Milliseconds, at least 1: a zero TTL would be refused by Redis, and no key may live forever.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}
