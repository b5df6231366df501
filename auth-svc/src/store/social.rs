//! Provider accounts: the `account` rows social sign-in writes, in Better Auth's columns, and the users it creates.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    TransactionTrait, sea_query::Expr,
};

use super::{
    Store,
    entity::{account, user},
};
use crate::domain::{UserRecord, is_storable};

/// An `account` row as stored: tokens as the columns hold them (sealed, or plain when Better Auth wrote them so).
/// No `Debug`: it holds tokens.
#[derive(Clone)]
pub struct AccountRow {
    pub id: String,
    pub account_id: String,
    pub provider_id: String,
    pub user_id: String,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub scope: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The token columns a sign-in or a refresh writes; `None` leaves a column as it is on an update.
#[derive(Clone, Default)]
pub struct TokenColumns {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub scope: Option<String>,
}

impl Store {
    /// The account a provider's user is linked through, if any.
    pub async fn find_provider_account(
        &self,
        provider_id: &str,
        account_id: &str,
    ) -> Result<Option<AccountRow>, sea_orm::DbErr> {
        let found = account::Entity::find()
            .filter(account::Column::ProviderId.eq(provider_id))
            .filter(account::Column::AccountId.eq(account_id))
            .one(self.connection())
            .await?;
        Ok(found.map(AccountRow::from))
    }

    pub async fn find_user(&self, user_id: &str) -> Result<Option<UserRecord>, sea_orm::DbErr> {
        let found = user::Entity::find_by_id(user_id)
            .one(self.connection())
            .await?;
        Ok(found.map(UserRecord::from))
    }

    /// Creates a user and their first (provider) account in one transaction. A unique violation means the address
    /// was taken meanwhile.
    pub async fn create_user_with_account(
        &self,
        user: &UserRecord,
        row: &AccountRow,
    ) -> Result<(), sea_orm::DbErr> {
        let txn = self.connection().begin().await?;
        user::Entity::insert(user::ActiveModel {
            id: Set(user.id.clone()),
            name: Set(user.name.clone()),
            email: Set(user.email.clone()),
            email_verified: Set(user.email_verified),
            image: Set(user.image.clone()),
            created_at: Set(user.created_at),
            updated_at: Set(user.updated_at),
            role: Set(user.role.clone()),
            banned: Set(user.banned),
            ban_reason: Set(None),
            ban_expires: Set(None),
            two_factor_enabled: Set(user.two_factor_enabled),
        })
        .exec_without_returning(&txn)
        .await?;
        account::Entity::insert(active_model(row))
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await
    }

    pub async fn insert_account(&self, row: &AccountRow) -> Result<(), sea_orm::DbErr> {
        account::Entity::insert(active_model(row))
            .exec_without_returning(self.connection())
            .await?;
        Ok(())
    }

    /// Writes the token columns that are `Some`, as Better Auth does when a linked user signs in again.
    pub async fn update_account_tokens(
        &self,
        id: &str,
        tokens: &TokenColumns,
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        let mut update = account::Entity::update_many()
            .col_expr(account::Column::UpdatedAt, Expr::value(now))
            .filter(account::Column::Id.eq(id));
        for (column, value) in [
            (account::Column::AccessToken, &tokens.access_token),
            (account::Column::RefreshToken, &tokens.refresh_token),
            (account::Column::IdToken, &tokens.id_token),
            (account::Column::Scope, &tokens.scope),
        ] {
            if let Some(value) = value {
                update = update.col_expr(column, Expr::value(value.clone()));
            }
        }
        if let Some(at) = tokens.access_token_expires_at {
            update = update.col_expr(account::Column::AccessTokenExpiresAt, Expr::value(at));
        }
        if let Some(at) = tokens.refresh_token_expires_at {
            update = update.col_expr(account::Column::RefreshTokenExpiresAt, Expr::value(at));
        }
        update.exec(self.connection()).await?;
        Ok(())
    }

    /// Writes the token columns after a refresh, as Better Auth does: the access token and its expiry as given (an
    /// expiry of None clears it), the refresh token, its expiry and the ID token only when given. The scope stays.
    pub async fn store_refreshed_tokens(
        &self,
        id: &str,
        tokens: &TokenColumns,
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        let mut update = account::Entity::update_many()
            .col_expr(account::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                account::Column::AccessToken,
                Expr::value(tokens.access_token.clone()),
            )
            .col_expr(
                account::Column::AccessTokenExpiresAt,
                Expr::value(tokens.access_token_expires_at),
            )
            .filter(account::Column::Id.eq(id));
        for (column, value) in [
            (account::Column::RefreshToken, &tokens.refresh_token),
            (account::Column::IdToken, &tokens.id_token),
        ] {
            if let Some(value) = value {
                update = update.col_expr(column, Expr::value(value.clone()));
            }
        }
        if let Some(at) = tokens.refresh_token_expires_at {
            update = update.col_expr(account::Column::RefreshTokenExpiresAt, Expr::value(at));
        }
        update.exec(self.connection()).await?;
        Ok(())
    }

    /// One of a user's accounts by row id, with its tokens.
    pub async fn find_user_account(
        &self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<AccountRow>, sea_orm::DbErr> {
        // An id PostgreSQL cannot compare (a NUL in it) names no row.
        if !is_storable(id) {
            return Ok(None);
        }
        let found = account::Entity::find()
            .filter(account::Column::UserId.eq(user_id))
            .filter(account::Column::Id.eq(id))
            .one(self.connection())
            .await?;
        Ok(found.map(AccountRow::from))
    }

    /// Every account of a user, oldest first (the order Better Auth lists them in).
    pub async fn list_accounts(&self, user_id: &str) -> Result<Vec<AccountRow>, sea_orm::DbErr> {
        let rows = account::Entity::find()
            .filter(account::Column::UserId.eq(user_id))
            .order_by_asc(account::Column::CreatedAt)
            .order_by_asc(account::Column::Id)
            .all(self.connection())
            .await?;
        Ok(rows.into_iter().map(AccountRow::from).collect())
    }

    pub async fn count_accounts(&self, user_id: &str) -> Result<u64, sea_orm::DbErr> {
        account::Entity::find()
            .filter(account::Column::UserId.eq(user_id))
            .count(self.connection())
            .await
    }

    /// Deletes one of a user's accounts by row id; false when the user has no such account. The last account is
    /// never deleted, even when two requests race to remove a user's last two.
    pub async fn delete_account(&self, user_id: &str, id: &str) -> Result<bool, sea_orm::DbErr> {
        if !is_storable(id) {
            return Ok(false);
        }
        let txn = self.connection().begin().await?;
        let others = account::Entity::find()
            .filter(account::Column::UserId.eq(user_id))
            .filter(account::Column::Id.ne(id))
            .count(&txn)
            .await?;
        if others == 0 {
            return Ok(false);
        }
        let gone = account::Entity::delete_many()
            .filter(account::Column::UserId.eq(user_id))
            .filter(account::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(gone.rows_affected > 0)
    }
}

fn active_model(row: &AccountRow) -> account::ActiveModel {
    account::ActiveModel {
        id: Set(row.id.clone()),
        account_id: Set(row.account_id.clone()),
        provider_id: Set(row.provider_id.clone()),
        user_id: Set(row.user_id.clone()),
        access_token: Set(row.access_token.clone()),
        refresh_token: Set(row.refresh_token.clone()),
        id_token: Set(row.id_token.clone()),
        access_token_expires_at: Set(row.access_token_expires_at),
        refresh_token_expires_at: Set(row.refresh_token_expires_at),
        scope: Set(row.scope.clone()),
        password: Set(None),
        created_at: Set(row.created_at),
        updated_at: Set(row.updated_at),
    }
}

impl From<account::Model> for AccountRow {
    fn from(row: account::Model) -> Self {
        Self {
            id: row.id,
            account_id: row.account_id,
            provider_id: row.provider_id,
            user_id: row.user_id,
            access_token: row.access_token,
            refresh_token: row.refresh_token,
            id_token: row.id_token,
            access_token_expires_at: row.access_token_expires_at,
            refresh_token_expires_at: row.refresh_token_expires_at,
            scope: row.scope,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}
