//! Rows of the `jwks` table. Creating and rotating keys take a transaction-scoped advisory lock on PostgreSQL, so
//! replicas that need a key at the same moment create one between them, not one each.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend,
    EntityTrait, QueryFilter, QueryOrder, Statement, TransactionTrait, sea_query::Expr,
};

use super::{Store, entity::jwks};

/// Advisory lock key held while keys are created or rotated ("wdnjwks" in ASCII).
const KEY_LOCK: i64 = 0x0077_646e_6a77_6b73;

/// A `jwks` row as stored: the public key as JWK JSON, the private key in Better Auth's encrypted form.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub id: String,
    pub public_key: String,
    pub private_key: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub alg: Option<String>,
    pub crv: Option<String>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow")
            .field("id", &self.id)
            .field("public_key", &self.public_key)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("alg", &self.alg)
            .field("crv", &self.crv)
            .finish_non_exhaustive()
    }
}

/// The only algorithm Warden signs with; rows without `alg` predate the column and are taken as EdDSA, as Better
/// Auth takes them.
pub const KEY_ALG: &str = "EdDSA";

/// `expiresAt` is null or later than `at`.
fn live_at(at: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(jwks::Column::ExpiresAt.is_null())
        .add(jwks::Column::ExpiresAt.gt(at))
}

impl Store {
    /// Keys whose `expiresAt` is null or later than `since`, newest first.
    pub async fn keys_live_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<KeyRow>, sea_orm::DbErr> {
        let rows = jwks::Entity::find()
            .filter(live_at(since))
            .order_by_desc(jwks::Column::CreatedAt)
            .order_by_desc(jwks::Column::Id)
            .all(self.connection())
            .await?;
        Ok(rows.into_iter().map(KeyRow::from).collect())
    }

    /// The newest EdDSA key that has not expired at `now`: the one to sign with.
    pub async fn current_key(&self, now: DateTime<Utc>) -> Result<Option<KeyRow>, sea_orm::DbErr> {
        current(self.connection(), now).await
    }

    /// Stores `candidate` unless a current key already exists; returns whichever is current afterwards.
    pub async fn create_key_if_none(
        &self,
        candidate: KeyRow,
        now: DateTime<Utc>,
    ) -> Result<KeyRow, sea_orm::DbErr> {
        let txn = self.locked().await?;
        if let Some(existing) = current(&txn, now).await? {
            txn.commit().await?;
            return Ok(existing);
        }
        insert(&txn, &candidate).await?;
        txn.commit().await?;
        Ok(candidate)
    }

    /// Stores `new` and expires every other current key at `now`, in one transaction.
    pub async fn rotate_keys(
        &self,
        new: &KeyRow,
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        let txn = self.locked().await?;
        jwks::Entity::update_many()
            .col_expr(jwks::Column::ExpiresAt, Expr::value(now))
            .filter(live_at(now))
            .exec(&txn)
            .await?;
        insert(&txn, new).await?;
        txn.commit().await
    }

    /// A transaction holding the key lock (PostgreSQL); SQLite serialises writers by itself.
    async fn locked(&self) -> Result<DatabaseTransaction, sea_orm::DbErr> {
        let txn = self.connection().begin().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [KEY_LOCK.into()],
            ))
            .await?;
        }
        Ok(txn)
    }
}

async fn current(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Option<KeyRow>, sea_orm::DbErr> {
    let eddsa = Condition::any()
        .add(jwks::Column::Alg.is_null())
        .add(jwks::Column::Alg.eq(KEY_ALG));
    let row = jwks::Entity::find()
        .filter(live_at(now))
        .filter(eddsa)
        .order_by_desc(jwks::Column::CreatedAt)
        .order_by_desc(jwks::Column::Id)
        .one(db)
        .await?;
    Ok(row.map(KeyRow::from))
}

async fn insert(db: &impl ConnectionTrait, row: &KeyRow) -> Result<(), sea_orm::DbErr> {
    jwks::Entity::insert(jwks::ActiveModel {
        id: Set(row.id.clone()),
        public_key: Set(row.public_key.clone()),
        private_key: Set(row.private_key.clone()),
        created_at: Set(row.created_at),
        expires_at: Set(row.expires_at),
        alg: Set(row.alg.clone()),
        crv: Set(row.crv.clone()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

impl From<jwks::Model> for KeyRow {
    fn from(row: jwks::Model) -> Self {
        Self {
            id: row.id,
            public_key: row.public_key,
            private_key: row.private_key,
            created_at: row.created_at,
            expires_at: row.expires_at,
            alg: row.alg,
            crv: row.crv,
        }
    }
}
