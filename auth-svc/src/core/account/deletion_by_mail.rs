//! Account deletion confirmed by mail, Better Auth's `user.deleteUser.sendDeleteAccountVerification`. With
//! `DELETE_USER_VERIFICATION` on, `delete-user` (after the password, when one is given) stores a one-day token in
//! `verification` as `delete-account-<token>` and mails a link to `delete-user/callback`; opening it while signed in
//! as that user deletes the account. The callback honours such tokens whatever the setting, since a Better Auth
//! database may hold some.

use chrono::TimeDelta;
use rand::Rng;

use super::Account;
use crate::{
    domain::{LinkToken, Password, SessionToken, now},
    error::AuthError,
    store::Verification,
};

/// Better Auth's `deleteTokenExpiresIn` default.
const DELETE_TOKEN_LIFETIME: TimeDelta = TimeDelta::days(1);
/// Better Auth's `generateRandomString(32, "0-9", "a-z")`.
const DELETE_TOKEN_LEN: usize = 32;
const DELETE_TOKEN_ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A fresh deletion token (≈165 bits from a CSPRNG).
pub fn deletion_token() -> String {
    let mut rng = rand::rng();
    (0..DELETE_TOKEN_LEN)
        .map(|_| {
            char::from(DELETE_TOKEN_ALPHABET[rng.random_range(0..DELETE_TOKEN_ALPHABET.len())])
        })
        .collect()
}

/// The `verification.identifier` Better Auth stores a deletion token under.
pub(super) fn deletion_identifier(token: &str) -> String {
    format!("delete-account-{token}")
}

impl Account {
    /// `DELETE_USER_VERIFICATION`: `delete-user` without a token mails a confirmation link instead of deleting.
    pub fn deletion_confirmed_by_mail(&self) -> bool {
        self.delete_user_verification
    }

    /// `delete-user` when deletion is confirmed by mail and no token came: checks the password if one is given,
    /// then mails the link. A fresh session is not required, as in Better Auth: the mail is the confirmation.
    pub async fn mail_deletion_link(
        &self,
        token: Option<&SessionToken>,
        password: Option<Password>,
        callback_url: Option<&str>,
    ) -> Result<(), AuthError> {
        let user = self.session(token).await?.user;
        if let Some(password) = password {
            password.check_candidate()?;
            self.check_password(&user, &password).await?;
        }
        let token = deletion_token();
        let now = now();
        let row = Verification {
            identifier: deletion_identifier(&token),
            value: user.id.clone(),
            expires_at: now + DELETE_TOKEN_LIFETIME,
        };
        self.store.insert_verification(&row, now).await?;
        self.emails
            .send_account_deletion(&user, &token, callback_url);
        tracing::info!(user.id = %user.id, "account deletion link mailed");
        Ok(())
    }

    /// `delete-user/callback`: deletes the signed-in user when `deletion_token` was issued to them (used once,
    /// within its day), and revokes every session. No session is `FAILED_TO_GET_USER_INFO`; no token, another
    /// user's or a spent one is `INVALID_TOKEN`.
    pub async fn delete_user_from_link(
        &self,
        token: Option<&SessionToken>,
        deletion_token: Option<&LinkToken>,
    ) -> Result<(), AuthError> {
        let Some(current) = self.optional_session(token).await? else {
            return Err(AuthError::FailedToGetUserInfo);
        };
        let user = current.user;
        let Some(deletion_token) = deletion_token else {
            return Err(AuthError::InvalidToken);
        };
        let found = self
            .store
            .consume_verification(&deletion_identifier(deletion_token.expose()))
            .await?;
        if !found.is_some_and(|row| row.value == user.id && row.expires_at > now()) {
            return Err(AuthError::InvalidToken);
        }
        if let Some(gone) = self.store.remove_user(&user.id).await? {
            self.sessions.forget(&gone).await;
            crate::core::api_key::owner_changed(&self.store, self.sessions.cache(), &user.id).await;
        }
        tracing::info!(user.id = %user.id, "user deleted their account from the mailed link");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletion_tokens_are_32_lowercase_alphanumerics() {
        let token = deletion_token();
        assert_eq!(token.len(), 32);
        assert!(
            token
                .bytes()
                .all(|byte| byte.is_ascii_digit() || byte.is_ascii_lowercase())
        );
        assert_ne!(token, deletion_token());
    }
}
