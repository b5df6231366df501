//! PostgreSQL (or SQLite) access to the `task` table. Every query names the owner, so no code path can read or
//! write another user's task; a conditional write is a single `UPDATE … WHERE id AND owner_id AND etag`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectOptions, Database, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

use crate::domain::{Cursor, TaskDescription, TaskId, TaskPatch, TaskTitle};

pub mod task {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "task")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub owner_id: String,
        pub title: String,
        pub description: String,
        pub completed: bool,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub etag: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A stored task, as read back.
pub type TaskRecord = task::Model;

/// A task about to be written for the first time.
pub struct NewTask {
    pub owner_id: String,
    pub title: TaskTitle,
    pub description: TaskDescription,
    pub completed: bool,
}

/// A write's condition on the stored etag: `None` writes whatever the version.
pub type Expected<'a> = Option<&'a str>;

#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sea_orm::DbErr> {
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(max_connections)
            .min_connections(0)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        if url.starts_with("sqlite:") {
            // One writer at a time; sea-orm's own default for SQLite.
            options.max_connections(1);
        }
        Ok(Self {
            db: Database::connect(options).await?,
        })
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn insert(&self, new: NewTask) -> Result<TaskRecord, sea_orm::DbErr> {
        let now = now();
        let record = TaskRecord {
            id: TaskId::generate().to_string(),
            owner_id: new.owner_id,
            title: new.title.into_inner(),
            description: new.description.into_inner(),
            completed: new.completed,
            created_at: now,
            updated_at: now,
            etag: new_etag(),
        };
        let active = task::ActiveModel {
            id: Set(record.id.clone()),
            owner_id: Set(record.owner_id.clone()),
            title: Set(record.title.clone()),
            description: Set(record.description.clone()),
            completed: Set(record.completed),
            created_at: Set(record.created_at),
            updated_at: Set(record.updated_at),
            etag: Set(record.etag.clone()),
        };
        task::Entity::insert(active)
            .exec_without_returning(&self.db)
            .await?;
        Ok(record)
    }

    pub async fn get(
        &self,
        owner_id: &str,
        id: &TaskId,
    ) -> Result<Option<TaskRecord>, sea_orm::DbErr> {
        task::Entity::find()
            .filter(owned(owner_id, id))
            .one(&self.db)
            .await
    }

    /// Up to `limit` of the owner's tasks, newest first, strictly after `after` in that order.
    pub async fn list(
        &self,
        owner_id: &str,
        completed: Option<bool>,
        after: Option<&Cursor>,
        limit: u64,
    ) -> Result<Vec<TaskRecord>, sea_orm::DbErr> {
        let mut query = task::Entity::find().filter(task::Column::OwnerId.eq(owner_id));
        if let Some(completed) = completed {
            query = query.filter(task::Column::Completed.eq(completed));
        }
        if let Some(after) = after {
            query = query.filter(
                Condition::any()
                    .add(task::Column::CreatedAt.lt(after.created_at))
                    .add(
                        Condition::all()
                            .add(task::Column::CreatedAt.eq(after.created_at))
                            .add(task::Column::Id.lt(after.id.as_str())),
                    ),
            );
        }
        query
            .order_by_desc(task::Column::CreatedAt)
            .order_by_desc(task::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
    }

    /// Applies `patch` with a new etag; `None` when no row matched (missing, another owner's, or a stale etag).
    pub async fn update(
        &self,
        owner_id: &str,
        id: &TaskId,
        patch: TaskPatch,
        expected: Expected<'_>,
    ) -> Result<Option<TaskRecord>, sea_orm::DbErr> {
        let mut update = task::Entity::update_many()
            .col_expr(task::Column::UpdatedAt, Expr::value(now()))
            .col_expr(task::Column::Etag, Expr::value(new_etag()));
        if let Some(title) = patch.title {
            update = update.col_expr(task::Column::Title, Expr::value(title.into_inner()));
        }
        if let Some(description) = patch.description {
            update = update.col_expr(
                task::Column::Description,
                Expr::value(description.into_inner()),
            );
        }
        if let Some(completed) = patch.completed {
            update = update.col_expr(task::Column::Completed, Expr::value(completed));
        }
        let updated = update
            .filter(conditional(owner_id, id, expected))
            .exec_with_returning(&self.db)
            .await?;
        Ok(updated.into_iter().next())
    }

    /// True when a row was deleted.
    pub async fn delete(
        &self,
        owner_id: &str,
        id: &TaskId,
        expected: Expected<'_>,
    ) -> Result<bool, sea_orm::DbErr> {
        let result = task::Entity::delete_many()
            .filter(conditional(owner_id, id, expected))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }
}

fn owned(owner_id: &str, id: &TaskId) -> Condition {
    Condition::all()
        .add(task::Column::Id.eq(id.as_str()))
        .add(task::Column::OwnerId.eq(owner_id))
}

fn conditional(owner_id: &str, id: &TaskId, expected: Expected<'_>) -> Condition {
    let condition = owned(owner_id, id);
    match expected {
        Some(etag) => condition.add(task::Column::Etag.eq(etag)),
        None => condition,
    }
}

/// Microseconds, as PostgreSQL stores them, so what a write returns is what a later read sees.
fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// 128 random bits as hex: a new version stamp for every write.
fn new_etag() -> String {
    format!("{:032x}", rand::random::<u128>())
}
