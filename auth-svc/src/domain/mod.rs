//! Domain types: parsed at the gRPC edge, so the rest of the service only sees valid values.

mod admin_action;
mod email;
mod password;
mod records;
mod roles;
mod text;
mod token;
mod user_id;
mod user_query;

pub use admin_action::AdminAction;
pub use email::Email;
pub use password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, Password, PasswordLength};
pub use records::{SessionRecord, UserRecord, now};
pub use roles::{ADMIN_ROLE, Roles, is_admin};
pub use text::is_storable;
pub use token::{
    LinkToken, RANDOM_ALPHABET, SessionRef, SessionToken, generate_id, random_string,
    random_string_from,
};
pub use user_id::UserId;
pub use user_query::{Field, Filter, FilterOp, ListUsers, Search, Sort, TextOp, UserQuery, Value};
