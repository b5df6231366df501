//! Failed sign-ins per account (OWASP ASVS: at most about 100 failures an hour), by a capped back-off rather than a
//! lock-out an attacker could keep a victim in: five attempts are free, then each waits 1 s, 2 s, 4 s … at most 36 s
//! after the last one. An attempt inside the wait is refused before the password is looked at; a success forgets
//! the failures. It runs the same for addresses with and without an account, so it tells nobody which exist.
//!
//! Counted in Redis when `REDIS_URL` is set (every replica sees the same attempts), in process otherwise.

use sha2::{Digest, Sha256};
use warden_ratelimit::{Backoff, Decision, Store};

use crate::domain::Email;
use crate::error::AuthError;

/// The back-off on sign-in attempts per email address. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SignInThrottle {
    /// None when abuse limits are off.
    store: Option<Store>,
    backoff: Backoff,
}

impl SignInThrottle {
    pub fn new(store: Store, backoff: Backoff) -> Self {
        Self {
            store: Some(store),
            backoff,
        }
    }

    pub fn disabled() -> Self {
        Self {
            store: None,
            backoff: Backoff::asvs(),
        }
    }

    /// Records an attempt on `email`, or refuses it with the time left while the back-off runs. The attempt counts
    /// as a failure until [`SignInThrottle::succeeded`], so concurrent guesses cannot share one gap.
    pub async fn attempt(&self, email: &Email) -> Result<(), AuthError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        match store.attempt(&key(email), &self.backoff).await {
            Decision::Allow => Ok(()),
            Decision::Deny { retry_after } => {
                tracing::info!(
                    retry_after_ms = retry_after.as_millis() as u64,
                    "sign-in refused inside the failed-attempt back-off"
                );
                Err(AuthError::TooManyRequests { retry_after })
            }
        }
    }

    /// The password was right: forget the failures.
    pub async fn succeeded(&self, email: &Email) {
        if let Some(store) = &self.store {
            store.clear(&key(email)).await;
        }
    }
}

impl Default for SignInThrottle {
    /// ASVS's back-off, counted in process.
    fn default() -> Self {
        Self::new(Store::memory(), Backoff::asvs())
    }
}

/// Addresses are kept hashed: the store need not hold who tried to sign in.
fn key(email: &Email) -> String {
    format!("sign-in:{}", hex::encode(Sha256::digest(email.as_str())))
}
