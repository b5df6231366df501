//! What the passkey plugin writes: the `passkey` rows, one per WebAuthn credential, exactly as `@better-auth/passkey`
//! stores them (so credentials registered under Better Auth keep signing in).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};

use super::{Store, entity::passkey};

/// A `passkey` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyRow {
    pub id: String,
    pub name: Option<String>,
    /// The COSE public key in standard base64, as Better Auth stores it.
    pub public_key: String,
    pub user_id: String,
    /// base64url, as the browser names the credential.
    pub credential_id: String,
    pub counter: i32,
    pub device_type: String,
    pub backed_up: bool,
    pub transports: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub aaguid: Option<String>,
}

impl From<passkey::Model> for PasskeyRow {
    fn from(row: passkey::Model) -> Self {
        Self {
            id: row.id,
            name: row.name,
            public_key: row.public_key,
            user_id: row.user_id,
            credential_id: row.credential_id,
            counter: row.counter,
            device_type: row.device_type,
            backed_up: row.backed_up,
            transports: row.transports,
            created_at: row.created_at,
            aaguid: row.aaguid,
        }
    }
}

impl Store {
    /// A user's passkeys, oldest first.
    pub async fn passkeys_of(&self, user_id: &str) -> Result<Vec<PasskeyRow>, sea_orm::DbErr> {
        let rows = passkey::Entity::find()
            .filter(passkey::Column::UserId.eq(user_id))
            .order_by_asc(passkey::Column::CreatedAt)
            .order_by_asc(passkey::Column::Id)
            .all(self.connection())
            .await?;
        Ok(rows.into_iter().map(PasskeyRow::from).collect())
    }

    pub async fn find_passkey(&self, id: &str) -> Result<Option<PasskeyRow>, sea_orm::DbErr> {
        let found = passkey::Entity::find_by_id(id.to_owned())
            .one(self.connection())
            .await?;
        Ok(found.map(PasskeyRow::from))
    }

    /// The passkey a browser names by its credential id (base64url, compared exactly as Better Auth does).
    pub async fn find_passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRow>, sea_orm::DbErr> {
        let found = passkey::Entity::find()
            .filter(passkey::Column::CredentialId.eq(credential_id))
            .one(self.connection())
            .await?;
        Ok(found.map(PasskeyRow::from))
    }

    pub async fn insert_passkey(&self, row: &PasskeyRow) -> Result<(), sea_orm::DbErr> {
        passkey::Entity::insert(passkey::ActiveModel {
            id: Set(row.id.clone()),
            name: Set(row.name.clone()),
            public_key: Set(row.public_key.clone()),
            user_id: Set(row.user_id.clone()),
            credential_id: Set(row.credential_id.clone()),
            counter: Set(row.counter),
            device_type: Set(row.device_type.clone()),
            backed_up: Set(row.backed_up),
            transports: Set(row.transports.clone()),
            created_at: Set(row.created_at),
            aaguid: Set(row.aaguid.clone()),
        })
        .exec_without_returning(self.connection())
        .await?;
        Ok(())
    }

    /// Moves a passkey's signature counter from `seen` to `counter` and records its backup state. False when the
    /// counter was no longer `seen`: another sign-in with the same authenticator got there first.
    pub async fn advance_passkey_counter(
        &self,
        id: &str,
        seen: i32,
        counter: i32,
        backed_up: bool,
    ) -> Result<bool, sea_orm::DbErr> {
        let updated = passkey::Entity::update_many()
            .col_expr(passkey::Column::Counter, Expr::value(counter))
            .col_expr(passkey::Column::BackedUp, Expr::value(backed_up))
            .filter(passkey::Column::Id.eq(id))
            .filter(Expr::col(passkey::Column::Counter).eq(seen))
            .exec(self.connection())
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Renames a passkey of `user_id`; the row as stored, `None` when it is not theirs or gone.
    pub async fn rename_passkey(
        &self,
        id: &str,
        user_id: &str,
        name: &str,
    ) -> Result<Option<PasskeyRow>, sea_orm::DbErr> {
        let updated = passkey::Entity::update_many()
            .col_expr(passkey::Column::Name, Expr::value(name))
            .filter(passkey::Column::Id.eq(id))
            .filter(passkey::Column::UserId.eq(user_id))
            .exec(self.connection())
            .await?;
        if updated.rows_affected == 0 {
            return Ok(None);
        }
        self.find_passkey(id).await
    }

    /// Deletes a passkey of `user_id`; false when it is not theirs or gone.
    pub async fn delete_passkey(&self, id: &str, user_id: &str) -> Result<bool, sea_orm::DbErr> {
        let gone = passkey::Entity::delete_many()
            .filter(passkey::Column::Id.eq(id))
            .filter(passkey::Column::UserId.eq(user_id))
            .exec(self.connection())
            .await?;
        Ok(gone.rows_affected == 1)
    }
}
