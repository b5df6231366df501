//! The session cache in front of PostgreSQL: Redis when `REDIS_URL` is set, an in-process map otherwise.
//!
//! Values are opaque strings (serialised sessions) keyed by the SHA-256 hex hash of a session token. The database stays
//! the truth; the cache only ever answers "here is the session", "ask the database" or "revoked". Revocation writes a
//! tombstone that neither a read-through refill ([`SessionCache::fill`], SET NX) nor a write-through
//! ([`SessionCache::update`], which checks for the tombstone atomically) can overwrite, so a refill racing a sign-out
//! cannot bring the session back. No entry outlives the cache TTL or the session's own expiry.
//!
//! A Redis that is down or slow costs little: every call is bounded by short timeouts, a circuit breaker stops calling
//! Redis after a few consecutive failures (reads become misses and go to the database), and revocations that could not
//! be written are retried in the background for as long as a stale entry could still exist.

pub mod key_uses;
mod memory;
mod redis;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use self::key_uses::{Counters as KeyCounters, Limits as KeyLimits, Refusal as KeyRefusal};
use self::memory::MemoryCache;
use self::redis::RedisCache;

/// The stored value that marks a revoked session. It cannot be the start of any JSON text.
const TOMBSTONE: &str = "!revoked";

/// Entries for sessions with less time than this left are not written: nothing is cached past a session's expiry,
/// and a sub-second entry is not worth a round-trip.
const MIN_ENTRY_TTL: Duration = Duration::from_secs(1);

/// The shortest cache TTL accepted; a zero TTL would mean "no expiry" to Redis.
const MIN_CACHE_TTL: Duration = Duration::from_millis(1);

/// Entries the in-process cache holds at most, unless told otherwise.
pub const DEFAULT_MEMORY_MAX_ENTRIES: usize = 100_000;

/// What the cache knows about a session token hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The cached value, as given to [`SessionCache::fill`] or [`SessionCache::update`].
    Hit(String),
    /// Nothing cached (or the cache could not be asked): read the database.
    Miss,
    /// The session was revoked recently; no need to ask the database.
    Revoked,
}

/// Why a cache could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The Redis URL does not parse. The URL itself is left out: it may hold a password.
    #[error("REDIS_URL is not a valid Redis URL ({reason})")]
    InvalidUrl { reason: String },
    /// An option is out of range.
    #[error("invalid session cache option: {0}")]
    InvalidOption(&'static str),
}

/// Tuning for the Redis-backed cache. The defaults suit production; tests shorten the cooldown and delays.
#[derive(Clone, Debug)]
pub struct RedisOptions {
    /// Time allowed to open a connection, handshake included (the client's default is 1 s, with 6 retries).
    pub connection_timeout: Duration,
    /// Time allowed for a reply to one command.
    pub response_timeout: Duration,
    /// Extra connection attempts after a failed one.
    pub connection_retries: usize,
    /// Longest pause between connection attempts.
    pub connection_retry_max_delay: Duration,
    /// Hard upper bound on one cache call, whatever the client does underneath.
    pub operation_timeout: Duration,
    /// Consecutive failures that open the circuit breaker.
    pub failure_threshold: u32,
    /// How long the open breaker skips Redis before one trial call probes it.
    pub cooldown: Duration,
    /// First pause before retrying tombstones that could not be written; doubles on each failure.
    pub revoke_retry_initial_delay: Duration,
    /// Longest pause between tombstone retries. Retries stop once the cache TTL has passed since the revocation,
    /// because by then every entry written before it has expired.
    pub revoke_retry_max_delay: Duration,
    /// Tombstones awaiting a retry at most; beyond that the cache TTL alone bounds what is left.
    pub revoke_retry_max_pending: usize,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            connection_timeout: Duration::from_millis(300),
            response_timeout: Duration::from_millis(300),
            connection_retries: 1,
            connection_retry_max_delay: Duration::from_millis(200),
            operation_timeout: Duration::from_secs(1),
            failure_threshold: 3,
            cooldown: Duration::from_secs(5),
            revoke_retry_initial_delay: Duration::from_millis(200),
            revoke_retry_max_delay: Duration::from_secs(5),
            revoke_retry_max_pending: 100_000,
        }
    }
}

/// How lookups have gone since the cache was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    /// The cache answered that it holds nothing.
    pub misses: u64,
    pub revoked: u64,
    /// Redis could not be asked (an error, a timeout, the breaker open): the database answered instead.
    pub fallbacks: u64,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    revoked: AtomicU64,
    fallbacks: AtomicU64,
}

/// The session cache. Cheap to clone: clones share one backend.
#[derive(Clone)]
pub struct SessionCache {
    backend: Backend,
    counters: Arc<Counters>,
    /// API keys' use counters when there is no Redis (the in-process cache).
    key_uses: Arc<KeyUses>,
}

/// API keys' use counters in process: each key's counters and when they lapse, and the keys awaiting write-back.
#[derive(Default)]
struct KeyUses {
    counters:
        std::sync::Mutex<std::collections::HashMap<String, (KeyCounters, std::time::Instant)>>,
    dirty: std::sync::Mutex<std::collections::HashSet<String>>,
}

#[derive(Clone)]
enum Backend {
    Memory(Arc<MemoryCache>),
    Redis(Arc<RedisCache>),
}

impl SessionCache {
    /// In-process cache used when REDIS_URL is unset (single process). Bounded: prunes expired entries as it goes
    /// and holds at most [`DEFAULT_MEMORY_MAX_ENTRIES`].
    pub fn memory(ttl: Duration) -> Self {
        Self::memory_with_capacity(ttl, DEFAULT_MEMORY_MAX_ENTRIES)
    }

    /// In-process cache holding at most `max_entries` sessions. When full, new sessions are not cached (a miss is
    /// always safe); tombstones are always kept.
    pub fn memory_with_capacity(ttl: Duration, max_entries: usize) -> Self {
        let memory = MemoryCache::new(ttl.max(MIN_CACHE_TTL), max_entries);
        Self {
            backend: Backend::Memory(Arc::new(memory)),
            counters: Arc::default(),
            key_uses: Arc::default(),
        }
    }

    /// Redis-backed cache with the default [`RedisOptions`]. Does not connect: the first call does, so a Redis that
    /// is down never blocks or fails start-up. Fails only on a malformed URL.
    pub fn redis(url: &str, key_prefix: &str, ttl: Duration) -> Result<Self, CacheError> {
        Self::redis_with(url, key_prefix, ttl, RedisOptions::default())
    }

    /// Redis-backed cache with explicit timeouts, breaker and retry settings.
    pub fn redis_with(
        url: &str,
        key_prefix: &str,
        ttl: Duration,
        options: RedisOptions,
    ) -> Result<Self, CacheError> {
        if options.failure_threshold == 0 {
            return Err(CacheError::InvalidOption(
                "failure_threshold must be at least 1",
            ));
        }
        let redis = RedisCache::new(url, key_prefix, ttl.max(MIN_CACHE_TTL), options)?;
        Ok(Self {
            backend: Backend::Redis(redis),
            counters: Arc::default(),
            key_uses: Arc::default(),
        })
    }

    /// Looks a token hash up. Any Redis error, or an open breaker, is a [`Lookup::Miss`].
    pub async fn get(&self, token_hash: &str) -> Lookup {
        let lookup = match &self.backend {
            Backend::Memory(memory) => Some(memory.get(token_hash)),
            Backend::Redis(redis) => redis.get(token_hash).await,
        };
        let counters = &self.counters;
        let counter = match &lookup {
            Some(Lookup::Hit(_)) => &counters.hits,
            Some(Lookup::Miss) => &counters.misses,
            Some(Lookup::Revoked) => &counters.revoked,
            None => &counters.fallbacks,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        lookup.unwrap_or(Lookup::Miss)
    }

    /// How lookups have gone so far, for metrics.
    pub fn stats(&self) -> CacheStats {
        let counters = &self.counters;
        CacheStats {
            hits: counters.hits.load(Ordering::Relaxed),
            misses: counters.misses.load(Ordering::Relaxed),
            revoked: counters.revoked.load(Ordering::Relaxed),
            fallbacks: counters.fallbacks.load(Ordering::Relaxed),
        }
    }

    /// Read-through refill after a database read: SET NX semantics, so it never overwrites a tombstone or a newer
    /// value. Nothing is stored for a session with less than a second left.
    pub async fn fill(&self, token_hash: &str, value: &str, expires_at: DateTime<Utc>) {
        match &self.backend {
            Backend::Memory(memory) => memory.fill(token_hash, value, expires_at),
            Backend::Redis(redis) => redis.fill(token_hash, value, expires_at).await,
        }
    }

    /// Overwrite after a write (e.g. sliding expiry moved `expires_at`), but never over a tombstone (atomic: a Lua
    /// script in Redis). A session with less than a second left has its cached value removed instead.
    pub async fn update(&self, token_hash: &str, value: &str, expires_at: DateTime<Utc>) {
        match &self.backend {
            Backend::Memory(memory) => memory.update(token_hash, value, expires_at),
            Backend::Redis(redis) => redis.update(token_hash, value, expires_at).await,
        }
    }

    /// Revocation: writes tombstones (TTL = the cache TTL) for each hash. If Redis cannot be reached, retries in the
    /// background with backoff until the cache TTL has passed; the cache TTL bounds what is left.
    pub async fn revoke(&self, token_hashes: &[String]) {
        match &self.backend {
            Backend::Memory(memory) => memory.revoke(token_hashes),
            Backend::Redis(redis) => redis.revoke(token_hashes).await,
        }
    }

    /// One use of the API key `id` (its row's `counters` and `limits`, for when the cache holds none), decided
    /// atomically and shared by every replica using this Redis; counters lapse `ttl` after their last change.
    /// `None` when Redis could not be asked: the caller counts in the database instead.
    pub async fn key_use(
        &self,
        id: &str,
        counters: KeyCounters,
        limits: &KeyLimits,
        now: i64,
        ttl: Duration,
    ) -> Option<Result<KeyCounters, KeyRefusal>> {
        match &self.backend {
            Backend::Redis(redis) => redis.key_use(id, counters, limits, now, ttl).await,
            Backend::Memory(_) => {
                let mut held = lock(&self.key_uses.counters);
                let at = std::time::Instant::now();
                let current = held
                    .get(id)
                    .filter(|(_, lapses)| *lapses > at)
                    .map_or(counters, |(current, _)| *current);
                let decided = key_uses::take(current, limits, now);
                if let Ok(next) = decided {
                    held.insert(id.to_owned(), (next, at + ttl));
                    lock(&self.key_uses.dirty).insert(id.to_owned());
                }
                Some(decided)
            }
        }
    }

    /// Up to `max` API keys whose counters changed since they were last drained, with those counters, for writing
    /// back to their rows. `None` when Redis could not be asked.
    pub async fn drain_key_uses(&self, max: usize) -> Option<Vec<(String, KeyCounters)>> {
        match &self.backend {
            Backend::Redis(redis) => redis.drain_key_uses(max).await,
            Backend::Memory(_) => {
                let ids: Vec<String> = {
                    let mut dirty = lock(&self.key_uses.dirty);
                    let ids: Vec<String> = dirty.iter().take(max).cloned().collect();
                    for id in &ids {
                        dirty.remove(id);
                    }
                    ids
                };
                let at = std::time::Instant::now();
                let mut held = lock(&self.key_uses.counters);
                held.retain(|_, (_, lapses)| *lapses > at);
                Some(
                    ids.into_iter()
                        .filter_map(|id| held.get(&id).map(|(counters, _)| (id.clone(), *counters)))
                        .collect(),
                )
            }
        }
    }

    /// The API key `id`'s counters, if the cache holds them (uses not yet written back to its row).
    pub async fn peek_key_use(&self, id: &str) -> Option<KeyCounters> {
        match &self.backend {
            Backend::Redis(redis) => redis.peek_key_use(id).await,
            Backend::Memory(_) => {
                let at = std::time::Instant::now();
                lock(&self.key_uses.counters)
                    .get(id)
                    .filter(|(_, lapses)| *lapses > at)
                    .map(|(counters, _)| *counters)
            }
        }
    }

    /// Forgets the API key `id`'s counters: the next use reads them from its row.
    pub async fn forget_key_use(&self, id: &str) {
        match &self.backend {
            Backend::Redis(redis) => redis.forget_key_use(id).await,
            Backend::Memory(_) => {
                lock(&self.key_uses.counters).remove(id);
            }
        }
    }

    /// Whether the Redis circuit breaker is currently open, i.e. not yet closed again by a successful call
    /// (always false for memory).
    pub fn breaker_open(&self) -> bool {
        match &self.backend {
            Backend::Memory(_) => false,
            Backend::Redis(redis) => redis.breaker_open(),
        }
    }

    /// Redis calls attempted so far, trials and background retries included (always 0 for memory).
    pub fn redis_attempts(&self) -> u64 {
        match &self.backend {
            Backend::Memory(_) => 0,
            Backend::Redis(redis) => redis.attempts(),
        }
    }

    /// Entries held in process, expired ones not yet pruned included; `None` for Redis.
    pub fn entries_held(&self) -> Option<usize> {
        match &self.backend {
            Backend::Memory(memory) => Some(memory.len()),
            Backend::Redis(_) => None,
        }
    }

    /// "memory" or "redis", for start-up logs and health.
    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }
}

impl fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCache")
            .field("backend", &self.backend_name())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How long an entry for a session expiring at `expires_at` may live: never past that expiry, never longer than the
/// cache TTL. `None` when the session has less than [`MIN_ENTRY_TTL`] left.
fn entry_ttl(
    cache_ttl: Duration,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Duration> {
    let remaining = (expires_at - now).to_std().ok()?;
    (remaining >= MIN_ENTRY_TTL).then(|| remaining.min(cache_ttl))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn an_entry_lives_no_longer_than_the_cache_ttl() {
        let now = Utc::now();
        let ttl = entry_ttl(Duration::from_secs(300), now + TimeDelta::days(7), now);
        assert_eq!(ttl, Some(Duration::from_secs(300)));
    }

    #[test]
    fn an_entry_never_outlives_its_session() {
        let now = Utc::now();
        let ttl = entry_ttl(
            Duration::from_secs(300),
            now + TimeDelta::milliseconds(42_500),
            now,
        );
        assert_eq!(ttl, Some(Duration::from_millis(42_500)));
    }

    #[test]
    fn an_expired_or_nearly_expired_session_gets_no_entry() {
        let now = Utc::now();
        let ttl = Duration::from_secs(300);
        assert_eq!(entry_ttl(ttl, now - TimeDelta::seconds(1), now), None);
        assert_eq!(entry_ttl(ttl, now, now), None);
        assert_eq!(
            entry_ttl(ttl, now + TimeDelta::milliseconds(999), now),
            None
        );
    }

    #[test]
    fn the_tombstone_cannot_be_json() {
        assert!(!could_start_json(TOMBSTONE));
    }

    /// JSON texts start with whitespace, `{`, `[`, `"`, a digit, `-`, `t`, `f` or `n`.
    fn could_start_json(value: &str) -> bool {
        value.starts_with(|c: char| c.is_ascii_whitespace() || "{[\"-0123456789tfn".contains(c))
    }
}
