//! Session rows. Every lookup is by the token's SHA-256 hash; raw tokens are never stored.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
};

use super::{
    Store,
    entity::{session, user},
};
use crate::domain::{SessionRecord, UserRecord};

/// A session with its user, as one lookup returns them.
pub type SessionRow = (SessionRecord, UserRecord);

pub(super) fn active_model(record: &SessionRecord) -> session::ActiveModel {
    session::ActiveModel {
        id: Set(record.id.clone()),
        expires_at: Set(record.expires_at),
        token: Set(record.token_hash.clone()),
        created_at: Set(record.created_at),
        updated_at: Set(record.updated_at),
        ip_address: Set(record.ip_address.clone()),
        user_agent: Set(record.user_agent.clone()),
        user_id: Set(record.user_id.clone()),
        impersonated_by: Set(record.impersonated_by.clone()),
    }
}

impl Store {
    pub async fn insert_session(&self, record: &SessionRecord) -> Result<(), sea_orm::DbErr> {
        session::Entity::insert(active_model(record))
            .exec_without_returning(self.connection())
            .await?;
        Ok(())
    }

    pub async fn find_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<SessionRow>, sea_orm::DbErr> {
        let found = session::Entity::find()
            .filter(session::Column::Token.eq(token_hash))
            .find_also_related(user::Entity)
            .one(self.connection())
            .await?;
        Ok(found.and_then(|(session, user)| Some((session.into(), user?.into()))))
    }

    /// Moves a session's expiry (sliding refresh); false when the row is gone.
    pub async fn extend_session(
        &self,
        id: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, sea_orm::DbErr> {
        let result = session::Entity::update_many()
            .col_expr(session::Column::ExpiresAt, Expr::value(expires_at))
            .col_expr(session::Column::UpdatedAt, Expr::value(now))
            .filter(session::Column::Id.eq(id))
            .exec(self.connection())
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The user's unexpired sessions, newest first.
    pub async fn list_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, sea_orm::DbErr> {
        let rows = session::Entity::find()
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::ExpiresAt.gt(now))
            .order_by_desc(session::Column::CreatedAt)
            .all(self.connection())
            .await?;
        Ok(rows.into_iter().map(SessionRecord::from).collect())
    }

    /// Deletes one session by hash; with `user_id`, only if it is that user's. Returns whether a row went.
    pub async fn delete_session(
        &self,
        token_hash: &str,
        user_id: Option<&str>,
    ) -> Result<bool, sea_orm::DbErr> {
        let mut delete =
            session::Entity::delete_many().filter(session::Column::Token.eq(token_hash));
        if let Some(user_id) = user_id {
            delete = delete.filter(session::Column::UserId.eq(user_id));
        }
        Ok(delete.exec(self.connection()).await?.rows_affected > 0)
    }

    /// Deletes a user's sessions, optionally keeping one, and returns the hashes that went.
    pub async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep_hash: Option<&str>,
    ) -> Result<Vec<String>, sea_orm::DbErr> {
        let mut delete = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
        if let Some(keep) = keep_hash {
            delete = delete.filter(session::Column::Token.ne(keep));
        }
        // RETURNING names exactly the rows deleted, so none escapes its cache tombstone.
        let gone = delete.exec_with_returning(self.connection()).await?;
        Ok(gone.into_iter().map(|row| row.token).collect())
    }
}

impl From<session::Model> for SessionRecord {
    fn from(row: session::Model) -> Self {
        Self {
            id: row.id,
            token_hash: row.token,
            user_id: row.user_id,
            expires_at: row.expires_at,
            ip_address: row.ip_address,
            user_agent: row.user_agent,
            created_at: row.created_at,
            updated_at: row.updated_at,
            impersonated_by: row.impersonated_by,
        }
    }
}
