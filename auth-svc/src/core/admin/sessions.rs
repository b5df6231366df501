//! Other users' sessions: listed with their stored hashes, revoked through the database and then the cache.

use super::{Admin, AdminAction};
use crate::{
    domain::{SessionRecord, SessionRef, SessionToken, UserId, now},
    error::AuthError,
};

impl Admin {
    /// The user's unexpired sessions, newest first; each carries its stored hash as its token.
    pub async fn list_user_sessions(
        &self,
        token: Option<&SessionToken>,
        user_id: &UserId,
    ) -> Result<Vec<SessionRecord>, AuthError> {
        self.authorize(token, AdminAction::ListSessions).await?;
        Ok(self.store.list_sessions(user_id.as_str(), now()).await?)
    }

    /// Revokes one session; succeeds whether or not it existed.
    pub async fn revoke_user_session(
        &self,
        token: Option<&SessionToken>,
        target: &SessionRef,
    ) -> Result<(), AuthError> {
        self.authorize(token, AdminAction::RevokeSessions).await?;
        if self.store.delete_session(target.hash(), None).await? {
            self.sessions.forget(&[target.hash().to_owned()]).await;
        }
        Ok(())
    }

    /// Revokes every session of the user.
    pub async fn revoke_user_sessions(
        &self,
        token: Option<&SessionToken>,
        user_id: &UserId,
    ) -> Result<(), AuthError> {
        self.authorize(token, AdminAction::RevokeSessions).await?;
        let revoked = self
            .store
            .delete_user_sessions(user_id.as_str(), None)
            .await?;
        self.sessions.forget(&revoked).await;
        Ok(())
    }
}
