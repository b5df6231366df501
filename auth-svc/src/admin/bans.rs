//! Bans: set and lifted by administrators, enforced at sign-in and on every session read.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Admin, AdminAction};
use crate::{
    domain::{SessionToken, UserRecord, now},
    error::AuthError,
    store::{Ban, Store},
};

/// Better Auth's reason when none is given.
pub const DEFAULT_BAN_REASON: &str = "No reason";

pub struct BanUser {
    pub user_id: String,
    pub reason: Option<String>,
    /// Seconds until the ban lifts itself; unset (or zero) bans until unbanned.
    pub expires_in: Option<i64>,
}

/// Whether `user` is banned at `at`: a ban whose time has passed no longer counts.
pub fn is_banned(user: &UserRecord, at: DateTime<Utc>) -> bool {
    user.banned == Some(true) && user.ban_expires.is_none_or(|expires| expires > at)
}

/// Lets a user whose password was just verified open a session: a banned user is refused, and a ban whose time
/// has passed is lifted first.
pub async fn admit(store: &Store, user: UserRecord) -> Result<UserRecord, AuthError> {
    if user.banned != Some(true) {
        return Ok(user);
    }
    let now = now();
    if is_banned(&user, now) {
        return Err(AuthError::BannedUser);
    }
    Ok(store.lift_ban(&user.id, now).await?.unwrap_or(user))
}

impl Admin {
    /// Bans a user and revokes all their sessions at once: the database first, then the cache's tombstones.
    pub async fn ban_user(
        &self,
        token: Option<&SessionToken>,
        input: BanUser,
    ) -> Result<UserRecord, AuthError> {
        let caller = self.authorize(token, AdminAction::Ban).await?;
        if input.user_id == caller.id {
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
            .ban_user(&input.user_id, Ban { reason, expires }, now)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        self.sessions.forget(&revoked).await;
        Ok(user)
    }

    pub async fn unban_user(
        &self,
        token: Option<&SessionToken>,
        user_id: &str,
    ) -> Result<UserRecord, AuthError> {
        self.authorize(token, AdminAction::Ban).await?;
        self.store
            .lift_ban(user_id, now())
            .await?
            .ok_or(AuthError::UserNotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(banned: Option<bool>, expires: Option<DateTime<Utc>>) -> UserRecord {
        let now = now();
        UserRecord {
            id: "u1".into(),
            name: "A".into(),
            email: "a@example.com".into(),
            email_verified: false,
            image: None,
            created_at: now,
            updated_at: now,
            role: Some("user".into()),
            banned,
            ban_reason: None,
            ban_expires: expires,
        }
    }

    #[test]
    fn a_ban_counts_until_its_time_has_passed() {
        let now = now();
        assert!(is_banned(&user(Some(true), None), now));
        assert!(is_banned(
            &user(Some(true), Some(now + TimeDelta::seconds(1))),
            now
        ));
        assert!(!is_banned(
            &user(Some(true), Some(now - TimeDelta::seconds(1))),
            now
        ));
        assert!(!is_banned(&user(Some(false), None), now));
        assert!(!is_banned(&user(None, None), now));
    }
}
