//! PostgreSQL (or SQLite) access: the source of truth for users, accounts, sessions, signing keys and second factors.

mod account;
mod admin;
mod api_key;
mod entity;
mod expired;
mod keys;
mod passkey;
mod sessions;
mod social;
mod two_factor;
mod users;

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection};

pub use account::Verification;
pub use admin::{AdminNewUser, Ban};
pub use api_key::{ApiKeyChanges, ApiKeyColumn, ApiKeyRow};
pub use keys::KeyRow;
pub use passkey::PasskeyRow;
pub use sessions::SessionRow;
pub use social::{AccountRow, TokenColumns};
pub use two_factor::{TRUSTED_DEVICE_PREFIX, TwoFactorRow};
pub use users::NewUser;

/// The provider id of email-and-password accounts, as Better Auth names it.
pub const CREDENTIAL_PROVIDER: &str = "credential";

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
}
