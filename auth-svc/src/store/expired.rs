//! Rows whose time has passed: expired sessions and one-time values, deleted a bounded batch per statement.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Query};

use super::{
    Store,
    entity::{session, verification},
};

impl Store {
    /// Deletes at most `limit` sessions that expired before `now`; returns how many went.
    pub async fn delete_expired_sessions(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<u64, sea_orm::DbErr> {
        let batch = Query::select()
            .column(session::Column::Id)
            .from(session::Entity)
            .and_where(session::Column::ExpiresAt.lt(now))
            .limit(limit)
            .to_owned();
        let deleted = session::Entity::delete_many()
            .filter(session::Column::Id.in_subquery(batch))
            .exec(self.connection())
            .await?;
        Ok(deleted.rows_affected)
    }

    /// Deletes at most `limit` `verification` rows that expired before `now`; returns how many went.
    pub async fn delete_expired_verifications(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<u64, sea_orm::DbErr> {
        let batch = Query::select()
            .column(verification::Column::Id)
            .from(verification::Entity)
            .and_where(verification::Column::ExpiresAt.lt(now))
            .limit(limit)
            .to_owned();
        let deleted = verification::Entity::delete_many()
            .filter(verification::Column::Id.in_subquery(batch))
            .exec(self.connection())
            .await?;
        Ok(deleted.rows_affected)
    }
}
