//! `change-password`, and the reset flow: `request-password-reset`, `GET reset-password/:token` (via
//! [`Account::check_reset_token`]) and `reset-password`.
//!
//! Reset tokens live in `verification` as Better Auth keeps them (`reset-password:<token>`, value = user id, one
//! hour), except that Warden stores the token's SHA-256 hex instead of the token: only Warden reads these rows, and a
//! leaked table then holds no usable reset link. A token is deleted when used, so it works once.

use chrono::TimeDelta;
use warden_common::token::hash_token;

use super::{Account, UNIFORM_ANSWER_FLOOR, at_least, token};
use crate::{
    core::sessions::{ClientInfo, Proof},
    domain::{Email, LinkToken, Password, SessionRecord, SessionToken, UserRecord, now},
    error::AuthError,
    store::Verification,
};

const RESET_PREFIX: &str = "reset-password:";
const RESET_LIFETIME: TimeDelta = TimeDelta::hours(1);

/// `change-password`'s request. No `Debug`: it holds passwords.
pub struct ChangePassword {
    pub new_password: Password,
    pub current_password: Password,
    /// Unset: the other sessions go, the current one stays. `true`: Better Auth's own behaviour, every session goes
    /// and a new one opens. `false`: no session goes.
    pub revoke_other_sessions: Option<bool>,
}

/// The user, and the new session when `revoke_other_sessions` was `true`.
pub struct PasswordChanged {
    pub user: UserRecord,
    pub opened: Option<(SessionToken, SessionRecord)>,
}

fn reset_identifier(token: &str) -> String {
    format!("{RESET_PREFIX}{}", hash_token(token))
}

impl Account {
    pub async fn change_password(
        &self,
        token: Option<&SessionToken>,
        input: ChangePassword,
        client: ClientInfo,
    ) -> Result<PasswordChanged, AuthError> {
        let current = self.session(token).await?;
        input.new_password.check_new()?;
        input.current_password.check_candidate()?;
        let user = current.user;
        let account_id = self.check_password(&user, &input.current_password).await?;
        let hash = self
            .hasher
            .hash(&input.new_password)
            .await
            .map_err(AuthError::Internal)?;
        self.store.set_password_hash(&account_id, &hash).await?;
        // A new password ends the second factor's trust in every device, not only this browser's.
        self.store.forget_trusted_devices(&user.id).await?;
        let opened = match input.revoke_other_sessions {
            None => {
                let keep = current.session.token_hash.as_str();
                let gone = self
                    .store
                    .delete_user_sessions(&user.id, Some(keep))
                    .await?;
                self.sessions.forget(&gone).await;
                None
            }
            Some(true) => {
                let gone = self.store.delete_user_sessions(&user.id, None).await?;
                self.sessions.forget(&gone).await;
                let opened = self
                    .sessions
                    .open(user.clone(), Proof::Password, current.remember, client)
                    .await?;
                Some((opened.token, opened.session))
            }
            Some(false) => None,
        };
        Ok(PasswordChanged { user, opened })
    }

    /// Mails a reset link when `email` has an account. Every outcome does the same work and takes at least
    /// [`UNIFORM_ANSWER_FLOOR`], so neither the answer nor its timing tells whether the address is known.
    pub async fn request_password_reset(
        &self,
        email: &Email,
        redirect_to: Option<&str>,
    ) -> Result<(), AuthError> {
        at_least(UNIFORM_ANSWER_FLOOR, async {
            let user = self.store.find_user_by_email(email.as_str()).await?;
            let reset_token = token::reset_token();
            let identifier = reset_identifier(&reset_token);
            let now = now();
            // A service account (no account at all: made by an administrator for a machine) has no password to
            // reset, and gets none this way; it is answered as an unknown address.
            let user = match user {
                Some(user) if self.store.count_accounts(&user.id).await? == 0 => {
                    tracing::info!("password reset asked for a service account");
                    None
                }
                other => other,
            };
            match user {
                Some(user) => {
                    let row = Verification {
                        identifier,
                        value: user.id.clone(),
                        expires_at: now + RESET_LIFETIME,
                    };
                    self.store.insert_verification(&row, now).await?;
                    self.emails
                        .send_password_reset(&user, &reset_token, redirect_to);
                }
                None => {
                    // Better Auth's own decoy: look a token up as if one had been stored.
                    self.store.find_verification(&identifier).await?;
                    tracing::info!("password reset asked for an unknown address");
                }
            }
            self.purge_expired_resets();
            Ok(())
        })
        .await
    }

    /// Expired reset rows are removed in the background, off the request's timing.
    fn purge_expired_resets(&self) {
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(error) = store.purge_expired_verifications(RESET_PREFIX, now()).await {
                tracing::warn!(%error, "could not purge expired reset tokens");
            }
        });
    }

    /// Whether `reset_token` would still reset a password; no token never would.
    pub async fn check_reset_token(
        &self,
        reset_token: Option<&LinkToken>,
    ) -> Result<bool, AuthError> {
        let Some(reset_token) = reset_token else {
            return Ok(false);
        };
        let found = self
            .store
            .find_verification(&reset_identifier(reset_token.expose()))
            .await?;
        Ok(found.is_some_and(|row| row.expires_at > now()))
    }

    /// Sets a new password from a reset token, once, and revokes every session of the user.
    pub async fn reset_password(
        &self,
        reset_token: &LinkToken,
        new_password: Password,
    ) -> Result<(), AuthError> {
        new_password.check_new()?;
        let row = self
            .store
            .consume_verification(&reset_identifier(reset_token.expose()))
            .await?
            .filter(|row| row.expires_at > now())
            .ok_or(AuthError::InvalidToken)?;
        let user_id = row.value;
        if self.store.find_user_by_id(&user_id).await?.is_none() {
            return Err(AuthError::UserNotFound);
        }
        let hash = self
            .hasher
            .hash(&new_password)
            .await
            .map_err(AuthError::Internal)?;
        self.store.set_user_password(&user_id, hash, now()).await?;
        self.store.forget_trusted_devices(&user_id).await?;
        let gone = self.store.delete_user_sessions(&user_id, None).await?;
        self.sessions.forget(&gone).await;
        Ok(())
    }
}
