//! Users as administrators see them: roles, the list, one user, creation, removal and passwords.

use super::{Admin, AdminAction};
use crate::{
    core::api_key,
    domain::{Email, Password, Roles, SessionToken, UserId, UserQuery, UserRecord, now},
    error::{AuthError, is_unique_violation},
    store::AdminNewUser,
};

/// The role a user gets when none is given (Better Auth's `defaultRole`).
pub const DEFAULT_ROLE: &str = "user";

/// One page of the user list. `limit` and `offset` echo the request's, and are set only when it gave them.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<UserRecord>,
    pub total: u64,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// A user to create. No `Debug`: it holds a password.
pub struct NewAccount {
    /// The address, or the refusal of a malformed one: Better Auth checks it only once the caller may create users.
    pub email: Result<Email, AuthError>,
    /// `None` for a user without a credential account (one who signs in some other way).
    pub password: Option<Password>,
    pub name: String,
    /// `None`: Better Auth's default role.
    pub roles: Option<Roles>,
}

impl Admin {
    /// Sets the user's roles, stored joined by `,` as Better Auth stores several.
    pub async fn set_role(
        &self,
        token: Option<&SessionToken>,
        user_id: &UserId,
        roles: &Roles,
    ) -> Result<UserRecord, AuthError> {
        self.authorize(token, AdminAction::SetRole).await?;
        let user = self
            .store
            .set_user_role(user_id.as_str(), &roles.joined(), now())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        if let Err(error) = self.sessions.refresh_user(&user).await {
            let error = anyhow::Error::from(error);
            tracing::warn!(
                error = format!("{error:#}"),
                "cached sessions keep the old role until they expire"
            );
        }
        api_key::owner_changed(&self.store, self.sessions.cache(), &user.id).await;
        Ok(user)
    }

    pub async fn list_users(
        &self,
        token: Option<&SessionToken>,
        query: Option<UserQuery>,
    ) -> Result<UserPage, AuthError> {
        self.authorize(token, AdminAction::ListUsers).await?;
        let Some(query) = query else {
            return Ok(UserPage {
                users: Vec::new(),
                total: 0,
                limit: None,
                offset: None,
            });
        };
        let (users, total) = self.store.list_users(&query).await?;
        Ok(UserPage {
            users,
            total,
            limit: query.limit,
            offset: query.offset,
        })
    }

    pub async fn get_user(
        &self,
        token: Option<&SessionToken>,
        id: &UserId,
    ) -> Result<UserRecord, AuthError> {
        self.authorize(token, AdminAction::GetUser).await?;
        self.store
            .find_user_by_id(id.as_str())
            .await?
            .ok_or(AuthError::UserNotFound)
    }

    /// Creates a user (role `user` unless given), with a credential account when a password is given.
    pub async fn create_user(
        &self,
        token: Option<&SessionToken>,
        input: NewAccount,
    ) -> Result<UserRecord, AuthError> {
        self.authorize(token, AdminAction::CreateUsers).await?;
        let email = input.email?;
        if let Some(password) = &input.password {
            password.check_new()?;
        }
        if self
            .store
            .find_user_by_email(email.as_str())
            .await?
            .is_some()
        {
            return Err(AuthError::UserAlreadyExists);
        }
        let hash = match &input.password {
            Some(password) => Some(
                self.hasher
                    .hash(password)
                    .await
                    .map_err(AuthError::Internal)?,
            ),
            None => None,
        };
        let role = input
            .roles
            .map_or_else(|| DEFAULT_ROLE.to_owned(), |roles| roles.joined());
        let new = AdminNewUser {
            name: input.name,
            email: email.as_str().to_owned(),
            role,
        };
        self.store
            .admin_create_user(new, hash, now())
            .await
            .map_err(|error| {
                if is_unique_violation(&error) {
                    AuthError::UserAlreadyExists
                } else {
                    error.into()
                }
            })
    }

    /// Deletes a user with their sessions (revoked at once) and accounts; an administrator cannot remove themself.
    pub async fn remove_user(
        &self,
        token: Option<&SessionToken>,
        user_id: &UserId,
    ) -> Result<(), AuthError> {
        let caller = self.authorize(token, AdminAction::DeleteUsers).await?;
        if user_id.as_str() == caller.id {
            return Err(AuthError::CannotRemoveYourself);
        }
        let revoked = self
            .store
            .remove_user(user_id.as_str())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        self.sessions.forget(&revoked).await;
        api_key::owner_changed(&self.store, self.sessions.cache(), user_id.as_str()).await;
        Ok(())
    }

    /// Sets a user's password (argon2id), creating their credential account if they have none.
    pub async fn set_user_password(
        &self,
        token: Option<&SessionToken>,
        user_id: &UserId,
        new_password: &Password,
    ) -> Result<(), AuthError> {
        self.authorize(token, AdminAction::SetPassword).await?;
        new_password.check_new()?;
        if self
            .store
            .find_user_by_id(user_id.as_str())
            .await?
            .is_none()
        {
            return Err(AuthError::UserNotFound);
        }
        let hash = self
            .hasher
            .hash(new_password)
            .await
            .map_err(AuthError::Internal)?;
        self.store
            .set_user_password(user_id.as_str(), hash, now())
            .await?;
        // A new password ends the second factor's trust in every device the user trusted.
        self.store.forget_trusted_devices(user_id.as_str()).await?;
        Ok(())
    }

    /// Turns the user's second factor off, forgets every device they trusted and ends all their sessions: the
    /// recovery path when a phone is lost. A security event, logged as one.
    pub async fn reset_two_factor(
        &self,
        token: Option<&SessionToken>,
        user_id: &UserId,
    ) -> Result<UserRecord, AuthError> {
        let admin = self.authorize(token, AdminAction::ResetTwoFactor).await?;
        let user = self
            .store
            .set_two_factor_enabled(user_id.as_str(), false, now())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        self.store.delete_two_factor(user_id.as_str()).await?;
        let devices = self.store.forget_trusted_devices(user_id.as_str()).await?;
        let gone = self
            .store
            .delete_user_sessions(user_id.as_str(), None)
            .await?;
        self.sessions.forget(&gone).await;
        tracing::warn!(
            security_event = "two_factor_reset",
            admin.id = %admin.id,
            user.id = %user.id,
            sessions_ended = gone.len(),
            trusted_devices_forgotten = devices,
            "an administrator reset a user's second factor"
        );
        Ok(user)
    }
}
