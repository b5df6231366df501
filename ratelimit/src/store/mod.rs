//! Where counts live: Redis (keys `<prefix>rl:<key>` and `<prefix>backoff:<key>`, shared by every replica) or an
//! in-process map. While Redis cannot be reached, the Redis store counts in process instead, so limits still hold
//! per replica and no request waits on a dead Redis.

mod memory;
mod redis;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use self::memory::MemoryStore;
use self::redis::RedisStore;
use crate::{Backoff, Decision, Rule};

/// Keys the in-process store holds at most, unless told otherwise.
pub const DEFAULT_MEMORY_MAX_ENTRIES: usize = 100_000;

/// Longest key kept; a longer one (a client-chosen path) is cut, which only merges buckets.
const MAX_KEY_LEN: usize = 256;

/// Why a store could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL itself is left out: it may hold a password.
    #[error("REDIS_URL is not a valid Redis URL ({reason})")]
    InvalidUrl { reason: String },
}

/// Tuning for the Redis store: a limiter sits on every request, so every call is short and bounded.
#[derive(Clone, Debug)]
pub struct RedisOptions {
    /// Time allowed to open a connection.
    pub connection_timeout: Duration,
    /// Time allowed for a reply to one command.
    pub response_timeout: Duration,
    /// Hard upper bound on one call, whatever the client does underneath.
    pub operation_timeout: Duration,
    /// Consecutive failures that open the circuit breaker.
    pub failure_threshold: u32,
    /// How long the open breaker skips Redis before one trial call probes it.
    pub cooldown: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            connection_timeout: Duration::from_millis(250),
            response_timeout: Duration::from_millis(250),
            operation_timeout: Duration::from_millis(500),
            failure_threshold: 3,
            cooldown: Duration::from_secs(5),
        }
    }
}

/// Counters for rate limits and back-offs. Cheap to clone: clones share one backend.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Memory(Arc<MemoryStore>),
    Redis {
        redis: Arc<RedisStore>,
        /// Counts while Redis is unreachable.
        fallback: Arc<MemoryStore>,
    },
}

impl Store {
    /// In-process counters (one process only), at most [`DEFAULT_MEMORY_MAX_ENTRIES`] keys.
    pub fn memory() -> Self {
        Self::memory_with_capacity(DEFAULT_MEMORY_MAX_ENTRIES)
    }

    /// In-process counters holding at most `max_entries` keys; expired ones are pruned as it goes. When full, new
    /// keys are let through uncounted rather than refused.
    pub fn memory_with_capacity(max_entries: usize) -> Self {
        Self {
            backend: Backend::Memory(Arc::new(MemoryStore::new(max_entries))),
        }
    }

    /// Counters in Redis under `key_prefix`, with the default [`RedisOptions`]. Does not connect: the first call
    /// does, so a Redis that is down never blocks start-up. Fails only on a malformed URL.
    pub fn redis(url: &str, key_prefix: &str) -> Result<Self, StoreError> {
        Self::redis_with(url, key_prefix, RedisOptions::default())
    }

    pub fn redis_with(
        url: &str,
        key_prefix: &str,
        options: RedisOptions,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            backend: Backend::Redis {
                redis: Arc::new(RedisStore::new(url, key_prefix, options)?),
                fallback: Arc::new(MemoryStore::new(DEFAULT_MEMORY_MAX_ENTRIES)),
            },
        })
    }

    /// Counts one request on `key` under `rule`: allowed while fewer than `rule.max` were allowed since the count
    /// last started, which is when `rule.window` passed without an allowed request.
    pub async fn hit(&self, key: &str, rule: Rule) -> Decision {
        let key = format!("rl:{}", bounded(key));
        match &self.backend {
            Backend::Memory(memory) => memory.hit(&key, rule),
            Backend::Redis { redis, fallback } => match redis.hit(&key, rule).await {
                Some(decision) => decision,
                None => fallback.hit(&key, rule),
            },
        }
    }

    /// An attempt on `key` under `backoff`: refused while the back-off since the last attempt runs, otherwise
    /// recorded (as a failure until [`Store::clear`] says it succeeded) and allowed. Recording before the outcome
    /// is known means concurrent attempts cannot all slip through one gap.
    pub async fn attempt(&self, key: &str, backoff: &Backoff) -> Decision {
        let key = format!("backoff:{}", bounded(key));
        match &self.backend {
            Backend::Memory(memory) => memory.attempt(&key, backoff),
            Backend::Redis { redis, fallback } => match redis.attempt(&key, backoff).await {
                Some(decision) => decision,
                None => fallback.attempt(&key, backoff),
            },
        }
    }

    /// Forgets the attempts on `key` (the last one succeeded).
    pub async fn clear(&self, key: &str) {
        let key = format!("backoff:{}", bounded(key));
        match &self.backend {
            Backend::Memory(memory) => memory.remove(&key),
            Backend::Redis { redis, fallback } => {
                fallback.remove(&key);
                redis.remove(&key).await;
            }
        }
    }

    /// Whether the Redis circuit breaker is open (always false in process).
    pub fn breaker_open(&self) -> bool {
        match &self.backend {
            Backend::Memory(_) => false,
            Backend::Redis { redis, .. } => redis.breaker_open(),
        }
    }

    /// "memory" or "redis", for start-up logs.
    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis { .. } => "redis",
        }
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend_name())
            .finish_non_exhaustive()
    }
}

fn bounded(key: &str) -> &str {
    if key.len() <= MAX_KEY_LEN {
        return key;
    }
    let mut end = MAX_KEY_LEN;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_keys_are_cut_on_a_character_boundary() {
        let key = "é".repeat(200);
        let cut = bounded(&key);
        assert!(cut.len() <= MAX_KEY_LEN && key.starts_with(cut));
        assert_eq!(bounded("short"), "short");
    }

    #[tokio::test]
    async fn a_malformed_redis_url_is_refused_without_echoing_it() {
        let error = Store::redis("not a url://secret@x", "p:").unwrap_err();
        assert!(!error.to_string().contains("secret"));
    }
}
