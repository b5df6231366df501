//! Messages to domain types and back. Into the core ([`auth`], [`admin`]): fields parsed into [`crate::domain`]
//! types, a failure being the [`crate::error::AuthError`] Better Auth answers for that field. Out of it (here): records
//! as messages, timestamps through the one conversion in [`warden_proto::time`].

pub mod admin;
pub mod auth;

use warden_proto::{auth::v1 as pb, time::timestamp};

use crate::domain::{SessionRecord, UserRecord};

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
