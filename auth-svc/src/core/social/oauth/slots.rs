//! The per-URL locks the discovery and key-set caches sit behind.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use url::Url;

/// One async lock per cached URL, so one request fetches while the others wait for its answer. URLs come from
/// settings and from their discovery documents, so the map stays as small as the configuration.
pub(super) struct Slots<T>(Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<T>>>>>);

impl<T: Default> Slots<T> {
    pub(super) fn get(&self, url: &Url) -> Arc<tokio::sync::Mutex<T>> {
        let mut slots = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(url.as_str().to_owned()).or_default().clone()
    }
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<T> Clone for Slots<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}
