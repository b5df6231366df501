//! auth-svc's public keys, cached by `kid`.
//!
//! A `kid` the cache does not know triggers a fetch from `AuthService.GetJwks`, but at most one fetch per interval
//! (five seconds by default) however many requests ask, so tokens with made-up `kid`s cannot flood auth-svc; a
//! request that meets the limit waits for the window to reopen once, then takes what the next fetch brought. A key
//! set older than [`MAX_AGE`] is refetched on the next use, so keys auth-svc stops serving do not linger.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::DecodingKey;
use tonic::transport::Channel;
use warden_proto::auth::v1::{self as pb, auth_service_client::AuthServiceClient};

use super::AuthMetrics;
use crate::error::TaskError;

/// How long a fetched key set is trusted before it is refreshed on the next use.
pub const MAX_AGE: Duration = Duration::from_secs(600);

pub struct JwksCache {
    client: AuthServiceClient<Channel>,
    keys: RwLock<KeySet>,
    /// Held while fetching; records when the last fetch began.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    min_interval: Duration,
    metrics: Arc<AuthMetrics>,
}

#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

impl KeySet {
    fn fresh(&self) -> bool {
        self.fetched_at.is_some_and(|at| at.elapsed() < MAX_AGE)
    }
}

impl JwksCache {
    pub fn new(
        client: AuthServiceClient<Channel>,
        min_interval: Duration,
        metrics: Arc<AuthMetrics>,
    ) -> Self {
        Self {
            client,
            keys: RwLock::default(),
            last_fetch: tokio::sync::Mutex::new(None),
            min_interval,
            metrics,
        }
    }

    /// The key named `kid`, fetching the key set first when `kid` is unknown or the set is old (rate-limited).
    /// `Ok(None)`: no such key. `Err`: unknown `kid` and auth-svc could not be asked.
    ///
    /// A request that meets the rate limit waits once for the window to reopen instead of failing, so a key that
    /// auth-svc has just started signing with is found even while made-up `kid`s keep the window busy.
    pub async fn key(&self, kid: &str) -> Result<Option<DecodingKey>, TaskError> {
        let mut waited = false;
        loop {
            if let (Some(key), true) = self.lookup(kid) {
                return Ok(Some(key));
            }
            let mut last_fetch = self.last_fetch.lock().await;
            // Another request may have fetched while this one waited.
            let (cached, fresh) = self.lookup(kid);
            if cached.is_some() && fresh {
                return Ok(cached);
            }
            let since_last = last_fetch.map(|at| at.elapsed());
            if let Some(since) = since_last.filter(|since| *since < self.min_interval) {
                if waited {
                    return Ok(cached);
                }
                drop(last_fetch);
                tokio::time::sleep(self.min_interval - since).await;
                waited = true;
                continue;
            }
            *last_fetch = Some(Instant::now());
            return match self.fetch().await {
                Ok(fetched) => {
                    let key = fetched.get(kid).cloned();
                    let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
                    *keys = KeySet {
                        by_kid: fetched,
                        fetched_at: Some(Instant::now()),
                    };
                    Ok(key)
                }
                Err(error) => match cached {
                    Some(key) => {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "refreshing the JWKS failed; keeping the cached keys"
                        );
                        Ok(Some(key))
                    }
                    None => Err(TaskError::Unavailable(error.context("fetching the JWKS"))),
                },
            };
        }
    }

    fn lookup(&self, kid: &str) -> (Option<DecodingKey>, bool) {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        (keys.by_kid.get(kid).cloned(), keys.fresh())
    }

    async fn fetch(&self) -> anyhow::Result<HashMap<String, DecodingKey>> {
        self.metrics.count_jwks_fetch();
        let response = self
            .client
            .clone()
            .get_jwks(pb::GetJwksRequest {})
            .await?
            .into_inner();
        let mut keys = HashMap::new();
        for jwk in response.keys {
            match decoding_key(&jwk) {
                Some(key) => {
                    keys.insert(jwk.kid, key);
                }
                None => {
                    tracing::warn!(kid = %jwk.kid, "ignoring a JWK that is not an Ed25519 public key")
                }
            }
        }
        Ok(keys)
    }
}

/// Only Ed25519 public keys with a 32-byte `x` are kept.
fn decoding_key(jwk: &pb::Jwk) -> Option<DecodingKey> {
    let ed25519 = jwk.kty == "OKP"
        && jwk.crv == "Ed25519"
        && (jwk.alg.is_empty() || jwk.alg == "EdDSA")
        && !jwk.kid.is_empty();
    let x = URL_SAFE_NO_PAD.decode(&jwk.x).ok()?;
    (ed25519 && x.len() == 32)
        .then(|| DecodingKey::from_ed_components(&jwk.x).ok())
        .flatten()
}
