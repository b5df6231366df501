//! `send-verification-email` and `verify-email`, including the links of an email change.

use super::{Account, UNIFORM_ANSWER_FLOOR, at_least, token};
use crate::{
    domain::{Email, LinkToken, SessionToken, UserRecord, now},
    error::{AuthError, is_unique_violation},
};

/// What a verify-email link did: for an email change, the user as changed.
#[derive(Debug)]
pub struct Verified {
    pub user: Option<UserRecord>,
}

impl Account {
    /// Without a session the answer is always yes, after the same time, and a mail goes only to an unverified
    /// account; with one, `email` must be the caller's own, unverified address.
    pub async fn send_verification_email(
        &self,
        token: Option<&SessionToken>,
        email: &Email,
        callback_url: Option<&str>,
    ) -> Result<(), AuthError> {
        let Some(current) = self.optional_session(token).await? else {
            return at_least(UNIFORM_ANSWER_FLOOR, async {
                match self.store.find_user_by_email(email.as_str()).await? {
                    Some(user) if !user.email_verified => {
                        self.emails.send_verification(&user, callback_url)
                    }
                    _ => {
                        self.emails.sign_dummy(email.as_str());
                        Ok(())
                    }
                }
            })
            .await;
        };
        if current.user.email_verified {
            return Err(AuthError::EmailAlreadyVerified);
        }
        if current.user.email != email.as_str() {
            return Err(AuthError::EmailMismatch);
        }
        self.emails.send_verification(&current.user, callback_url)
    }

    /// Applies a verify-email link: marks the address verified, or carries out the email change it holds.
    pub async fn verify_email(
        &self,
        token: Option<&SessionToken>,
        jwt: &LinkToken,
    ) -> Result<Verified, AuthError> {
        let claims = token::verify(self.emails.secret(), jwt.expose())?;
        let email = Email::parse(&claims.email).ok_or(AuthError::InvalidToken)?;
        let user = self
            .store
            .find_user_by_email(email.as_str())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        // A link names the account it was made for; one made for an account since deleted does not fit a new one.
        if claims.user_id.as_ref().is_some_and(|id| *id != user.id) {
            return Err(AuthError::InvalidToken);
        }
        let Some(update_to) = claims.update_to.as_deref() else {
            if !user.email_verified {
                let verified = self
                    .store
                    .mark_email_verified(&user.id, now())
                    .await?
                    .ok_or(AuthError::UserNotFound)?;
                self.sessions.refresh_user(&verified).await?;
            }
            return Ok(Verified { user: None });
        };
        if let Some(current) = self.optional_session(token).await?
            && current.user.email != user.email
        {
            return Err(AuthError::Unauthorized);
        }
        let new_email = Email::parse(update_to).ok_or(AuthError::InvalidToken)?;
        match claims.request_type.as_deref() {
            // The old address confirmed the change: now the new address must prove itself.
            Some(token::CHANGE_EMAIL_CONFIRMATION) => {
                self.emails
                    .send_email_change(&user, new_email.as_str(), None)?;
                Ok(Verified { user: None })
            }
            // The link reached the new address, which is thereby verified.
            Some(token::CHANGE_EMAIL_VERIFICATION) => {
                let changed = self.move_email(&user, &new_email, true).await?;
                Ok(Verified {
                    user: Some(changed),
                })
            }
            // Older Better Auth links went to the old address: the new one still needs verifying.
            _ => {
                let changed = self.move_email(&user, &new_email, false).await?;
                self.emails.send_verification(&changed, None)?;
                Ok(Verified {
                    user: Some(changed),
                })
            }
        }
    }

    async fn move_email(
        &self,
        user: &UserRecord,
        new_email: &Email,
        verified: bool,
    ) -> Result<UserRecord, AuthError> {
        let changed = self
            .store
            .set_email(&user.id, new_email.as_str(), verified, now())
            .await
            .map_err(|error| {
                if is_unique_violation(&error) {
                    AuthError::UserAlreadyExists
                } else {
                    error.into()
                }
            })?
            .ok_or(AuthError::UserNotFound)?;
        self.sessions.refresh_user(&changed).await?;
        Ok(changed)
    }
}
