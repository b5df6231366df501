//! What the account lifecycle writes: a user's name, image and email, and one-time values in `verification`.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::{
    Store,
    entity::{user, verification},
};
use crate::domain::{UserRecord, generate_id};

/// A row of `verification`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub identifier: String,
    pub value: String,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Sets the name and/or the image (`Some(None)` clears it); returns the user as stored, `None` when gone.
    pub async fn update_profile(
        &self,
        user_id: &str,
        name: Option<String>,
        image: Option<Option<String>>,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>, sea_orm::DbErr> {
        let mut update = user::Entity::update_many()
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user_id));
        if let Some(name) = name {
            update = update.col_expr(user::Column::Name, Expr::value(name));
        }
        if let Some(image) = image {
            update = update.col_expr(user::Column::Image, Expr::value(image));
        }
        self.updated_user(user_id, update.exec(self.connection()).await?.rows_affected)
            .await
    }

    /// Sets the email address and whether it is verified. A unique violation means the address is taken.
    pub async fn set_email(
        &self,
        user_id: &str,
        email: &str,
        verified: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>, sea_orm::DbErr> {
        let updated = user::Entity::update_many()
            .col_expr(user::Column::Email, Expr::value(email))
            .col_expr(user::Column::EmailVerified, Expr::value(verified))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user_id))
            .exec(self.connection())
            .await?;
        self.updated_user(user_id, updated.rows_affected).await
    }

    /// Marks the user's current address verified.
    pub async fn mark_email_verified(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>, sea_orm::DbErr> {
        let updated = user::Entity::update_many()
            .col_expr(user::Column::EmailVerified, Expr::value(true))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user_id))
            .exec(self.connection())
            .await?;
        self.updated_user(user_id, updated.rows_affected).await
    }

    /// The user as stored after an update of `rows_affected` rows; `None` when there was none.
    pub(super) async fn updated_user(
        &self,
        user_id: &str,
        rows_affected: u64,
    ) -> Result<Option<UserRecord>, sea_orm::DbErr> {
        if rows_affected == 0 {
            return Ok(None);
        }
        let found = user::Entity::find_by_id(user_id)
            .one(self.connection())
            .await?;
        Ok(found.map(UserRecord::from))
    }

    pub async fn insert_verification(
        &self,
        row: &Verification,
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        verification::Entity::insert(verification::ActiveModel {
            id: Set(generate_id()),
            identifier: Set(row.identifier.clone()),
            value: Set(row.value.clone()),
            expires_at: Set(row.expires_at),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(self.connection())
        .await?;
        Ok(())
    }

    /// Inserts a row whose id is `row.identifier` itself, unless one is there: the primary key makes "first use
    /// only" atomic when two requests race, which a lookup before the insert would not. False when it was there.
    pub async fn insert_verification_once(
        &self,
        row: &Verification,
        now: DateTime<Utc>,
    ) -> Result<bool, sea_orm::DbErr> {
        use sea_orm::sea_query::OnConflict;
        let inserted = verification::Entity::insert(verification::ActiveModel {
            id: Set(row.identifier.clone()),
            identifier: Set(row.identifier.clone()),
            value: Set(row.value.clone()),
            expires_at: Set(row.expires_at),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(verification::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(self.connection())
        .await?;
        Ok(inserted == 1)
    }

    /// The newest row for `identifier`, expired or not.
    pub async fn find_verification(
        &self,
        identifier: &str,
    ) -> Result<Option<Verification>, sea_orm::DbErr> {
        use sea_orm::QueryOrder;
        let found = verification::Entity::find()
            .filter(verification::Column::Identifier.eq(identifier))
            .order_by_desc(verification::Column::CreatedAt)
            .one(self.connection())
            .await?;
        Ok(found.map(Verification::from))
    }

    /// Deletes every row for `identifier` and returns the newest, so that a value is used once even when two
    /// requests race for it: only one of them gets the row back.
    pub async fn consume_verification(
        &self,
        identifier: &str,
    ) -> Result<Option<Verification>, sea_orm::DbErr> {
        let gone = verification::Entity::delete_many()
            .filter(verification::Column::Identifier.eq(identifier))
            .exec_with_returning(self.connection())
            .await?;
        Ok(gone
            .into_iter()
            .max_by_key(|row| row.created_at)
            .map(Verification::from))
    }

    /// Deletes expired rows whose identifier starts with `prefix`.
    pub async fn purge_expired_verifications(
        &self,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, sea_orm::DbErr> {
        let gone = verification::Entity::delete_many()
            .filter(verification::Column::Identifier.starts_with(prefix))
            .filter(verification::Column::ExpiresAt.lt(now))
            .exec(self.connection())
            .await?;
        Ok(gone.rows_affected)
    }
}

impl From<verification::Model> for Verification {
    fn from(row: verification::Model) -> Self {
        Self {
            identifier: row.identifier,
            value: row.value,
            expires_at: row.expires_at,
        }
    }
}
