//! The Redis store against a real Redis: counts shared between stores (replicas), TTLs on every key, and a Redis
//! that does not answer costing a bounded delay and never a refusal.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use warden_ratelimit::{Backoff, Decision, RateLimiter, RedisOptions, Rule, Rules, Store};

fn store(prefix: &str) -> Store {
    Store::redis(&warden_testkit::redis_url(), prefix).unwrap()
}

async fn redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(warden_testkit::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn keys(prefix: &str) -> Vec<String> {
    redis().await.keys(format!("{prefix}*")).await.unwrap()
}

#[tokio::test]
async fn the_fourth_sign_in_within_ten_seconds_is_refused_with_the_time_left() {
    let limiter = RateLimiter::new(store(&warden_testkit::redis_prefix()), Rules::better_auth());
    let (client, other): (IpAddr, IpAddr) = (
        "203.0.113.9".parse().unwrap(),
        "203.0.113.10".parse().unwrap(),
    );
    for _ in 0..3 {
        assert!(limiter.check(client, "/sign-in/email").await.is_allowed());
    }
    let denied = limiter.check(client, "/sign-in/email").await;
    assert!(
        matches!(denied.retry_after_secs(), Some(9 | 10)),
        "{denied:?}"
    );
    // Another client, and another path of the same client, have their own counts.
    assert!(limiter.check(other, "/sign-in/email").await.is_allowed());
    assert!(limiter.check(client, "/get-session").await.is_allowed());
}

#[tokio::test]
async fn two_replicas_sharing_a_prefix_share_one_count() {
    let prefix = warden_testkit::redis_prefix();
    let (a, b) = (store(&prefix), store(&prefix));
    let rule = Rule::new(Duration::from_secs(10), 3);
    assert!(a.hit("client|/sign-in/email", rule).await.is_allowed());
    assert!(b.hit("client|/sign-in/email", rule).await.is_allowed());
    assert!(a.hit("client|/sign-in/email", rule).await.is_allowed());
    assert!(!b.hit("client|/sign-in/email", rule).await.is_allowed());
    assert!(!a.hit("client|/sign-in/email", rule).await.is_allowed());
}

#[tokio::test]
async fn the_count_starts_again_once_a_window_passes_without_an_allowed_request() {
    let store = store(&warden_testkit::redis_prefix());
    let rule = Rule::new(Duration::from_millis(300), 2);
    assert!(store.hit("k", rule).await.is_allowed());
    assert!(store.hit("k", rule).await.is_allowed());
    let Decision::Deny { retry_after } = store.hit("k", rule).await else {
        panic!("third request allowed");
    };
    assert!(retry_after <= Duration::from_millis(300));
    tokio::time::sleep(retry_after + Duration::from_millis(50)).await;
    assert!(store.hit("k", rule).await.is_allowed());
}

#[tokio::test]
async fn every_key_written_carries_a_ttl_no_longer_than_its_window() {
    let prefix = warden_testkit::redis_prefix();
    let store = store(&prefix);
    store
        .hit(
            "1.2.3.4|/sign-in/email",
            Rule::new(Duration::from_secs(10), 3),
        )
        .await;
    store
        .hit(
            "1.2.3.4|/request-password-reset",
            Rule::new(Duration::from_secs(60), 3),
        )
        .await;
    store.attempt("account", &Backoff::asvs()).await;
    let mut found = keys(&prefix).await;
    found.sort();
    assert_eq!(
        found,
        [
            format!("{prefix}backoff:account"),
            format!("{prefix}rl:1.2.3.4|/request-password-reset"),
            format!("{prefix}rl:1.2.3.4|/sign-in/email"),
        ]
    );
    let mut conn = redis().await;
    for (key, longest) in [
        (&found[0], 3_600_000),
        (&found[1], 60_000),
        (&found[2], 10_000),
    ] {
        let ttl: i64 = conn.pttl(key).await.unwrap();
        assert!(ttl > 0 && ttl <= longest, "{key}: {ttl}");
    }
}

#[tokio::test]
async fn the_back_off_is_shared_and_a_success_clears_it() {
    let prefix = warden_testkit::redis_prefix();
    let (a, b) = (store(&prefix), store(&prefix));
    let backoff = Backoff::with_base(Duration::from_millis(200));
    for replica in [&a, &b, &a, &b, &a] {
        assert!(replica.attempt("acct", &backoff).await.is_allowed());
    }
    let Decision::Deny { retry_after } = b.attempt("acct", &backoff).await else {
        panic!("sixth attempt allowed");
    };
    assert!(retry_after <= Duration::from_millis(200), "{retry_after:?}");
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    assert!(a.attempt("acct", &backoff).await.is_allowed());
    // Six recorded now: the next waits twice as long.
    let Decision::Deny { retry_after } = a.attempt("acct", &backoff).await else {
        panic!("attempt inside the back-off allowed");
    };
    assert!(retry_after > Duration::from_millis(200), "{retry_after:?}");
    b.clear("acct").await;
    assert!(a.attempt("acct", &backoff).await.is_allowed());
    assert!(keys(&prefix).await.len() == 1);
}

#[tokio::test]
async fn an_unreachable_redis_costs_a_bounded_delay_then_counts_in_process() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    drop(listener);
    let options = RedisOptions {
        failure_threshold: 2,
        cooldown: Duration::from_secs(60),
        ..RedisOptions::default()
    };
    let store = Store::redis_with(&url, "p:", options).unwrap();
    let rule = Rule::new(Duration::from_secs(10), 3);
    let started = Instant::now();
    for _ in 0..3 {
        assert!(store.hit("k", rule).await.is_allowed());
    }
    assert!(
        !store.hit("k", rule).await.is_allowed(),
        "still limited, in process"
    );
    assert!(store.breaker_open());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // With the breaker open, Redis is not even tried.
    let started = Instant::now();
    for _ in 0..100 {
        store.hit("other", rule).await;
    }
    assert!(started.elapsed() < Duration::from_millis(100));
}

#[tokio::test]
async fn a_redis_that_accepts_but_never_answers_is_given_up_on_quickly() {
    // Accepts connections and never replies.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let store = Store::redis(&url, "p:").unwrap();
    let started = Instant::now();
    let decision = store.attempt("acct", &Backoff::asvs()).await;
    assert!(decision.is_allowed());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    held.abort();
}
