//! The account lifecycle, as Better Auth's core endpoints define it: profile and email changes ([`profile`]),
//! password changes and resets ([`password`]), email verification ([`verification`]) and account deletion
//! ([`deletion`]). Plain async functions on [`Account`] that know nothing of tonic; mail goes through [`Emails`],
//! which signs the stateless verification tokens of [`token`] and never blocks on delivery.

mod deletion;
mod deletion_by_mail;
mod emails;
mod password;
mod profile;
mod update_session;
mod verification;
mod verify_password;

pub mod token;

use std::time::Duration;

use crate::{
    core::sessions::throttle::SignInThrottle,
    core::sessions::{Resolved, Sessions},
    domain::SessionToken,
    error::AuthError,
    passwords::{Hasher, Verdict},
    store::Store,
};

pub use deletion::DeleteUser;
pub use emails::Emails;
pub use password::{ChangePassword, PasswordChanged};
pub use profile::ProfileUpdate;
pub use update_session::SessionFields;
pub use verification::Verified;

/// Answers that must not reveal whether an address has an account take at least this long, whatever work they did.
pub const UNIFORM_ANSWER_FLOOR: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct Account {
    store: Store,
    sessions: Sessions,
    hasher: Hasher,
    emails: Emails,
    throttle: SignInThrottle,
    /// `DELETE_USER_VERIFICATION`: deletion is confirmed from a mailed link.
    delete_user_verification: bool,
}

impl Account {
    pub fn new(store: Store, sessions: Sessions, hasher: Hasher, emails: Emails) -> Self {
        Self {
            store,
            sessions,
            hasher,
            emails,
            throttle: SignInThrottle::disabled(),
            delete_user_verification: false,
        }
    }

    /// Password checks made with a session (changing the password, deleting the account) count against the same
    /// per-account back-off as sign-ins, so a stolen session cannot be used to guess the password.
    pub fn with_throttle(mut self, throttle: SignInThrottle) -> Self {
        self.throttle = throttle;
        self
    }

    /// `DELETE_USER_VERIFICATION`: `delete-user` mails a link to `delete-user/callback` instead of deleting at once.
    pub fn with_delete_user_verification(mut self, on: bool) -> Self {
        self.delete_user_verification = on;
        self
    }

    /// Checks `password` against the user's credential: `CREDENTIAL_ACCOUNT_NOT_FOUND` without one,
    /// `INVALID_PASSWORD` when it does not match. Returns the credential account's id.
    async fn check_password(
        &self,
        user: &crate::domain::UserRecord,
        password: &crate::domain::Password,
    ) -> Result<String, AuthError> {
        let Some((account_id, stored)) = self.store.find_credential(&user.id).await? else {
            return Err(AuthError::CredentialAccountNotFound);
        };
        let email = crate::domain::Email::parse(&user.email);
        if let Some(email) = &email {
            self.throttle.attempt(email).await?;
        }
        let verdict = self
            .hasher
            .verify(password, &stored)
            .await
            .map_err(AuthError::Internal)?;
        if verdict == Verdict::Mismatch {
            return Err(AuthError::InvalidPassword);
        }
        if let Some(email) = &email {
            self.throttle.succeeded(email).await;
        }
        Ok(account_id)
    }

    /// The caller's live session, or `UNAUTHORIZED`.
    async fn session(&self, token: Option<&SessionToken>) -> Result<Resolved, AuthError> {
        self.optional_session(token)
            .await?
            .ok_or(AuthError::Unauthorized)
    }

    /// The caller's live session if the credential is one; no credential (or a dead one) is no session.
    async fn optional_session(
        &self,
        token: Option<&SessionToken>,
    ) -> Result<Option<Resolved>, AuthError> {
        match token {
            Some(token) => self.sessions.resolve(token, false).await,
            None => Ok(None),
        }
    }
}

/// Runs `work`, then waits until `floor` has passed since it started, so every outcome takes as long.
pub(crate) async fn at_least<T>(floor: Duration, work: impl Future<Output = T>) -> T {
    let started = tokio::time::Instant::now();
    let out = work.await;
    tokio::time::sleep_until(started + floor).await;
    out
}
