//! Handlers, by area; [`crate::router`] says which path reaches which.

pub mod account;
pub mod admin;
pub mod auth;
pub mod delete_user_callback;
pub mod error_page;
pub mod tasks;
pub mod ui;
pub mod update_session;
pub mod verify_password;

mod stale_session;

use http::StatusCode;

/// Better Auth answers unknown paths and wrong methods with a bare 404: no body, no content type.
pub async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}
