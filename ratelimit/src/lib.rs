//! Abuse limits for Warden: Better Auth's rate-limit rules and a capped back-off after failed attempts.
//!
//! [`rules`] says how many requests a path allows per window (Better Auth's defaults: 100 per 10 s, 3 per 10 s on
//! sign-in/sign-up/password and email changes, 3 per 60 s on mail-sending paths). [`RateLimiter`] applies them to
//! `<client>|<path>` keys. [`Backoff`] is the policy for failed attempts on one account: a few free, then an
//! exponentially growing, capped wait. Both count in a [`Store`]: Redis when configured, so every replica sees the
//! same counts (each key changed atomically by one Lua script, and every key carries a TTL), or an in-process,
//! bounded map otherwise. A limiter must never take the service down: Redis calls have short timeouts, a circuit
//! breaker stops calling a failing Redis, and while it cannot be reached each process counts for itself.

mod backoff;
mod decision;
mod limiter;
pub mod rules;
mod store;

pub use backoff::Backoff;
pub use decision::Decision;
pub use limiter::{RateLimiter, client_key};
pub use rules::{Rule, Rules};
pub use store::{RedisOptions, Store, StoreError};
