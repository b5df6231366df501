//! Users and their credential accounts.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr,
};

use super::{
    CREDENTIAL_PROVIDER, Store,
    entity::{account, user},
};
use crate::domain::{UserRecord, generate_id};

/// A user about to be created by sign-up.
pub struct NewUser {
    pub id: String,
    pub name: String,
    pub email: String,
    pub image: Option<String>,
}

impl Store {
    pub async fn find_user_by_email(
        &self,
        email: &str,
    ) -> Result<Option<UserRecord>, sea_orm::DbErr> {
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(self.connection())
            .await?;
        Ok(found.map(UserRecord::from))
    }

    /// The credential account of a user: `(account id, password hash)`.
    pub async fn find_credential(
        &self,
        user_id: &str,
    ) -> Result<Option<(String, String)>, sea_orm::DbErr> {
        let found = account::Entity::find()
            .filter(account::Column::UserId.eq(user_id))
            .filter(account::Column::ProviderId.eq(CREDENTIAL_PROVIDER))
            .one(self.connection())
            .await?;
        Ok(found.and_then(|row| row.password.map(|hash| (row.id, hash))))
    }

    pub async fn set_password_hash(
        &self,
        account_id: &str,
        hash: &str,
    ) -> Result<(), sea_orm::DbErr> {
        account::Entity::update_many()
            .col_expr(account::Column::Password, Expr::value(hash))
            .col_expr(
                account::Column::UpdatedAt,
                Expr::value(crate::domain::now()),
            )
            .filter(account::Column::Id.eq(account_id))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Whether any credential still holds a hash that is not argon2 (Better Auth's scrypt).
    pub async fn has_legacy_hashes(&self) -> Result<bool, sea_orm::DbErr> {
        let found = account::Entity::find()
            .filter(account::Column::Password.is_not_null())
            .filter(account::Column::Password.not_like("$argon2%"))
            .one(self.connection())
            .await?;
        Ok(found.is_some())
    }

    /// Creates the user, their credential account and their first session in one transaction.
    pub async fn create_user(
        &self,
        new: NewUser,
        password_hash: String,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<UserRecord, sea_orm::DbErr> {
        let user = UserRecord {
            id: new.id,
            name: new.name,
            email: new.email,
            email_verified: false,
            image: new.image,
            created_at: now,
            updated_at: now,
            role: Some("user".into()),
            banned: Some(false),
            ban_reason: None,
            ban_expires: None,
            two_factor_enabled: Some(false),
        };
        let txn = self.connection().begin().await?;
        user::Entity::insert(user::ActiveModel {
            id: Set(user.id.clone()),
            name: Set(user.name.clone()),
            email: Set(user.email.clone()),
            email_verified: Set(user.email_verified),
            image: Set(user.image.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            role: Set(user.role.clone()),
            banned: Set(user.banned),
            ban_reason: Set(None),
            ban_expires: Set(None),
            two_factor_enabled: Set(Some(false)),
        })
        .exec_without_returning(&txn)
        .await?;
        account::Entity::insert(account::ActiveModel {
            id: Set(generate_id()),
            account_id: Set(user.id.clone()),
            provider_id: Set(CREDENTIAL_PROVIDER.into()),
            user_id: Set(user.id.clone()),
            access_token: Set(None),
            refresh_token: Set(None),
            id_token: Set(None),
            access_token_expires_at: Set(None),
            refresh_token_expires_at: Set(None),
            scope: Set(None),
            password: Set(Some(password_hash)),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(user)
    }
}

impl From<user::Model> for UserRecord {
    fn from(row: user::Model) -> Self {
        Self {
            id: row.id,
            name: row.name,
            email: row.email,
            email_verified: row.email_verified,
            image: row.image,
            created_at: row.created_at,
            updated_at: row.updated_at,
            role: row.role,
            banned: row.banned,
            ban_reason: row.ban_reason,
            ban_expires: row.ban_expires,
            two_factor_enabled: row.two_factor_enabled,
        }
    }
}
