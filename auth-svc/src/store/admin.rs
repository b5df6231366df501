//! The rows behind the AdminService: users by id, roles and bans, the user list, and removals.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, Order},
};

use super::{
    CREDENTIAL_PROVIDER, Store,
    entity::{account, session, user},
};
use crate::domain::{Field, FilterOp, TextOp, UserQuery, UserRecord, Value, generate_id};

/// A user about to be created by an administrator.
pub struct AdminNewUser {
    pub name: String,
    pub email: String,
    pub role: String,
}

/// What a ban writes on the user row.
pub struct Ban {
    pub reason: String,
    pub expires: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn find_user_by_id(&self, id: &str) -> Result<Option<UserRecord>, sea_orm::DbErr> {
        Ok(user::Entity::find_by_id(id)
            .one(self.connection())
            .await?
            .map(UserRecord::from))
    }

    pub async fn set_user_role(
        &self,
        id: &str,
        role: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>, sea_orm::DbErr> {
        let changes = [
            (user::Column::Role, Expr::value(role)),
            (user::Column::UpdatedAt, Expr::value(now)),
        ];
        update_user(self.connection(), id, changes).await
    }

    /// Bans the user and deletes their sessions in one transaction; returns the user and the hashes that went.
    pub async fn ban_user(
        &self,
        id: &str,
        ban: Ban,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserRecord, Vec<String>)>, sea_orm::DbErr> {
        let txn = self.connection().begin().await?;
        let changes = [
            (user::Column::Banned, Expr::value(true)),
            (user::Column::BanReason, Expr::value(ban.reason)),
            (user::Column::BanExpires, Expr::value(ban.expires)),
            (user::Column::UpdatedAt, Expr::value(now)),
        ];
        let Some(user) = update_user(&txn, id, changes).await? else {
            return Ok(None);
        };
        let gone = session::Entity::delete_many()
            .filter(session::Column::UserId.eq(id))
            .exec_with_returning(&txn)
            .await?;
        txn.commit().await?;
        Ok(Some((
            user,
            gone.into_iter().map(|row| row.token).collect(),
        )))
    }

    /// Clears the ban fields (an unban, or a ban whose time has passed).
    pub async fn lift_ban(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>, sea_orm::DbErr> {
        let changes = [
            (user::Column::Banned, Expr::value(false)),
            (user::Column::BanReason, Expr::value(Option::<String>::None)),
            (
                user::Column::BanExpires,
                Expr::value(Option::<DateTime<Utc>>::None),
            ),
            (user::Column::UpdatedAt, Expr::value(now)),
        ];
        update_user(self.connection(), id, changes).await
    }

    /// One page of users and the number of users the query matches without its limit and offset.
    pub async fn list_users(
        &self,
        query: &UserQuery,
    ) -> Result<(Vec<UserRecord>, u64), sea_orm::DbErr> {
        let condition = query_condition(query);
        let total = user::Entity::find()
            .filter(condition.clone())
            .count(self.connection())
            .await?;
        let mut select = user::Entity::find().filter(condition);
        select = match &query.sort {
            Some(sort) => {
                let order = if sort.descending {
                    Order::Desc
                } else {
                    Order::Asc
                };
                select.order_by(column(sort.field), order)
            }
            None => select.order_by_asc(user::Column::CreatedAt),
        };
        select = select.order_by_asc(user::Column::Id);
        if let Some(limit) = query.limit {
            select = select.limit(limit);
        }
        if let Some(offset) = query.offset {
            select = select.offset(offset);
        }
        let users = select.all(self.connection()).await?;
        Ok((users.into_iter().map(UserRecord::from).collect(), total))
    }

    /// Creates a user with `role`, and their credential account when a password hash is given.
    pub async fn admin_create_user(
        &self,
        new: AdminNewUser,
        password_hash: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<UserRecord, sea_orm::DbErr> {
        let record = UserRecord {
            id: generate_id(),
            name: new.name,
            email: new.email,
            email_verified: false,
            image: None,
            created_at: now,
            updated_at: now,
            role: Some(new.role),
            banned: Some(false),
            ban_reason: None,
            ban_expires: None,
            two_factor_enabled: Some(false),
        };
        let txn = self.connection().begin().await?;
        user::Entity::insert(user::ActiveModel {
            id: Set(record.id.clone()),
            name: Set(record.name.clone()),
            email: Set(record.email.clone()),
            email_verified: Set(false),
            image: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            role: Set(record.role.clone()),
            banned: Set(Some(false)),
            ban_reason: Set(None),
            ban_expires: Set(None),
            two_factor_enabled: Set(Some(false)),
        })
        .exec_without_returning(&txn)
        .await?;
        if let Some(hash) = password_hash {
            insert_credential(&txn, &record.id, hash, now).await?;
        }
        txn.commit().await?;
        Ok(record)
    }

    /// Sets the user's password, creating their credential account if they have none.
    pub async fn set_user_password(
        &self,
        user_id: &str,
        hash: String,
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        let txn = self.connection().begin().await?;
        let updated = account::Entity::update_many()
            .col_expr(account::Column::Password, Expr::value(hash.clone()))
            .col_expr(account::Column::UpdatedAt, Expr::value(now))
            .filter(account::Column::UserId.eq(user_id))
            .filter(account::Column::ProviderId.eq(CREDENTIAL_PROVIDER))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            insert_credential(&txn, user_id, hash, now).await?;
        }
        txn.commit().await
    }

    /// Deletes the user with their sessions and accounts; returns the session hashes that went, or `None` when
    /// there was no such user. Their tasks go with them (the foreign key cascades).
    pub async fn remove_user(&self, id: &str) -> Result<Option<Vec<String>>, sea_orm::DbErr> {
        let txn = self.connection().begin().await?;
        let gone = session::Entity::delete_many()
            .filter(session::Column::UserId.eq(id))
            .exec_with_returning(&txn)
            .await?;
        account::Entity::delete_many()
            .filter(account::Column::UserId.eq(id))
            .exec(&txn)
            .await?;
        let deleted = user::Entity::delete_by_id(id).exec(&txn).await?;
        if deleted.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(None);
        }
        txn.commit().await?;
        Ok(Some(gone.into_iter().map(|row| row.token).collect()))
    }
}

async fn update_user<const N: usize>(
    db: &impl ConnectionTrait,
    id: &str,
    changes: [(user::Column, Expr); N],
) -> Result<Option<UserRecord>, sea_orm::DbErr> {
    let mut update = user::Entity::update_many().filter(user::Column::Id.eq(id));
    for (column, value) in changes {
        update = update.col_expr(column, value);
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Ok(None);
    }
    Ok(user::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(UserRecord::from))
}

async fn insert_credential(
    db: &impl ConnectionTrait,
    user_id: &str,
    hash: String,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    account::Entity::insert(account::ActiveModel {
        id: Set(generate_id()),
        account_id: Set(user_id.to_owned()),
        provider_id: Set(CREDENTIAL_PROVIDER.into()),
        user_id: Set(user_id.to_owned()),
        access_token: Set(None),
        refresh_token: Set(None),
        id_token: Set(None),
        access_token_expires_at: Set(None),
        refresh_token_expires_at: Set(None),
        scope: Set(None),
        password: Set(Some(hash)),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

fn column(field: Field) -> user::Column {
    match field {
        Field::Id => user::Column::Id,
        Field::Name => user::Column::Name,
        Field::Email => user::Column::Email,
        Field::EmailVerified => user::Column::EmailVerified,
        Field::Image => user::Column::Image,
        Field::CreatedAt => user::Column::CreatedAt,
        Field::UpdatedAt => user::Column::UpdatedAt,
        Field::Role => user::Column::Role,
        Field::Banned => user::Column::Banned,
        Field::BanReason => user::Column::BanReason,
        Field::BanExpires => user::Column::BanExpires,
    }
}

fn query_condition(query: &UserQuery) -> Condition {
    let mut condition = Condition::all();
    if let Some(search) = &query.search {
        condition = condition.add(text_match(search.field, search.op, &search.value));
    }
    if let Some(filter) = &query.filter {
        let col = Expr::col((user::Entity, column(filter.field)));
        let expr = match &filter.op {
            FilterOp::Eq(value) => col.eq(db_value(value)),
            FilterOp::Ne(value) => col.ne(db_value(value)),
            FilterOp::Lt(value) => col.lt(db_value(value)),
            FilterOp::Lte(value) => col.lte(db_value(value)),
            FilterOp::Gt(value) => col.gt(db_value(value)),
            FilterOp::Gte(value) => col.gte(db_value(value)),
            FilterOp::In(values) => col.is_in(values.iter().map(db_value)),
            FilterOp::NotIn(values) => col.is_not_in(values.iter().map(db_value)),
            FilterOp::Text(op, value) => text_match(filter.field, *op, value),
        };
        condition = condition.add(expr);
    }
    condition
}

/// A case-insensitive `LIKE`, with the value's own `%`, `_` and `\` taken literally.
fn text_match(field: Field, op: TextOp, value: &str) -> Expr {
    let escaped = value
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = match op {
        TextOp::Contains => format!("%{escaped}%"),
        TextOp::StartsWith => format!("{escaped}%"),
        TextOp::EndsWith => format!("%{escaped}"),
    };
    Expr::expr(Func::lower(Expr::col((user::Entity, column(field)))))
        .like(LikeExpr::new(pattern).escape('\\'))
}

fn db_value(value: &Value) -> sea_orm::Value {
    match value {
        Value::Text(text) => text.clone().into(),
        Value::Bool(flag) => (*flag).into(),
        Value::Date(date) => (*date).into(),
    }
}
