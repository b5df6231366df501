//! Messages to domain types and back. Into the core ([`auth`], [`admin`]): fields parsed into [`crate::domain`]
//! types, a failure being the [`crate::error::AuthError`] Better Auth answers for that field. Out of it (here): records
//! as messages, timestamps through the one conversion in [`warden_proto::time`].

pub mod admin;
pub mod auth;

use warden_proto::{auth::v1 as pb, time::timestamp};

use crate::domain::{SessionRecord, UserRecord, is_storable};
use crate::error::AuthError;

/// Text from request field `field` (`body.name`, `query.id`), refused when it holds a NUL, which PostgreSQL cannot
/// store: `[body.name] name cannot contain a NUL character`, as Better Auth words a refused field.
pub fn text(field: &str, raw: String) -> Result<String, AuthError> {
    if is_storable(&raw) {
        Ok(raw)
    } else {
        let name = field.rsplit('.').next().unwrap_or(field);
        Err(AuthError::Validation(format!(
            "[{field}] {name} cannot contain a NUL character"
        )))
    }
}

/// [`text`] for a field that may be left out.
pub fn optional_text(field: &str, raw: Option<String>) -> Result<Option<String>, AuthError> {
    raw.map(|raw| text(field, raw)).transpose()
}

pub fn user_pb(user: UserRecord) -> pb::User {
    pb::User {
        id: user.id,
        name: user.name,
        email: user.email,
        email_verified: user.email_verified,
        image: user.image,
        created_at: Some(timestamp(user.created_at)),
        updated_at: Some(timestamp(user.updated_at)),
        role: user.role,
        banned: user.banned,
        ban_reason: user.ban_reason,
        ban_expires: user.ban_expires.map(timestamp),
        two_factor_enabled: user.two_factor_enabled,
    }
}

/// A session in a listing: its token is the stored hash, which names it (for revocation) but never authenticates.
pub fn listed_session_pb(session: SessionRecord) -> pb::Session {
    let hash = session.token_hash.clone();
    session_pb(session, &hash)
}

/// `token` is the raw token for the caller's own session, the stored hash otherwise.
pub fn session_pb(session: SessionRecord, token: &str) -> pb::Session {
    pb::Session {
        id: session.id,
        token: token.to_owned(),
        user_id: session.user_id,
        expires_at: Some(timestamp(session.expires_at)),
        ip_address: session.ip_address,
        user_agent: session.user_agent,
        created_at: Some(timestamp(session.created_at)),
        updated_at: Some(timestamp(session.updated_at)),
        impersonated_by: session.impersonated_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_a_nul_is_refused_naming_its_field() {
        assert_eq!(text("body.name", "Ada".into()).unwrap(), "Ada");
        assert_eq!(
            text("body.name", "A\0da".into()).unwrap_err().to_string(),
            "[body.name] name cannot contain a NUL character"
        );
        assert_eq!(
            text("query.id", "\0".into()).unwrap_err().to_string(),
            "[query.id] id cannot contain a NUL character"
        );
        assert_eq!(optional_text("body.image", None).unwrap(), None);
        assert!(matches!(
            optional_text("body.image", Some("\0".into())),
            Err(AuthError::Validation(_))
        ));
    }
}
