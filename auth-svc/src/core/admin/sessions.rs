//! Other users' sessions: listed with their stored hashes, revoked through the database and then the cache.

use warden_common::token::{hash_token, is_token_hash};

use super::{Admin, AdminAction};
use crate::{
    domain::{SessionRecord, SessionToken, now},
    error::AuthError,
};

impl Admin {
    /// The user's unexpired sessions, newest first; each carries its stored hash as its token.
    pub async fn list_user_sessions(
        &self,
        token: Option<&SessionToken>,
        user_id: &str,
    ) -> Result<Vec<SessionRecord>, AuthError> {
        self.authorize(token, AdminAction::ListSessions).await?;
        Ok(self.store.list_sessions(user_id, now()).await?)
    }

    /// Revokes one session, named by its raw token or its stored hash; succeeds whether or not it existed.
    pub async fn revoke_user_session(
        &self,
        token: Option<&SessionToken>,
        target: &str,
    ) -> Result<(), AuthError> {
        if target.is_empty() {
            return Err(AuthError::Validation(
                "[body.sessionToken] Invalid input: expected string, received undefined".into(),
            ));
        }
        self.authorize(token, AdminAction::RevokeSessions).await?;
        let hash = if is_token_hash(target) {
            target.to_owned()
        } else {
            hash_token(target)
        };
        if self.store.delete_session(&hash, None).await? {
            self.sessions.forget(std::slice::from_ref(&hash)).await;
        }
        Ok(())
    }

    /// Revokes every session of the user.
    pub async fn revoke_user_sessions(
        &self,
        token: Option<&SessionToken>,
        user_id: &str,
    ) -> Result<(), AuthError> {
        self.authorize(token, AdminAction::RevokeSessions).await?;
        let revoked = self.store.delete_user_sessions(user_id, None).await?;
        self.sessions.forget(&revoked).await;
        Ok(())
    }
}
