//! Bans: set and lifted by administrators, enforced at sign-in and on every session read.

use chrono::TimeDelta;

use super::{Admin, AdminAction};
use crate::{
    core::api_key,
    domain::{SessionToken, UserId, UserRecord, now},
    error::AuthError,
    store::Ban,
};

/// Better Auth's reason when none is given.
pub const DEFAULT_BAN_REASON: &str = "No reason";

pub struct BanUser {
    pub user_id: UserId,
    pub reason: Option<String>,
    /// Seconds until the ban lifts itself; unset (or zero) bans until unbanned.
    pub expires_in: Option<i64>,
}

impl Admin {
    /// Bans a user and revokes all their sessions at once: the database first, then the cache's tombstones.
    pub async fn ban_user(
        &self,
        token: Option<&SessionToken>,
        input: BanUser,
    ) -> Result<UserRecord, AuthError> {
        let caller = self.authorize(token, AdminAction::Ban).await?;
        if input.user_id.as_str() == caller.id {
            return Err(AuthError::CannotBanYourself);
        }
        let now = now();
        let expires = match input.expires_in.filter(|seconds| *seconds != 0) {
            None => None,
            Some(seconds) => Some(
                TimeDelta::try_seconds(seconds)
                    .and_then(|delta| now.checked_add_signed(delta))
                    .ok_or_else(|| AuthError::Validation("[body.banExpiresIn] Too big".into()))?,
            ),
        };
        let reason = input
            .reason
            .filter(|reason| !reason.is_empty())
            .unwrap_or_else(|| DEFAULT_BAN_REASON.to_owned());
        let (user, revoked) = self
            .store
            .ban_user(input.user_id.as_str(), Ban { reason, expires }, now)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        self.sessions.forget(&revoked).await;
        api_key::owner_changed(&self.store, self.sessions.cache(), &user.id).await;
        Ok(user)
    }

    pub async fn unban_user(
        &self,
        token: Option<&SessionToken>,
        user_id: &UserId,
    ) -> Result<UserRecord, AuthError> {
        self.authorize(token, AdminAction::Ban).await?;
        let user = self
            .store
            .lift_ban(user_id.as_str(), now())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        api_key::owner_changed(&self.store, self.sessions.cache(), &user.id).await;
        Ok(user)
    }
}
