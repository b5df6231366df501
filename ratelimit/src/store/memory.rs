//! The in-process store: one map behind a mutex, each entry with its own expiry, swept as it goes.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::{Backoff, Decision, Rule};

/// How often expired entries are swept out.
const PRUNE_EVERY: Duration = Duration::from_secs(5);

pub(crate) struct MemoryStore {
    max_entries: usize,
    entries: Mutex<Entries>,
}

struct Entries {
    map: HashMap<String, Entry>,
    next_prune: Instant,
    /// Whether "full" was logged since the map last had room.
    warned_full: bool,
}

/// A count, when it was last raised, and when the entry stops mattering.
struct Entry {
    count: u32,
    last: Instant,
    expires: Instant,
}

impl MemoryStore {
    pub(crate) fn new(max_entries: usize) -> Self {
        Self {
            max_entries: max_entries.max(1),
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                next_prune: Instant::now() + PRUNE_EVERY,
                warned_full: false,
            }),
        }
    }

    pub(crate) fn hit(&self, key: &str, rule: Rule) -> Decision {
        self.hit_at(key, rule, Instant::now())
    }

    pub(crate) fn attempt(&self, key: &str, backoff: &Backoff) -> Decision {
        self.attempt_at(key, backoff, Instant::now())
    }

    pub(crate) fn remove(&self, key: &str) {
        self.lock().map.remove(key);
    }

    fn hit_at(&self, key: &str, rule: Rule, now: Instant) -> Decision {
        let mut entries = self.lock();
        match entries.live(key, now) {
            Some(entry) if entry.count >= rule.max => Decision::Deny {
                retry_after: entry.expires.saturating_duration_since(now),
            },
            Some(entry) => {
                entry.count += 1;
                entry.last = now;
                entry.expires = now + rule.window;
                Decision::Allow
            }
            None if rule.max == 0 => Decision::Deny {
                retry_after: rule.window,
            },
            None => {
                entries.insert(key, now, now + rule.window, self.max_entries);
                Decision::Allow
            }
        }
    }

    fn attempt_at(&self, key: &str, backoff: &Backoff, now: Instant) -> Decision {
        let mut entries = self.lock();
        match entries.live(key, now) {
            Some(entry) => {
                let ready = entry.last + backoff.wait(entry.count);
                if now < ready {
                    return Decision::Deny {
                        retry_after: ready - now,
                    };
                }
                entry.count = entry.count.saturating_add(1);
                entry.last = now;
                entry.expires = now + backoff.memory;
                Decision::Allow
            }
            None => {
                entries.insert(key, now, now + backoff.memory, self.max_entries);
                Decision::Allow
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().map.len()
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // Each operation leaves the map consistent before it could panic, so a poisoned lock is still usable.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Entries {
    /// The entry for `key` if it has not expired; an expired one is dropped.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        if now >= self.next_prune {
            self.prune(now);
        }
        if self.map.get(key).is_some_and(|entry| entry.expires <= now) {
            self.map.remove(key);
        }
        self.map.get_mut(key)
    }

    /// Starts a count of one. When the map is full even after a sweep, the request goes uncounted: a limiter that
    /// refused everyone new would be the outage it exists to prevent.
    fn insert(&mut self, key: &str, now: Instant, expires: Instant, max_entries: usize) {
        if self.map.len() >= max_entries {
            self.prune(now);
        }
        if self.map.len() >= max_entries {
            if !self.warned_full {
                tracing::warn!(
                    max_entries,
                    "rate-limit store full; new clients go uncounted until entries expire"
                );
                self.warned_full = true;
            }
            return;
        }
        let entry = Entry {
            count: 1,
            last: now,
            expires,
        };
        self.map.insert(key.to_owned(), entry);
    }

    fn prune(&mut self, now: Instant) {
        self.map.retain(|_, entry| entry.expires > now);
        self.next_prune = now + PRUNE_EVERY;
        self.warned_full = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn three_per_ten_seconds() -> Rule {
        Rule::new(10 * SECOND, 3)
    }

    #[test]
    fn the_fourth_request_within_the_window_is_refused_until_it_passes() {
        let store = MemoryStore::new(10);
        let rule = three_per_ten_seconds();
        let start = Instant::now();
        for second in 0..3 {
            let now = start + second * SECOND;
            assert_eq!(store.hit_at("k", rule, now), Decision::Allow);
        }
        let denied = store.hit_at("k", rule, start + 3 * SECOND);
        // Counted from the last allowed request, as Better Auth does.
        assert_eq!(
            denied,
            Decision::Deny {
                retry_after: 9 * SECOND
            }
        );
        assert_eq!(denied.retry_after_secs(), Some(9));
        assert!(!store.hit_at("k", rule, start + 11 * SECOND).is_allowed());
        assert!(store.hit_at("k", rule, start + 12 * SECOND).is_allowed());
    }

    #[test]
    fn refused_requests_do_not_extend_the_window() {
        let store = MemoryStore::new(10);
        let rule = three_per_ten_seconds();
        let start = Instant::now();
        for _ in 0..3 {
            store.hit_at("k", rule, start);
        }
        for second in 1..10 {
            assert!(
                !store
                    .hit_at("k", rule, start + second * SECOND)
                    .is_allowed()
            );
        }
        assert!(store.hit_at("k", rule, start + 10 * SECOND).is_allowed());
    }

    #[test]
    fn keys_are_counted_apart() {
        let store = MemoryStore::new(10);
        let rule = Rule::new(10 * SECOND, 1);
        let now = Instant::now();
        assert!(store.hit_at("a", rule, now).is_allowed());
        assert!(store.hit_at("b", rule, now).is_allowed());
        assert!(!store.hit_at("a", rule, now).is_allowed());
    }

    #[test]
    fn a_full_store_lets_new_keys_through_and_sweeps_expired_ones() {
        let store = MemoryStore::new(2);
        let rule = Rule::new(SECOND, 1);
        let start = Instant::now();
        assert!(store.hit_at("a", rule, start).is_allowed());
        assert!(store.hit_at("b", rule, start).is_allowed());
        // Full: "c" goes uncounted, so it is let through every time.
        assert!(store.hit_at("c", rule, start).is_allowed());
        assert!(store.hit_at("c", rule, start).is_allowed());
        assert_eq!(store.len(), 2);
        // Once "a" and "b" expire, "c" is counted again.
        let later = start + 2 * SECOND;
        assert!(store.hit_at("c", rule, later).is_allowed());
        assert!(!store.hit_at("c", rule, later).is_allowed());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn expired_entries_are_swept_even_if_never_asked_for_again() {
        let store = MemoryStore::new(100);
        let rule = Rule::new(SECOND, 5);
        let start = Instant::now();
        for key in 0..50 {
            store.hit_at(&key.to_string(), rule, start);
        }
        store.hit_at("late", rule, start + PRUNE_EVERY + SECOND);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn the_back_off_starts_after_five_attempts_and_doubles() {
        let store = MemoryStore::new(10);
        let backoff = Backoff::asvs();
        let start = Instant::now();
        for _ in 0..5 {
            assert!(store.attempt_at("acct", &backoff, start).is_allowed());
        }
        assert_eq!(
            store.attempt_at("acct", &backoff, start),
            Decision::Deny {
                retry_after: SECOND
            }
        );
        let t1 = start + SECOND;
        assert!(store.attempt_at("acct", &backoff, t1).is_allowed());
        assert_eq!(
            store.attempt_at("acct", &backoff, t1 + SECOND),
            Decision::Deny {
                retry_after: SECOND
            }
        );
        assert!(
            store
                .attempt_at("acct", &backoff, t1 + 2 * SECOND)
                .is_allowed()
        );
    }

    #[test]
    fn refused_attempts_do_not_push_the_back_off_further() {
        let store = MemoryStore::new(10);
        let backoff = Backoff::asvs();
        let start = Instant::now();
        for _ in 0..5 {
            store.attempt_at("acct", &backoff, start);
        }
        for ms in [100, 300, 900] {
            let now = start + Duration::from_millis(ms);
            assert!(!store.attempt_at("acct", &backoff, now).is_allowed());
        }
        assert!(
            store
                .attempt_at("acct", &backoff, start + SECOND)
                .is_allowed()
        );
    }

    #[test]
    fn a_success_or_an_hour_of_quiet_forgets_the_attempts() {
        let store = MemoryStore::new(10);
        let backoff = Backoff::asvs();
        let start = Instant::now();
        for _ in 0..6 {
            store.attempt_at("acct", &backoff, start);
        }
        store.remove("acct");
        assert!(store.attempt_at("acct", &backoff, start).is_allowed());
        for _ in 0..6 {
            store.attempt_at("other", &backoff, start);
        }
        let after_an_hour = start + backoff.memory;
        assert!(
            store
                .attempt_at("other", &backoff, after_an_hour)
                .is_allowed()
        );
        assert!(
            store
                .attempt_at("other", &backoff, after_an_hour)
                .is_allowed()
        );
    }
}
