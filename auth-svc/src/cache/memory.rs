//! The in-process cache used without Redis: a map behind a mutex, with the same rules as Redis (TTL per entry,
//! fill only if absent, tombstones that nothing but expiry removes).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{Lookup, entry_ttl};

pub(crate) struct MemoryCache {
    ttl: Duration,
    max_entries: usize,
    prune_every: Duration,
    entries: Mutex<Entries>,
}

struct Entries {
    map: HashMap<String, Entry>,
    next_prune: Instant,
}

struct Entry {
    /// `None` is a tombstone.
    value: Option<String>,
    expires: Instant,
}

impl Entry {
    fn is_live(&self, now: Instant) -> bool {
        now < self.expires
    }
}

impl MemoryCache {
    pub(crate) fn new(ttl: Duration, max_entries: usize) -> Self {
        // Every entry expires within `ttl`, so sweeping twice per TTL keeps at most about 1.5 TTLs' worth of entries.
        let prune_every = (ttl / 2).clamp(Duration::from_millis(100), Duration::from_secs(30));
        Self {
            ttl,
            max_entries,
            prune_every,
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                next_prune: Instant::now() + prune_every,
            }),
        }
    }

    pub(crate) fn get(&self, token_hash: &str) -> Lookup {
        let now = Instant::now();
        let mut entries = self.lock();
        match entries.map.get(token_hash) {
            Some(entry) if entry.is_live(now) => match &entry.value {
                Some(value) => Lookup::Hit(value.clone()),
                None => Lookup::Revoked,
            },
            Some(_) => {
                entries.map.remove(token_hash);
                Lookup::Miss
            }
            None => Lookup::Miss,
        }
    }

    pub(crate) fn fill(&self, token_hash: &str, value: &str, expires_at: DateTime<Utc>) {
        let Some(ttl) = entry_ttl(self.ttl, expires_at, Utc::now()) else {
            return;
        };
        let now = Instant::now();
        let mut entries = self.lock();
        entries.prune_if_due(now, self.prune_every);
        let live = entries
            .map
            .get(token_hash)
            .is_some_and(|entry| entry.is_live(now));
        if live || !entries.has_room_for(token_hash, self.max_entries) {
            return;
        }
        let entry = Entry {
            value: Some(value.to_owned()),
            expires: now + ttl,
        };
        entries.map.insert(token_hash.to_owned(), entry);
    }

    pub(crate) fn update(&self, token_hash: &str, value: &str, expires_at: DateTime<Utc>) {
        let ttl = entry_ttl(self.ttl, expires_at, Utc::now());
        let now = Instant::now();
        let mut entries = self.lock();
        entries.prune_if_due(now, self.prune_every);
        let tombstoned = entries
            .map
            .get(token_hash)
            .is_some_and(|entry| entry.is_live(now) && entry.value.is_none());
        if tombstoned {
            return;
        }
        match ttl {
            Some(ttl) if entries.has_room_for(token_hash, self.max_entries) => {
                let entry = Entry {
                    value: Some(value.to_owned()),
                    expires: now + ttl,
                };
                entries.map.insert(token_hash.to_owned(), entry);
            }
            // No room, or the session is (nearly) over: an older value must not outlive this write.
            _ => {
                entries.map.remove(token_hash);
            }
        }
    }

    /// Tombstones are written even when the cache is full: they are what makes a revocation stick.
    pub(crate) fn revoke(&self, token_hashes: &[String]) {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.prune_if_due(now, self.prune_every);
        for hash in token_hashes {
            entries.map.insert(
                hash.clone(),
                Entry {
                    value: None,
                    expires: now + self.ttl,
                },
            );
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // Each operation leaves the map consistent before it can panic, so a poisoned lock is still usable.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Entries {
    fn prune_if_due(&mut self, now: Instant, prune_every: Duration) {
        if now >= self.next_prune {
            self.map.retain(|_, entry| entry.is_live(now));
            self.next_prune = now + prune_every;
        }
    }

    fn has_room_for(&self, token_hash: &str, max_entries: usize) -> bool {
        self.map.len() < max_entries || self.map.contains_key(token_hash)
    }
}
