//! `delete-user`: with the password, with a deletion token Better Auth mailed, or with a fresh session.

use super::Account;
use super::deletion_by_mail::deletion_identifier;
use crate::{
    domain::{LinkToken, Password, SessionToken, now},
    error::AuthError,
};

/// `delete-user`'s request; an empty password or token counts as absent, as in Better Auth.
pub struct DeleteUser {
    pub password: Option<Password>,
    pub token: Option<LinkToken>,
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
        let DeleteUser {
            password,
            token: deletion_token,
        } = input;
        if let Some(password) = password.as_ref() {
            password.check_candidate()?;
            self.check_password(&user, password).await?;
        }
        if let Some(deletion_token) = deletion_token {
            // Better Auth's `sendDeleteAccountVerification` rows; Warden honours the ones a Better Auth database holds.
            let found = self
                .store
                .consume_verification(&deletion_identifier(deletion_token.expose()))
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
            crate::core::api_key::owner_changed(&self.store, self.sessions.cache(), &user.id).await;
        }
        tracing::info!(user.id = %user.id, "user deleted their account");
        Ok(())
    }
}
