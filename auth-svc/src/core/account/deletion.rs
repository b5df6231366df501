//! `delete-user`: with the password, with a deletion token Better Auth mailed, or with a fresh session.

use super::Account;
use crate::{
    domain::{Password, SessionToken, now},
    error::AuthError,
};

/// `delete-user`'s request; empty strings count as absent, as in Better Auth. No `Debug`: it holds a password.
pub struct DeleteUser {
    pub password: Option<String>,
    pub token: Option<String>,
}

impl Account {
    /// Deletes the caller's account (sessions, accounts and tasks go with it) and revokes every session.
    pub async fn delete_user(
        &self,
        token: Option<&SessionToken>,
        input: DeleteUser,
    ) -> Result<(), AuthError> {
        let current = self.session(token).await?;
        let user = current.user;
        let password = input.password.filter(|password| !password.is_empty());
        let deletion_token = input.token.filter(|token| !token.is_empty());
        if let Some(password) = password.as_ref() {
            let password =
                Password::candidate(password.clone()).map_err(|_| AuthError::PasswordTooLong)?;
            self.check_password(&user, &password).await?;
        }
        if let Some(deletion_token) = deletion_token {
            // Better Auth's `sendDeleteAccountVerification` rows; Warden honours the ones a Better Auth database holds.
            let found = self
                .store
                .consume_verification(&format!("delete-account-{deletion_token}"))
                .await?;
            if !found.is_some_and(|row| row.value == user.id && row.expires_at > now()) {
                return Err(AuthError::InvalidToken);
            }
        } else if password.is_none()
            && !self
                .sessions
                .lifetimes()
                .is_fresh(current.session.created_at, now())
        {
            return Err(AuthError::SessionExpired);
        }
        if let Some(gone) = self.store.remove_user(&user.id).await? {
            self.sessions.forget(&gone).await;
        }
        tracing::info!(user.id = %user.id, "user deleted their account");
        Ok(())
    }
}
