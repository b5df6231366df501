//! The session cache, against the real Redis at 127.0.0.1:6379 (a key prefix per test) and in process: the same
//! rules for both backends, then Redis outages (nothing listening, a server that never answers, a link that drops and
//! comes back).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_svc::cache::{CacheError, Lookup, RedisOptions, SessionCache};
use chrono::{TimeDelta, Utc};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use uuid::Uuid;
use warden_common::token::hash_token;

const REDIS_ADDR: &str = "127.0.0.1:6379";
const TOMBSTONE: &str = "!revoked";

// ---------------------------------------------------------------------------------------------------------------
// Helpers

fn new_hash() -> String {
    hash_token(&Uuid::now_v7().to_string())
}

fn unique_prefix() -> String {
    format!("test:cache:{}:", Uuid::now_v7().simple())
}

fn in_a_week() -> chrono::DateTime<Utc> {
    Utc::now() + TimeDelta::days(7)
}

fn redis_cache(ttl: Duration) -> SessionCache {
    SessionCache::redis(&format!("redis://{REDIS_ADDR}"), &unique_prefix(), ttl).expect("valid URL")
}

/// A cache whose prefix the test knows, to look at the stored keys directly.
fn redis_cache_with_prefix(ttl: Duration) -> (SessionCache, String) {
    let prefix = unique_prefix();
    let cache =
        SessionCache::redis(&format!("redis://{REDIS_ADDR}"), &prefix, ttl).expect("valid URL");
    (cache, prefix)
}

fn fast_breaker() -> RedisOptions {
    RedisOptions {
        cooldown: Duration::from_millis(800),
        revoke_retry_initial_delay: Duration::from_millis(50),
        revoke_retry_max_delay: Duration::from_millis(200),
        ..RedisOptions::default()
    }
}

async fn direct_redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("redis://{REDIS_ADDR}"))
        .expect("valid URL")
        .get_multiplexed_async_connection()
        .await
        .expect("the test Redis is running")
}

async fn stored(key: &str) -> Option<String> {
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut direct_redis().await)
        .await
        .expect("GET")
}

async fn pttl(key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut direct_redis().await)
        .await
        .expect("PTTL")
}

/// An address with nothing listening on it.
async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("redis://{addr}")
}

/// A server that accepts connections and never says a word.
async fn silent_server() -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (format!("redis://{addr}"), task)
}

/// A TCP proxy to the test Redis that can be switched off (cutting live connections, refusing new ones) and on.
struct Proxy {
    addr: SocketAddr,
    enabled: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: JoinHandle<()>,
}

impl Proxy {
    async fn start(enabled: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let enabled = Arc::new(AtomicBool::new(enabled));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let acceptor = tokio::spawn({
            let enabled = enabled.clone();
            let links = links.clone();
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !enabled.load(Ordering::SeqCst) {
                        continue; // dropping `inbound` closes it
                    }
                    let link = tokio::spawn(async move {
                        if let Ok(mut upstream) = TcpStream::connect(REDIS_ADDR).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut upstream).await;
                        }
                    });
                    links.lock().unwrap().push(link);
                }
            }
        });
        Self {
            addr,
            enabled,
            links,
            acceptor,
        }
    }

    fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    fn switch_off(&self) {
        self.enabled.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn switch_on(&self) {
        self.enabled.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.switch_off();
    }
}

/// Runs one scenario against both backends: `mod $name { memory(), redis() }`.
macro_rules! on_both_backends {
    ($name:ident, ttl = $ttl:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn memory() {
                super::scenarios::$name(SessionCache::memory($ttl)).await;
            }

            #[tokio::test]
            async fn redis() {
                super::scenarios::$name(redis_cache($ttl)).await;
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------------------------
// The same rules on both backends

mod scenarios {
    use super::*;

    pub async fn a_filled_session_is_a_hit_and_an_unknown_one_a_miss(cache: SessionCache) {
        let (known, unknown) = (new_hash(), new_hash());

        cache.fill(&known, r#"{"id":"s1"}"#, in_a_week()).await;

        assert_eq!(
            cache.get(&known).await,
            Lookup::Hit(r#"{"id":"s1"}"#.into())
        );
        assert_eq!(cache.get(&unknown).await, Lookup::Miss);
    }

    pub async fn fill_never_overwrites_a_cached_value(cache: SessionCache) {
        let hash = new_hash();

        cache.fill(&hash, "first", in_a_week()).await;
        cache.fill(&hash, "second", in_a_week()).await;

        assert_eq!(cache.get(&hash).await, Lookup::Hit("first".into()));
    }

    pub async fn a_refill_racing_a_revocation_leaves_the_session_revoked(cache: SessionCache) {
        let hash = new_hash();

        // A reader misses and reads the database...
        assert_eq!(cache.get(&hash).await, Lookup::Miss);
        // ...meanwhile the session is revoked...
        cache.revoke(std::slice::from_ref(&hash)).await;
        // ...and the reader refills with what it read before the revocation.
        cache.fill(&hash, "stale", in_a_week()).await;

        assert_eq!(cache.get(&hash).await, Lookup::Revoked);
    }

    pub async fn revocation_replaces_cached_sessions(cache: SessionCache) {
        let (a, b, untouched) = (new_hash(), new_hash(), new_hash());
        for hash in [&a, &b, &untouched] {
            cache.fill(hash, "session", in_a_week()).await;
        }

        cache.revoke(&[a.clone(), b.clone()]).await;

        assert_eq!(cache.get(&a).await, Lookup::Revoked);
        assert_eq!(cache.get(&b).await, Lookup::Revoked);
        assert_eq!(cache.get(&untouched).await, Lookup::Hit("session".into()));
    }

    pub async fn update_overwrites_a_value_and_creates_a_missing_one(cache: SessionCache) {
        let (cached, absent) = (new_hash(), new_hash());
        cache.fill(&cached, "old", in_a_week()).await;

        cache.update(&cached, "new", in_a_week()).await;
        cache.update(&absent, "fresh", in_a_week()).await;

        assert_eq!(cache.get(&cached).await, Lookup::Hit("new".into()));
        assert_eq!(cache.get(&absent).await, Lookup::Hit("fresh".into()));
    }

    pub async fn update_never_overwrites_a_tombstone(cache: SessionCache) {
        let hash = new_hash();
        cache.fill(&hash, "session", in_a_week()).await;
        cache.revoke(std::slice::from_ref(&hash)).await;

        cache.update(&hash, "extended", in_a_week()).await;

        assert_eq!(cache.get(&hash).await, Lookup::Revoked);
    }

    pub async fn an_already_expired_session_is_not_stored(cache: SessionCache) {
        let hash = new_hash();

        cache
            .fill(&hash, "expired", Utc::now() - TimeDelta::seconds(5))
            .await;
        assert_eq!(cache.get(&hash).await, Lookup::Miss);

        cache
            .update(&hash, "expired", Utc::now() - TimeDelta::seconds(5))
            .await;
        assert_eq!(cache.get(&hash).await, Lookup::Miss);
    }

    pub async fn updating_to_an_expired_session_removes_the_cached_value(cache: SessionCache) {
        let hash = new_hash();
        cache.fill(&hash, "live", in_a_week()).await;

        cache
            .update(&hash, "over", Utc::now() - TimeDelta::seconds(1))
            .await;

        assert_eq!(cache.get(&hash).await, Lookup::Miss);
    }

    pub async fn an_entry_disappears_when_its_session_expires(cache: SessionCache) {
        let hash = new_hash();
        cache
            .fill(
                &hash,
                "short-lived",
                Utc::now() + TimeDelta::milliseconds(1_500),
            )
            .await;
        assert_eq!(cache.get(&hash).await, Lookup::Hit("short-lived".into()));

        tokio::time::sleep(Duration::from_millis(1_800)).await;

        assert_eq!(cache.get(&hash).await, Lookup::Miss);
    }

    /// Run with a cache TTL of 400 ms.
    pub async fn entries_and_tombstones_disappear_after_the_cache_ttl(cache: SessionCache) {
        let (filled, updated, revoked) = (new_hash(), new_hash(), new_hash());
        cache.fill(&filled, "a", in_a_week()).await;
        cache.update(&updated, "b", in_a_week()).await;
        cache.revoke(std::slice::from_ref(&revoked)).await;
        assert_eq!(cache.get(&filled).await, Lookup::Hit("a".into()));
        assert_eq!(cache.get(&revoked).await, Lookup::Revoked);

        tokio::time::sleep(Duration::from_millis(700)).await;

        assert_eq!(cache.get(&filled).await, Lookup::Miss);
        assert_eq!(cache.get(&updated).await, Lookup::Miss);
        assert_eq!(cache.get(&revoked).await, Lookup::Miss);
    }

    pub async fn revoking_nothing_is_harmless(cache: SessionCache) {
        let hash = new_hash();
        cache.fill(&hash, "session", in_a_week()).await;

        cache.revoke(&[]).await;

        assert_eq!(cache.get(&hash).await, Lookup::Hit("session".into()));
    }
}

const MINUTE: Duration = Duration::from_secs(60);

on_both_backends!(
    a_filled_session_is_a_hit_and_an_unknown_one_a_miss,
    ttl = MINUTE
);
on_both_backends!(fill_never_overwrites_a_cached_value, ttl = MINUTE);
on_both_backends!(
    a_refill_racing_a_revocation_leaves_the_session_revoked,
    ttl = MINUTE
);
on_both_backends!(revocation_replaces_cached_sessions, ttl = MINUTE);
on_both_backends!(
    update_overwrites_a_value_and_creates_a_missing_one,
    ttl = MINUTE
);
on_both_backends!(update_never_overwrites_a_tombstone, ttl = MINUTE);
on_both_backends!(an_already_expired_session_is_not_stored, ttl = MINUTE);
on_both_backends!(
    updating_to_an_expired_session_removes_the_cached_value,
    ttl = MINUTE
);
on_both_backends!(an_entry_disappears_when_its_session_expires, ttl = MINUTE);
on_both_backends!(
    entries_and_tombstones_disappear_after_the_cache_ttl,
    ttl = Duration::from_millis(400)
);
on_both_backends!(revoking_nothing_is_harmless, ttl = MINUTE);

// ---------------------------------------------------------------------------------------------------------------
// Redis: what is stored, and for how long

#[tokio::test]
async fn redis_keys_are_prefixed_session_hashes_and_tombstones_are_not_json() {
    let (cache, prefix) = redis_cache_with_prefix(MINUTE);
    let (live, revoked) = (new_hash(), new_hash());

    cache.fill(&live, r#"{"id":"s1"}"#, in_a_week()).await;
    cache.revoke(std::slice::from_ref(&revoked)).await;

    assert_eq!(
        stored(&format!("{prefix}session:{live}")).await.as_deref(),
        Some(r#"{"id":"s1"}"#)
    );
    assert_eq!(
        stored(&format!("{prefix}session:{revoked}"))
            .await
            .as_deref(),
        Some(TOMBSTONE)
    );
    assert!(serde_json::from_str::<serde_json::Value>(TOMBSTONE).is_err());
}

#[tokio::test]
async fn redis_ttl_is_the_cache_ttl_for_a_long_session() {
    let (cache, prefix) = redis_cache_with_prefix(Duration::from_secs(300));
    let (filled, updated, revoked) = (new_hash(), new_hash(), new_hash());

    cache.fill(&filled, "a", in_a_week()).await;
    cache.update(&updated, "b", in_a_week()).await;
    cache.revoke(std::slice::from_ref(&revoked)).await;

    for hash in [&filled, &updated, &revoked] {
        let ttl = pttl(&format!("{prefix}session:{hash}")).await;
        assert!(
            (295_000..=300_000).contains(&ttl),
            "PTTL {ttl} should be about 300 s"
        );
    }
}

#[tokio::test]
async fn redis_ttl_never_runs_past_the_session_expiry() {
    let (cache, prefix) = redis_cache_with_prefix(Duration::from_secs(300));
    let (filled, updated) = (new_hash(), new_hash());
    let expires_at = Utc::now() + TimeDelta::seconds(30);

    cache.fill(&filled, "a", expires_at).await;
    cache.update(&updated, "b", expires_at).await;

    for hash in [&filled, &updated] {
        let ttl = pttl(&format!("{prefix}session:{hash}")).await;
        assert!(
            (25_000..=30_000).contains(&ttl),
            "PTTL {ttl} should be at most the 30 s left"
        );
    }
}

#[tokio::test]
async fn an_update_keeps_the_tombstone_and_its_ttl() {
    let (cache, prefix) = redis_cache_with_prefix(Duration::from_secs(300));
    let hash = new_hash();
    let key = format!("{prefix}session:{hash}");
    cache.revoke(std::slice::from_ref(&hash)).await;

    cache
        .update(&hash, "extended", Utc::now() + TimeDelta::seconds(20))
        .await;

    assert_eq!(stored(&key).await.as_deref(), Some(TOMBSTONE));
    assert!(
        pttl(&key).await > 200_000,
        "the tombstone keeps its own TTL"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Redis: construction

#[tokio::test]
async fn lookups_made_together_share_one_round_trip_and_each_gets_its_own_answer() {
    let cache = redis_cache(MINUTE);
    let hashes: Vec<String> = (0..40).map(|_| new_hash()).collect();
    for (i, hash) in hashes.iter().enumerate().step_by(2) {
        cache.fill(hash, &format!("session {i}"), in_a_week()).await;
    }
    cache.revoke(std::slice::from_ref(&hashes[1])).await;
    let before = cache.redis_attempts();

    let found = futures::future::join_all(hashes.iter().map(|hash| cache.get(hash))).await;

    for (i, lookup) in found.into_iter().enumerate() {
        let expected = match i {
            1 => Lookup::Revoked,
            i if i % 2 == 0 => Lookup::Hit(format!("session {i}")),
            _ => Lookup::Miss,
        };
        assert_eq!(lookup, expected, "lookup {i}");
    }
    assert_eq!(
        cache.redis_attempts() - before,
        1,
        "one MGET answers all 40"
    );
    assert_eq!(
        cache.get(&hashes[0]).await,
        Lookup::Hit("session 0".into()),
        "a lookup on its own is answered too"
    );
    assert_eq!(cache.redis_attempts() - before, 2);
}

#[tokio::test]
async fn more_lookups_than_one_batch_holds_go_out_in_several_and_each_gets_its_own_answer() {
    let cache = redis_cache(MINUTE);
    let hashes: Vec<String> = (0..300).map(|_| new_hash()).collect();
    for (i, hash) in hashes.iter().enumerate().step_by(3) {
        cache.fill(hash, &format!("session {i}"), in_a_week()).await;
    }
    let before = cache.redis_attempts();

    let found = futures::future::join_all(hashes.iter().map(|hash| cache.get(hash))).await;

    for (i, lookup) in found.into_iter().enumerate() {
        let expected = if i % 3 == 0 {
            Lookup::Hit(format!("session {i}"))
        } else {
            Lookup::Miss
        };
        assert_eq!(lookup, expected, "lookup {i}");
    }
    assert_eq!(
        cache.redis_attempts() - before,
        3,
        "300 lookups in batches of at most 128"
    );
}

#[test]
fn a_batch_whose_runtime_stopped_before_sending_it_strands_no_later_lookup() {
    let cache = redis_cache(MINUTE);
    let hash = new_hash();
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let stopped = runtime();
    stopped.block_on(async {
        let lookup = std::pin::pin!(cache.get(&hash));
        assert!(
            futures::poll!(lookup).is_pending(),
            "it waits for its batch"
        );
    });
    drop(stopped);

    runtime().block_on(async {
        cache.fill(&hash, "session", in_a_week()).await;
        let found = tokio::time::timeout(Duration::from_secs(5), cache.get(&hash))
            .await
            .expect("answered, not left waiting on the batch of a stopped runtime");
        assert_eq!(found, Lookup::Hit("session".into()));
    });
}

#[test]
fn a_malformed_redis_url_is_refused_without_echoing_it() {
    let error =
        SessionCache::redis("redis://:hunter2@[::1", "warden:", MINUTE).expect_err("malformed URL");

    assert!(matches!(error, CacheError::InvalidUrl { .. }));
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[test]
fn building_a_redis_cache_needs_neither_redis_nor_a_runtime() {
    let started = Instant::now();

    let cache =
        SessionCache::redis("redis://127.0.0.1:1", "warden:", MINUTE).expect("well-formed URL");

    assert!(started.elapsed() < Duration::from_millis(100));
    assert!(!cache.breaker_open());
    assert_eq!(cache.redis_attempts(), 0);
    assert_eq!(cache.backend_name(), "redis");
}

#[test]
fn cache_futures_are_send() {
    fn assert_send<T: Send>(_: T) {}
    let cache = SessionCache::memory(MINUTE);
    assert_send(cache.get("h"));
    assert_send(cache.fill("h", "v", Utc::now()));
    assert_send(cache.update("h", "v", Utc::now()));
    assert_send(cache.revoke(&[]));
}

// ---------------------------------------------------------------------------------------------------------------
// Redis outages

#[tokio::test]
async fn with_nothing_listening_the_breaker_opens_and_then_calls_skip_redis() {
    let cache = SessionCache::redis_with(
        &closed_port_url().await,
        &unique_prefix(),
        MINUTE,
        fast_breaker(),
    )
    .expect("URL");
    let hash = new_hash();

    for _ in 0..3 {
        assert_eq!(cache.get(&hash).await, Lookup::Miss);
    }
    assert!(cache.breaker_open());
    assert_eq!(cache.redis_attempts(), 3);

    let started = Instant::now();
    for _ in 0..200 {
        assert_eq!(cache.get(&hash).await, Lookup::Miss);
        cache.fill(&hash, "session", in_a_week()).await;
        cache.update(&hash, "session", in_a_week()).await;
    }
    assert_eq!(
        cache.redis_attempts(),
        3,
        "an open breaker makes no Redis calls"
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "took {:?}",
        started.elapsed()
    );

    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(cache.get(&hash).await, Lookup::Miss);
    assert_eq!(cache.redis_attempts(), 4, "one trial after the cooldown");
    assert!(cache.breaker_open(), "the failed trial keeps it open");
    assert_eq!(cache.get(&hash).await, Lookup::Miss);
    assert_eq!(
        cache.redis_attempts(),
        4,
        "no second trial within the new cooldown"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_costs_a_bounded_wait_not_the_clients_default() {
    let (url, server) = silent_server().await;
    let cache =
        SessionCache::redis_with(&url, &unique_prefix(), MINUTE, fast_breaker()).expect("URL");
    let hash = new_hash();

    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(cache.get(&hash).await, Lookup::Miss);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }
    assert!(cache.breaker_open());

    let started = Instant::now();
    cache.revoke(std::slice::from_ref(&hash)).await;
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "an open breaker defers the revocation at once"
    );
    server.abort();
}

#[tokio::test]
async fn the_breaker_closes_once_a_trial_reaches_redis_again() {
    let proxy = Proxy::start(false).await;
    let prefix = unique_prefix();
    let cache =
        SessionCache::redis_with(&proxy.url(), &prefix, MINUTE, fast_breaker()).expect("URL");
    let hash = new_hash();
    for _ in 0..3 {
        assert_eq!(cache.get(&hash).await, Lookup::Miss);
    }
    assert!(cache.breaker_open());
    // Long enough for the client's own reconnect attempts to have failed too.
    tokio::time::sleep(Duration::from_millis(400)).await;

    proxy.switch_on();
    let _: () = redis::cmd("SET")
        .arg(format!("{prefix}session:{hash}"))
        .arg("session")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut direct_redis().await)
        .await
        .expect("SET");
    tokio::time::sleep(Duration::from_millis(500)).await;

    assert_eq!(
        cache.get(&hash).await,
        Lookup::Hit("session".into()),
        "the trial reads Redis"
    );
    assert!(!cache.breaker_open());
}

#[tokio::test]
async fn a_revocation_redis_missed_is_written_once_redis_is_back() {
    let proxy = Proxy::start(true).await;
    let prefix = unique_prefix();
    let cache =
        SessionCache::redis_with(&proxy.url(), &prefix, MINUTE, fast_breaker()).expect("URL");
    let hash = new_hash();
    let key = format!("{prefix}session:{hash}");
    cache.fill(&hash, "session", in_a_week()).await;
    assert_eq!(stored(&key).await.as_deref(), Some("session"));

    proxy.switch_off();
    let started = Instant::now();
    cache.revoke(std::slice::from_ref(&hash)).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        stored(&key).await.as_deref(),
        Some("session"),
        "Redis was out of reach"
    );

    proxy.switch_on();
    let deadline = Instant::now() + Duration::from_secs(5);
    while stored(&key).await.as_deref() != Some(TOMBSTONE) {
        assert!(
            Instant::now() < deadline,
            "the background retry never wrote the tombstone"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        pttl(&key).await > 50_000,
        "the tombstone lives for the cache TTL"
    );
    assert_eq!(cache.get(&hash).await, Lookup::Revoked);
}

// ---------------------------------------------------------------------------------------------------------------
// The in-process cache stays bounded

#[tokio::test]
async fn the_memory_cache_prunes_expired_entries_as_it_goes() {
    let cache = SessionCache::memory(Duration::from_millis(200));
    for _ in 0..500 {
        cache.fill(&new_hash(), "session", in_a_week()).await;
    }
    assert_eq!(cache.entries_held(), Some(500));

    tokio::time::sleep(Duration::from_millis(300)).await;
    cache.fill(&new_hash(), "session", in_a_week()).await;

    assert_eq!(cache.entries_held(), Some(1));
}

#[tokio::test]
async fn a_full_memory_cache_stops_caching_sessions_but_still_records_revocations() {
    let cache = SessionCache::memory_with_capacity(MINUTE, 3);
    let hashes: Vec<String> = (0..4).map(|_| new_hash()).collect();
    for hash in &hashes {
        cache.fill(hash, "session", in_a_week()).await;
    }
    assert_eq!(
        cache.get(&hashes[3]).await,
        Lookup::Miss,
        "no room for a fourth"
    );

    let revoked = new_hash();
    cache.revoke(std::slice::from_ref(&revoked)).await;
    cache.update(&hashes[0], "updated", in_a_week()).await;

    assert_eq!(cache.get(&revoked).await, Lookup::Revoked);
    assert_eq!(
        cache.get(&hashes[0]).await,
        Lookup::Hit("updated".into()),
        "an existing entry can still change"
    );
    assert_eq!(cache.entries_held(), Some(4));
}

#[test]
fn the_memory_cache_has_no_breaker() {
    let cache = SessionCache::memory(MINUTE);
    assert!(!cache.breaker_open());
    assert_eq!(cache.redis_attempts(), 0);
    assert_eq!(cache.backend_name(), "memory");
}
