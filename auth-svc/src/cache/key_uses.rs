//! A key's uses, counted as the package counts them (remaining uses with refills; a rate-limit window that a request
//! more than a window after the last one restarts), but in the cache rather than in the `apikey` row: Redis shares
//! the counters between replicas and decides atomically (a Lua script doing exactly what [`take`] does), the
//! in-process cache does it under a lock. The counters are written back to the row periodically (the api-key
//! core's write-back), and read from it again when the cache has forgotten them.

use serde::{Deserialize, Serialize};

use crate::store::ApiKeyRow;

/// A key's counters, as the row holds them: milliseconds since the epoch, `-1` for none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Uses left; `-1`: unlimited.
    pub remaining: i64,
    /// Requests counted in the current window.
    pub count: i64,
    /// The last request counted (the package's `lastRequest`).
    pub last: i64,
    /// The last refill of `remaining` (the package's `lastRefillAt`).
    pub refill: i64,
}

/// What limits a key, from its row and the deployment's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub created: i64,
    /// Milliseconds between refills and the uses a refill gives; 0: none.
    pub refill_interval: i64,
    pub refill_amount: i64,
    /// Whether requests are counted against a window at all (the deployment's switch and the key's).
    pub rate_limited: bool,
    /// The window in milliseconds and the requests it allows; `-1` when the key has none (nothing is counted).
    pub window: i64,
    pub max: i64,
}

/// Why a use was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No use left (and no refill due).
    UsedUp,
    /// Over the rate limit: milliseconds until the window ends.
    RateLimited { try_again_in: i64 },
}

fn millis(at: Option<chrono::DateTime<chrono::Utc>>) -> i64 {
    at.map_or(-1, |at| at.timestamp_millis())
}

impl Counters {
    /// The counters the row holds.
    pub fn of(row: &ApiKeyRow) -> Self {
        Self {
            remaining: row.remaining.map_or(-1, i64::from),
            count: row.request_count.map_or(0, i64::from),
            last: millis(row.last_request),
            refill: millis(row.last_refill_at),
        }
    }
}

impl Limits {
    /// The row's limits; `rate_limiting` is the deployment's switch (API_KEY_RATE_LIMIT).
    pub fn of(row: &ApiKeyRow, rate_limiting: bool) -> Self {
        Self {
            created: row.created_at.timestamp_millis(),
            refill_interval: row.refill_interval.map_or(0, i64::from),
            refill_amount: row.refill_amount.map_or(0, i64::from),
            rate_limited: rate_limiting && row.rate_limit_enabled != Some(false),
            window: row.rate_limit_time_window.map_or(-1, i64::from),
            max: row.rate_limit_max.map_or(-1, i64::from),
        }
    }

    /// Whether a use changes nothing but the time of the last request: no uses to count, no window.
    pub fn counts_nothing(&self) -> bool {
        !self.rate_limited || self.window < 0 || self.max < 0
    }
}

/// One use at `now`: the counters after it, or why it is refused (then nothing changes). A refused request takes no
/// use; otherwise the package's order and arithmetic.
pub fn take(counters: Counters, limits: &Limits, now: i64) -> Result<Counters, Refusal> {
    let mut next = counters;
    if next.remaining >= 0 {
        if limits.refill_interval > 0 && limits.refill_amount > 0 {
            let since = if next.refill < 0 {
                limits.created
            } else {
                next.refill
            };
            if now - since > limits.refill_interval {
                next.remaining = limits.refill_amount;
                next.refill = now;
            }
        }
        if next.remaining <= 0 {
            return Err(Refusal::UsedUp);
        }
        next.remaining -= 1;
    }
    if !limits.rate_limited {
        next.last = now;
    } else if limits.window >= 0 && limits.max >= 0 {
        if next.last < 0 || now - next.last > limits.window {
            next.count = 1;
        } else if next.count >= limits.max {
            return Err(Refusal::RateLimited {
                try_again_in: limits.window - (now - next.last),
            });
        } else {
            next.count += 1;
        }
        next.last = now;
    }
    Ok(next)
}

/// The Redis side of [`take`], atomic: KEYS[1] the key's counters (a hash), KEYS[2] the set of keys whose counters
/// await writing back. ARGV: now, the row's counters (remaining, count, last, refill: used when the hash is gone),
/// the limits (created, refill interval, refill amount, rate limited 0/1, window, max), the hash's TTL in ms, the
/// key's id. Returns `{0, remaining, count, last, refill}`, `{1}` (used up) or `{2, try_again_in}`.
pub const TAKE_SCRIPT: &str = r"
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then
  redis.call('HSET', k, 'remaining', ARGV[2], 'count', ARGV[3], 'last', ARGV[4], 'refill', ARGV[5])
end
local now = tonumber(ARGV[1])
local remaining = tonumber(redis.call('HGET', k, 'remaining'))
local count = tonumber(redis.call('HGET', k, 'count'))
local last = tonumber(redis.call('HGET', k, 'last'))
local refill = tonumber(redis.call('HGET', k, 'refill'))
local created = tonumber(ARGV[6])
local interval = tonumber(ARGV[7])
local amount = tonumber(ARGV[8])
if remaining >= 0 then
  if interval > 0 and amount > 0 then
    local since = refill
    if since < 0 then since = created end
    if now - since > interval then
      remaining = amount
      refill = now
    end
  end
  if remaining <= 0 then return {1} end
  remaining = remaining - 1
end
local limited = ARGV[9] == '1'
local window = tonumber(ARGV[10])
local max = tonumber(ARGV[11])
if not limited then
  last = now
elseif window >= 0 and max >= 0 then
  if last < 0 or now - last > window then
    count = 1
  elseif count >= max then
    return {2, window - (now - last)}
  else
    count = count + 1
  end
  last = now
end
redis.call('HSET', k, 'remaining', remaining, 'count', count, 'last', last, 'refill', refill)
redis.call('PEXPIRE', k, ARGV[12])
redis.call('SADD', KEYS[2], ARGV[13])
return {0, remaining, count, last, refill}
";

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn fresh(remaining: i64) -> Counters {
        Counters {
            remaining,
            count: 0,
            last: -1,
            refill: -1,
        }
    }

    fn limits(window: i64, max: i64) -> Limits {
        Limits {
            created: 0,
            refill_interval: 0,
            refill_amount: 0,
            rate_limited: true,
            window,
            max,
        }
    }

    #[test]
    fn the_default_limit_allows_ten_a_day_then_says_when_to_come_back() {
        let limits = limits(DAY, 10);
        let mut counters = fresh(-1);
        for call in 0..10 {
            counters = take(counters, &limits, 1_000 + call).unwrap();
        }
        assert_eq!(counters.count, 10);
        assert_eq!(
            take(counters, &limits, 2_009),
            Err(Refusal::RateLimited {
                try_again_in: DAY - 1_000
            })
        );
        // More than a window after the last request, counting starts again.
        let later = take(counters, &limits, 1_009 + DAY + 1).unwrap();
        assert_eq!(later.count, 1);
    }

    #[test]
    fn remaining_uses_run_out_and_refill_after_their_interval() {
        let mut limits = limits(-1, -1);
        let counters = take(fresh(1), &limits, 10).unwrap();
        assert_eq!(counters.remaining, 0);
        assert_eq!(take(counters, &limits, 20), Err(Refusal::UsedUp));
        limits.refill_interval = 1_000;
        limits.refill_amount = 5;
        assert_eq!(take(counters, &limits, 900), Err(Refusal::UsedUp));
        let refilled = take(counters, &limits, 1_001).unwrap();
        assert_eq!((refilled.remaining, refilled.refill), (4, 1_001));
    }

    #[test]
    fn a_refused_request_takes_no_use_and_an_unlimited_key_records_only_its_last_request() {
        let limits = limits(60_000, 1);
        let first = take(fresh(5), &limits, 0).unwrap();
        assert_eq!(first.remaining, 4);
        assert!(take(first, &limits, 1).is_err());
        let mut off = limits;
        off.rate_limited = false;
        let recorded = take(fresh(-1), &off, 42).unwrap();
        assert_eq!((recorded.count, recorded.last), (0, 42));
        assert!(off.counts_nothing());
    }
}
