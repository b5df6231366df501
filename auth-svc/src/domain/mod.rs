//! Domain types: parsed at the gRPC edge, so the rest of the service only sees valid values.

mod email;
mod password;
mod records;
mod token;

pub use email::Email;
pub use password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, Password, PasswordLength};
pub use records::{SessionRecord, UserRecord, now};
pub use token::{SessionToken, generate_id};
