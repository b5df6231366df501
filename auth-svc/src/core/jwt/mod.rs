//! JWT signing keys, kept as Better Auth's jwt plugin keeps them, and the tokens they sign.
//!
//! Keys are Ed25519 rows of the `jwks` table in Better Auth's [`format`](mod@format), so a database Better Auth
//! used keeps its keys and the tokens they signed. The newest unexpired key signs; it is created on first need and
//! held decrypted in memory as a [`Signer`], re-read from the database at most once per refresh interval, so a
//! [`rotate`] done elsewhere (the `rotate-keys` command, another replica) is picked up on its own. Rotated keys stay
//! published in the JWKS for [`GRACE_PERIOD`] after they expire, so tokens they signed keep verifying until they
//! run out.
//!
//! A session read (`GetSession`) carries a JWT for its user, signed for that read. Signing was most of a cached
//! session read's CPU, and a user's reads within one second would all sign the very same bytes: the claims are the
//! user's fields and the second (`iat`, `exp`), and Ed25519 signatures are deterministic. So the last token signed for
//! each user is handed out again while the current key, the user's fields and the second are all the same as when it
//! was signed: exactly the token signing anew would give, at the cost of a lookup.

pub mod format;
pub mod signer;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex as SyncMutex},
    time::Duration,
};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use tokio::{sync::Mutex, time::Instant};
use warden_common::{AuthSecret, settings::PublicUrl};

use crate::{
    domain::{UserRecord, now},
    error::AuthError,
    store::{KeyRow, Store},
};
pub use format::FormatError;
pub use signer::{Claims, Signer, TOKEN_LIFETIME_SECS};

/// How long an expired key stays in the JWKS, as Better Auth's default `gracePeriod` (30 days).
pub const GRACE_PERIOD: TimeDelta = TimeDelta::days(30);

/// At most this many users' last tokens are kept for reuse; past it the ones from earlier seconds are forgotten.
const REUSE_CAPACITY: usize = 16_384;

/// How often a running service looks for a newer signing key by default.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("reading or writing the jwks table")]
    Store(#[from] sea_orm::DbErr),
    #[error("jwks key {kid} cannot be used")]
    Unusable {
        kid: String,
        #[source]
        cause: FormatError,
    },
    #[error("signing a JWT")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

impl From<KeyError> for AuthError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Store(error) => error.into(),
            other => Self::Internal(other.into()),
        }
    }
}

/// One public key of the JWKS, as Better Auth's `/jwks` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: String,
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub alg: String,
}

/// Issues JWTs and lists the JWKS. Cheap to clone; clones share the key held in memory.
#[derive(Clone)]
pub struct Keys {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    secret: AuthSecret,
    issuer: String,
    refresh: Duration,
    /// The two-factor plugin is served: its `twoFactorEnabled` is part of the user, and so of the claims.
    two_factor: bool,
    /// The key in use; read on every signature, so behind a lock that is never held across an await.
    held: SyncMutex<Option<Held>>,
    /// Taken by the one task that re-reads the key from the database, so others do not pile onto it.
    refreshing: Mutex<()>,
    /// The last token issued for each user's session reads, by user id.
    issued: SyncMutex<HashMap<String, Issued>>,
}

struct Issued {
    user: UserRecord,
    kid: String,
    /// The second it was signed in, its `iat`.
    iat: i64,
    jwt: Arc<str>,
}

#[derive(Clone)]
struct Held {
    signer: Arc<Signer>,
    expires_at: Option<DateTime<Utc>>,
    checked: Instant,
}

impl Keys {
    /// `base_url` is the issuer and audience of every token.
    pub fn new(store: Store, secret: AuthSecret, base_url: &PublicUrl, refresh: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                secret,
                issuer: base_url.as_str().to_owned(),
                refresh,
                two_factor: false,
                held: SyncMutex::new(None),
                refreshing: Mutex::new(()),
                issued: SyncMutex::new(HashMap::new()),
            }),
        }
    }

    /// Serves the two-factor plugin's field in the claims, as Better Auth's jwt plugin signs the whole user. Call
    /// before the keys are shared.
    pub fn with_two_factor(mut self, on: bool) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.two_factor = on;
        }
        self
    }

    fn claims(&self, user: &UserRecord, now: DateTime<Utc>) -> Claims {
        let mut claims = Claims::new(user, &self.inner.issuer, now);
        if self.inner.two_factor {
            claims.two_factor_enabled = Some(user.two_factor_enabled.unwrap_or(false));
        }
        claims
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// A JWT for `user`, valid for [`TOKEN_LIFETIME_SECS`] from now.
    pub async fn issue(&self, user: &UserRecord) -> Result<String, KeyError> {
        let signer = self.signer().await?;
        let claims = self.claims(user, Utc::now());
        Ok(signer.sign(&claims)?)
    }

    /// A JWT for a session read of `user`, as [`Self::issue`] would sign it now: the one already signed by the current
    /// key for the same user fields within the same second when there is one, else a new one.
    pub async fn issue_for_session(&self, user: &UserRecord) -> Result<Arc<str>, KeyError> {
        let signer = self.signer().await?;
        let now = Utc::now();
        {
            let issued = lock(&self.inner.issued);
            if let Some(last) = issued.get(&user.id)
                && last.iat == now.timestamp()
                && last.kid == signer.kid()
                && last.user == *user
            {
                return Ok(last.jwt.clone());
            }
        }
        let jwt: Arc<str> = signer.sign(&self.claims(user, now))?.into();
        let mut issued = lock(&self.inner.issued);
        if issued.len() >= REUSE_CAPACITY {
            forget_stale(&mut issued, now.timestamp());
        }
        issued.insert(
            user.id.clone(),
            Issued {
                user: user.clone(),
                kid: signer.kid().to_owned(),
                iat: now.timestamp(),
                jwt: jwt.clone(),
            },
        );
        Ok(jwt)
    }

    /// The published keys, newest first; creates the first key if there is no current one.
    pub async fn jwks(&self) -> Result<Vec<PublicKey>, KeyError> {
        let now = now();
        let store = &self.inner.store;
        let mut rows = store.keys_live_since(now - GRACE_PERIOD).await?;
        if !rows.iter().any(|row| signs_at(row, now)) {
            store
                .create_key_if_none(format::generate(&self.inner.secret, now), now)
                .await?;
            rows = store.keys_live_since(now - GRACE_PERIOD).await?;
        }
        Ok(rows.iter().filter_map(published).collect())
    }

    /// The key to sign with: the one held, unless it is due for a check or has expired.
    async fn signer(&self) -> Result<Arc<Signer>, KeyError> {
        if let Some(signer) = self.held_if_fresh() {
            return Ok(signer);
        }
        let _refreshing = self.inner.refreshing.lock().await;
        // Another task may have refreshed the key while this one waited.
        if let Some(signer) = self.held_if_fresh() {
            return Ok(signer);
        }
        let now = now();
        let held = lock(&self.inner.held).clone();
        let row = match self.current_row(now).await {
            Ok(row) => row,
            Err(error) => match held {
                // The database being away must not stop signing while the key held is still good.
                Some(current) if current.expires_at.is_none_or(|at| at > now) => {
                    tracing::warn!(error = %error, "could not look for a newer signing key");
                    if let Some(held) = lock(&self.inner.held).as_mut() {
                        held.checked = Instant::now();
                    }
                    return Ok(current.signer);
                }
                _ => return Err(error),
            },
        };
        let same = held
            .filter(|current| current.signer.kid() == row.id)
            .map(|current| current.signer);
        let signer = match same {
            Some(signer) => signer,
            None => {
                let key = format::signing_key(&self.inner.secret, &row).map_err(|cause| {
                    KeyError::Unusable {
                        kid: row.id.clone(),
                        cause,
                    }
                })?;
                Arc::new(Signer::new(row.id.clone(), &key))
            }
        };
        *lock(&self.inner.held) = Some(Held {
            signer: signer.clone(),
            expires_at: row.expires_at,
            checked: Instant::now(),
        });
        Ok(signer)
    }

    /// The key held, when it was checked within the refresh interval and has not expired.
    fn held_if_fresh(&self) -> Option<Arc<Signer>> {
        let held = lock(&self.inner.held);
        let current = held.as_ref()?;
        (current.checked.elapsed() < self.inner.refresh
            && current.expires_at.is_none_or(|at| at > now()))
        .then(|| current.signer.clone())
    }

    async fn current_row(&self, now: DateTime<Utc>) -> Result<KeyRow, KeyError> {
        let store = &self.inner.store;
        if let Some(row) = store.current_key(now).await? {
            return Ok(row);
        }
        let candidate = format::generate(&self.inner.secret, now);
        Ok(store.create_key_if_none(candidate, now).await?)
    }
}

/// Creates a new signing key and expires the current ones (they stay in the JWKS for [`GRACE_PERIOD`]). Returns the
/// new key's id (its `kid`). Running services switch to it within their refresh interval.
pub async fn rotate(store: &Store, secret: &AuthSecret) -> anyhow::Result<String> {
    let now = now();
    let row = format::generate(secret, now);
    store
        .rotate_keys(&row, now)
        .await
        .context("rotating the keys of the jwks table")?;
    Ok(row.id)
}

/// A lock whose holder cannot leave the data half-written (every critical section is a read or a single write),
/// so a panic elsewhere while it was held does not make it unusable.
fn lock<T>(mutex: &SyncMutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Forgets the tokens signed before `now`'s second, which can no longer be handed out, or all of them if none was.
fn forget_stale(issued: &mut HashMap<String, Issued>, now: i64) {
    issued.retain(|_, last| last.iat == now);
    if issued.len() >= REUSE_CAPACITY {
        issued.clear();
    }
}

/// Whether a row is a current EdDSA key at `now`, one that may sign.
fn signs_at(row: &KeyRow, now: DateTime<Utc>) -> bool {
    row.alg.as_deref().is_none_or(|alg| alg == format::ALG)
        && row.expires_at.is_none_or(|at| at > now)
}

/// The JWKS entry of a row; keys that are not Ed25519 (another issuer's) are left out.
fn published(row: &KeyRow) -> Option<PublicKey> {
    if row.alg.as_deref().is_some_and(|alg| alg != format::ALG) {
        return None;
    }
    match format::public_jwk(row) {
        Ok(jwk) => Some(PublicKey {
            kid: row.id.clone(),
            kty: jwk.kty,
            crv: jwk.crv,
            x: jwk.x,
            alg: format::ALG.to_owned(),
        }),
        Err(error) => {
            tracing::warn!(kid = %row.id, %error, "jwks row left out of the JWKS");
            None
        }
    }
}
