//! The sign-in challenge and trusted devices, in Better Auth's `verification` rows.
//!
//! A password sign-in of a user with a second factor opens no session: it makes a challenge, `2fa-<20 random>`
//! naming the user for ten minutes, with a `2fa-attempts-<challenge>` counter of wrong codes (five allowed). A browser
//! keeps the challenge in the signed `two_factor` cookie; a gRPC client keeps it itself. A device the user trusts is
//! a `trust-device-<32 random>` row naming the user for 30 days; the browser's `trust_device` cookie holds
//! `<HMAC-SHA256(secret, "<user id>!<row>")>!<row>`, renewed at each sign-in it spares.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use warden_common::AuthSecret;

use crate::{
    domain::{RANDOM_ALPHABET, UserRecord, now, random_string},
    error::AuthError,
    store::{Store, TRUSTED_DEVICE_PREFIX, Verification},
};

/// How long a sign-in challenge lives (Better Auth's `twoFactorCookieMaxAge`).
pub const CHALLENGE_LIFETIME: TimeDelta = TimeDelta::minutes(10);
/// How long a device stays trusted (Better Auth's `trustDeviceMaxAge`).
pub const TRUST_LIFETIME: TimeDelta = TimeDelta::days(30);
/// Wrong codes one challenge allows.
const CHALLENGE_ATTEMPTS: u32 = 5;
/// A challenge is `2fa-` and this many characters of Better Auth's random alphabet.
const CHALLENGE_LEN: usize = 20;

/// Whether `challenge` has the shape [`Challenges::open`] gives (and Better Auth's): a gRPC client's challenge is
/// whatever it sends, and no other `verification` row (a counter, a mailed code, a trusted device) may pass for one.
fn is_challenge(challenge: &str) -> bool {
    challenge.strip_prefix("2fa-").is_some_and(|rest| {
        rest.len() == CHALLENGE_LEN && rest.bytes().all(|b| RANDOM_ALPHABET.contains(&b))
    })
}

/// What a password sign-in of a user with a second factor gets.
pub enum SignInChallenge {
    /// The device is trusted: the session opens; the device's renewed token goes back to it.
    Trusted(TrustedDevice),
    /// A second factor is needed.
    Required {
        challenge: String,
        methods: Vec<&'static str>,
        /// A trusted-device token was presented and did not hold: the browser drops it.
        trust_refused: bool,
    },
}

/// A trusted device's token. No `Debug`: it is a credential.
pub struct TrustedDevice {
    pub token: String,
}

pub(super) struct Challenges<'a> {
    store: &'a Store,
    secret: &'a AuthSecret,
}

/// One try at a challenge: its counter is taken, and put back one higher on a wrong code.
pub(super) struct Attempt<'a> {
    store: &'a Store,
    identifier: String,
    count: u32,
    expires_at: DateTime<Utc>,
}

impl Attempt<'_> {
    pub async fn failed(self) {
        let count = self.count + 1;
        self.rearm(count).await;
    }

    /// The check could not be made (not the caller's fault): the try does not count.
    pub async fn restore(self) {
        let count = self.count;
        self.rearm(count).await;
    }

    async fn rearm(self, count: u32) {
        let row = Verification {
            identifier: self.identifier,
            value: count.to_string(),
            expires_at: self.expires_at,
        };
        if let Err(error) = self.store.insert_verification(&row, now()).await {
            tracing::warn!(%error, "could not count a second-factor attempt");
        }
    }
}

fn attempts_identifier(challenge: &str) -> String {
    format!("2fa-attempts-{challenge}")
}

impl<'a> Challenges<'a> {
    pub fn new(store: &'a Store, secret: &'a AuthSecret) -> Self {
        Self { store, secret }
    }

    /// A new challenge for `user_id`.
    pub async fn open(&self, user_id: &str) -> Result<String, AuthError> {
        let id = format!("2fa-{}", random_string(CHALLENGE_LEN));
        let now = now();
        let expires_at = now + CHALLENGE_LIFETIME;
        for (identifier, value) in [
            (id.clone(), user_id.to_owned()),
            (attempts_identifier(&id), "0".to_owned()),
        ] {
            let row = Verification {
                identifier,
                value,
                expires_at,
            };
            self.store.insert_verification(&row, now).await?;
        }
        Ok(id)
    }

    /// The user a live challenge names.
    pub async fn user_of(&self, challenge: &str) -> Result<UserRecord, AuthError> {
        if !is_challenge(challenge) {
            return Err(AuthError::InvalidTwoFactorCookie);
        }
        let row = self
            .store
            .find_verification(challenge)
            .await?
            .filter(|row| row.expires_at > now())
            .ok_or(AuthError::InvalidTwoFactorCookie)?;
        self.store
            .find_user_by_id(&row.value)
            .await?
            .ok_or(AuthError::InvalidTwoFactorCookie)
    }

    /// Takes one try: `INVALID_TWO_FACTOR_COOKIE` when the challenge has no counter left (used, or raced), and
    /// after five wrong codes the challenge ends (`TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE`).
    pub async fn begin_attempt(&self, challenge: &str) -> Result<Attempt<'a>, AuthError> {
        if !is_challenge(challenge) {
            return Err(AuthError::InvalidTwoFactorCookie);
        }
        let identifier = attempts_identifier(challenge);
        let taken = self
            .store
            .consume_verification(&identifier)
            .await?
            .ok_or(AuthError::InvalidTwoFactorCookie)?;
        let count = taken.value.parse::<u32>().unwrap_or(CHALLENGE_ATTEMPTS);
        if count >= CHALLENGE_ATTEMPTS {
            self.store.consume_verification(challenge).await?;
            return Err(AuthError::TooManyAttemptsRequestNewCode);
        }
        Ok(Attempt {
            store: self.store,
            identifier,
            count,
            expires_at: taken.expires_at,
        })
    }

    /// Ends a challenge that was met; only one request gets to.
    pub async fn consume(&self, challenge: &str, user_id: &str) -> Result<(), AuthError> {
        let consumed = self.store.consume_verification(challenge).await?;
        self.store
            .consume_verification(&attempts_identifier(challenge))
            .await?;
        match consumed {
            Some(row) if row.value == user_id && row.expires_at > now() => Ok(()),
            _ => Err(AuthError::InvalidTwoFactorCookie),
        }
    }

    /// Trusts a device for 30 days: its token.
    pub async fn trust(&self, user_id: &str) -> Result<String, AuthError> {
        let row_id = format!("{TRUSTED_DEVICE_PREFIX}{}", random_string(32));
        let row = Verification {
            identifier: row_id.clone(),
            value: user_id.to_owned(),
            expires_at: now() + TRUST_LIFETIME,
        };
        self.store.insert_verification(&row, now()).await?;
        let mac = URL_SAFE_NO_PAD.encode(
            mac(self.secret.expose(), user_id, &row_id)
                .finalize()
                .into_bytes(),
        );
        Ok(format!("{mac}!{row_id}"))
    }

    /// Whether `presented` is a live trusted device of `user_id`: its HMAC checks (in constant time, under any of
    /// the secrets) and its row still names the user.
    pub async fn is_trusted(&self, presented: &str, user_id: &str) -> Result<bool, AuthError> {
        let mut parts = presented.split('!');
        let (Some(token), Some(row_id)) = (parts.next(), parts.next()) else {
            return Ok(false);
        };
        let Ok(expected) = URL_SAFE_NO_PAD.decode(token) else {
            return Ok(false);
        };
        let signed = self
            .secret
            .expose_all()
            .any(|(_, key)| mac(key, user_id, row_id).verify_slice(&expected).is_ok());
        if !signed || !row_id.starts_with(TRUSTED_DEVICE_PREFIX) {
            return Ok(false);
        }
        Ok(self
            .store
            .find_verification(row_id)
            .await?
            .is_some_and(|row| row.value == user_id && row.expires_at > now()))
    }

    /// Replaces a trusted device's row and token by new ones, another 30 days.
    pub async fn renew_trust(&self, presented: &str, user_id: &str) -> Result<String, AuthError> {
        if let Some(row_id) = presented.split('!').nth(1) {
            self.store.consume_verification(row_id).await?;
        }
        self.trust(user_id).await
    }
}

fn mac(key: &str, user_id: &str, row_id: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(format!("{user_id}!{row_id}").as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_challenge_passes_for_one() {
        assert!(is_challenge(&format!(
            "2fa-{}",
            random_string(CHALLENGE_LEN)
        )));
        assert!(is_challenge("2fa-abcdefghij0123456789"));
        for other in [
            "2fa-attempts-2fa-abcdefghij0123456789",
            "2fa-otp-2fa-abcdefghij0123456789",
            "trust-device-abcdefghij0123456789abcdefghij01",
            "2fa-abcdefghij012345678",
            "2fa-abcdefghij01234567890",
            "2fa-abcdefghij012345678!",
            "",
        ] {
            assert!(!is_challenge(other), "{other}");
        }
    }
}
