//! What the two-factor plugin writes: the `twoFactor` row (sealed secret and backup codes, whether the secret was
//! verified, the failed-code budget), `user."twoFactorEnabled"`, and the trusted devices it keeps in `verification`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use super::{
    Store,
    entity::{two_factor, user, verification},
};
use crate::domain::{UserRecord, generate_id};

/// The identifier prefix of a trusted device's `verification` row, as Better Auth names it.
pub const TRUSTED_DEVICE_PREFIX: &str = "trust-device-";

/// A user's `twoFactor` row. No `Debug`: it holds the sealed secret and codes.
#[derive(Clone)]
pub struct TwoFactorRow {
    pub id: String,
    pub user_id: String,
    /// Sealed (`symmetricEncrypt`) as Better Auth stores it.
    pub secret: String,
    /// Sealed JSON array of codes.
    pub backup_codes: String,
    /// Better Auth treats a missing value as verified.
    pub verified: bool,
    pub locked_until: Option<DateTime<Utc>>,
}

impl From<two_factor::Model> for TwoFactorRow {
    fn from(row: two_factor::Model) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            secret: row.secret,
            backup_codes: row.backup_codes,
            verified: row.verified != Some(false),
            locked_until: row.locked_until,
        }
    }
}

impl Store {
    pub async fn find_two_factor(
        &self,
        user_id: &str,
    ) -> Result<Option<TwoFactorRow>, sea_orm::DbErr> {
        let found = two_factor::Entity::find()
            .filter(two_factor::Column::UserId.eq(user_id))
            .one(self.connection())
            .await?;
        Ok(found.map(TwoFactorRow::from))
    }

    /// Stores a new, not yet verified secret and backup codes for the user, over an unverified row if one is there.
    pub async fn enrol_two_factor(
        &self,
        user_id: &str,
        existing: Option<&str>,
        secret: &str,
        backup_codes: &str,
    ) -> Result<(), sea_orm::DbErr> {
        match existing {
            Some(id) => {
                two_factor::Entity::update_many()
                    .col_expr(two_factor::Column::Secret, Expr::value(secret))
                    .col_expr(two_factor::Column::BackupCodes, Expr::value(backup_codes))
                    .col_expr(two_factor::Column::Verified, Expr::value(false))
                    .filter(two_factor::Column::Id.eq(id))
                    .exec(self.connection())
                    .await?;
            }
            None => {
                two_factor::Entity::insert(two_factor::ActiveModel {
                    id: Set(generate_id()),
                    secret: Set(secret.to_owned()),
                    backup_codes: Set(backup_codes.to_owned()),
                    user_id: Set(user_id.to_owned()),
                    verified: Set(Some(false)),
                    failed_verification_count: Set(Some(0)),
                    locked_until: Set(None),
                })
                .exec_without_returning(self.connection())
                .await?;
            }
        }
        Ok(())
    }

    pub async fn mark_two_factor_verified(&self, id: &str) -> Result<(), sea_orm::DbErr> {
        two_factor::Entity::update_many()
            .col_expr(two_factor::Column::Verified, Expr::value(true))
            .filter(two_factor::Column::Id.eq(id))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Sets `twoFactorEnabled`; returns the user as stored, `None` when gone.
    pub async fn set_two_factor_enabled(
        &self,
        user_id: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>, sea_orm::DbErr> {
        let updated = user::Entity::update_many()
            .col_expr(user::Column::TwoFactorEnabled, Expr::value(enabled))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user_id))
            .exec(self.connection())
            .await?;
        self.updated_user(user_id, updated.rows_affected).await
    }

    pub async fn delete_two_factor(&self, user_id: &str) -> Result<(), sea_orm::DbErr> {
        two_factor::Entity::delete_many()
            .filter(two_factor::Column::UserId.eq(user_id))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Replaces the backup codes only if they are still `old`, so that of two requests spending codes at once one
    /// wins and the other sees it lost (false).
    pub async fn swap_backup_codes(
        &self,
        id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, sea_orm::DbErr> {
        let updated = two_factor::Entity::update_many()
            .col_expr(two_factor::Column::BackupCodes, Expr::value(new))
            .filter(two_factor::Column::Id.eq(id))
            .filter(two_factor::Column::BackupCodes.eq(old))
            .exec(self.connection())
            .await?;
        Ok(updated.rows_affected == 1)
    }

    pub async fn set_backup_codes(&self, id: &str, codes: &str) -> Result<(), sea_orm::DbErr> {
        two_factor::Entity::update_many()
            .col_expr(two_factor::Column::BackupCodes, Expr::value(codes))
            .filter(two_factor::Column::Id.eq(id))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Counts one failed code, atomically, and locks the row until `lock_until` once `max` failures are reached.
    /// Returns the count.
    pub async fn record_two_factor_failure(
        &self,
        id: &str,
        max: i32,
        lock_until: DateTime<Utc>,
    ) -> Result<i32, sea_orm::DbErr> {
        let count = Expr::col(two_factor::Column::FailedVerificationCount);
        let updated = two_factor::Entity::update_many()
            .col_expr(
                two_factor::Column::FailedVerificationCount,
                Expr::expr(sea_orm::sea_query::Func::coalesce([count, Expr::value(0)])).add(1),
            )
            .filter(two_factor::Column::Id.eq(id))
            .exec_with_returning(self.connection())
            .await?;
        let failures = updated
            .first()
            .and_then(|row| row.failed_verification_count)
            .unwrap_or(0);
        if failures >= max {
            two_factor::Entity::update_many()
                .col_expr(two_factor::Column::LockedUntil, Expr::value(lock_until))
                .filter(two_factor::Column::Id.eq(id))
                .filter(two_factor::Column::FailedVerificationCount.gte(max))
                .exec(self.connection())
                .await?;
        }
        Ok(failures)
    }

    /// Clears the failure count and any lock: after a good code, or (with `only_expired_at`) a lock that has run out.
    pub async fn reset_two_factor_failures(
        &self,
        id: &str,
        only_expired_at: Option<DateTime<Utc>>,
    ) -> Result<(), sea_orm::DbErr> {
        let mut update = two_factor::Entity::update_many()
            .col_expr(two_factor::Column::FailedVerificationCount, Expr::value(0))
            .col_expr(
                two_factor::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(two_factor::Column::Id.eq(id));
        if let Some(now) = only_expired_at {
            update = update.filter(two_factor::Column::LockedUntil.lte(now));
        }
        update.exec(self.connection()).await?;
        Ok(())
    }

    /// Forgets every device the user trusted: their `trust-device-…` rows go, so no cookie naming one works.
    pub async fn forget_trusted_devices(&self, user_id: &str) -> Result<u64, sea_orm::DbErr> {
        let gone = verification::Entity::delete_many()
            .filter(verification::Column::Identifier.starts_with(TRUSTED_DEVICE_PREFIX))
            .filter(verification::Column::Value.eq(user_id))
            .exec(self.connection())
            .await?;
        Ok(gone.rows_affected)
    }
}
