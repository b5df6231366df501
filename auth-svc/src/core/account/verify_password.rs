//! `verify-password`: whether the signed-in user's password is the one given, for an app to confirm a sensitive
//! step. Better Auth answers `INVALID_PASSWORD` both for a wrong password and for a user without one; Warden does the
//! same work in both cases (a dummy verify when there is no credential), so the timing tells neither apart, and every
//! check counts toward the per-account back-off that sign-ins use, so a stolen session cannot guess at leisure.

use super::Account;
use crate::{
    domain::{Email, Password, SessionToken, UserRecord},
    error::AuthError,
};

impl Account {
    /// `UNAUTHORIZED` without a live session, `PASSWORD_TOO_LONG` over 128 characters, `INVALID_PASSWORD` unless the
    /// password is the user's.
    pub async fn verify_password(
        &self,
        token: Option<&SessionToken>,
        password: Password,
    ) -> Result<(), AuthError> {
        let current = self.session(token).await?;
        self.confirm_password(&current.user, &password).await
    }

    /// `PASSWORD_TOO_LONG` over 128 characters, `INVALID_PASSWORD` unless `password` is `user`'s, as Better Auth's
    /// `validatePassword`: a user without a password gets the same answer after the same work. Counts toward the
    /// per-account back-off. For the plugins' routes that ask for the password again (two-factor).
    pub async fn confirm_password(
        &self,
        user: &UserRecord,
        password: &Password,
    ) -> Result<(), AuthError> {
        password.check_candidate()?;
        match self.check_password(user, password).await {
            Ok(_) => Ok(()),
            Err(AuthError::CredentialAccountNotFound) => {
                if let Some(email) = Email::parse(&user.email) {
                    self.throttle.attempt(&email).await?;
                }
                self.hasher
                    .dummy_verify(password)
                    .await
                    .map_err(AuthError::Internal)?;
                Err(AuthError::InvalidPassword)
            }
            Err(other) => Err(other),
        }
    }
}
