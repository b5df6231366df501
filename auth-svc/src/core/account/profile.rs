//! `update-user` and `change-email`.

use super::Account;
use crate::{
    domain::{Email, SessionToken, UserRecord, now},
    error::{AuthError, is_unique_violation},
};

/// What `update-user` may change. `image: Some(None)` clears the image.
#[derive(Debug, Default)]
pub struct ProfileUpdate {
    pub name: Option<String>,
    pub image: Option<Option<String>>,
}

impl Account {
    /// Changes the caller's name and/or image; `No fields to update` when neither is given.
    pub async fn update_user(
        &self,
        token: Option<&SessionToken>,
        update: ProfileUpdate,
    ) -> Result<UserRecord, AuthError> {
        let current = self.session(token).await?;
        if update.name.is_none() && update.image.is_none() {
            return Err(AuthError::NoFieldsToUpdate);
        }
        let user = self
            .store
            .update_profile(&current.user.id, update.name, update.image, now())
            .await?
            .ok_or(AuthError::Unauthorized)?;
        self.sessions.refresh_user(&user).await?;
        Ok(user)
    }

    /// Better Auth's `change-email` with `updateEmailWithoutVerification`: an unverified address is replaced at once
    /// (and the new one gets a verification mail); a verified one changes only when the link mailed to the new
    /// address is opened. An address that already has an account answers the same, and nothing happens.
    pub async fn change_email(
        &self,
        token: Option<&SessionToken>,
        new_email: &Email,
        callback_url: Option<&str>,
    ) -> Result<(), AuthError> {
        let current = self.session(token).await?;
        let user = current.user;
        if new_email.as_str() == user.email {
            return Err(AuthError::EmailIsTheSame);
        }
        if self
            .store
            .find_user_by_email(new_email.as_str())
            .await?
            .is_some()
        {
            // The same work as a real change, so the answer's timing does not tell the address is taken.
            self.emails.sign_dummy(&user.email);
            tracing::info!(user.id = %user.id, "email change to an address that has an account");
            return Ok(());
        }
        if user.email_verified {
            return self
                .emails
                .send_email_change(&user, new_email.as_str(), callback_url);
        }
        let changed = match self
            .store
            .set_email(&user.id, new_email.as_str(), false, now())
            .await
        {
            Ok(changed) => changed,
            // Taken in the meantime: the same silent answer as above.
            Err(error) if is_unique_violation(&error) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        let changed = changed.ok_or(AuthError::Unauthorized)?;
        self.sessions.refresh_user(&changed).await?;
        self.emails.send_verification(&changed, callback_url)
    }
}
