//! The AdminService's behaviour as plain async functions, as Better Auth's admin plugin defines it: roles, bans,
//! the user list, other users' sessions, and creating, removing and re-passwording users.
//!
//! Every call first resolves the caller's session with the same credential rules as the AuthService, then reads the
//! caller's user row afresh (a cached session must not keep a withdrawn role alive) and requires an administrator:
//! any of the comma-separated roles is `admin`, or the id is one of `ADMIN_USER_IDS`. A ban writes the user row and
//! deletes the user's sessions in one transaction, then tombstones them in the cache; sign-in refuses a banned
//! user or lifts a ban whose time has passed, and session reads drop a banned user's
//! session that slipped through.

mod bans;
mod sessions;
mod users;

use std::sync::Arc;

pub use bans::BanUser;
pub use users::{NewAccount, UserPage};

use warden_common::token::is_api_key_shaped;

use crate::{
    core::{api_key::ApiKeys, sessions::Sessions},
    domain::{AdminAction, SessionToken, UserRecord},
    error::{ApiKeyError, AuthError},
    passwords::Hasher,
    store::Store,
};

pub use crate::domain::{ADMIN_ROLE, is_admin};

#[derive(Clone)]
pub struct Admin {
    store: Store,
    sessions: Sessions,
    hasher: Hasher,
    admin_user_ids: Arc<[String]>,
    /// The api-key plugin, when served: an administrator's key may act here as far as its permissions say.
    api_keys: Option<ApiKeys>,
}

impl Admin {
    pub fn new(
        store: Store,
        sessions: Sessions,
        hasher: Hasher,
        admin_user_ids: Vec<String>,
    ) -> Self {
        Self {
            store,
            sessions,
            hasher,
            admin_user_ids: admin_user_ids.into(),
            api_keys: None,
        }
    }

    /// Lets an administrator's API key act here, when its permissions name the action (Better Auth's admin
    /// statements: `user: [list, ban, …]`, `session: [list, revoke]`).
    pub fn with_api_keys(mut self, api_keys: Option<ApiKeys>) -> Self {
        self.api_keys = api_keys;
        self
    }

    /// The calling administrator, or UNAUTHORIZED without a live session, or the action's refusal.
    async fn authorize(
        &self,
        token: Option<&SessionToken>,
        action: AdminAction,
    ) -> Result<UserRecord, AuthError> {
        let token = token.ok_or(AuthError::Unauthorized)?;
        let user_id = match &self.api_keys {
            Some(keys) if is_api_key_shaped(token.expose()) => {
                match keys
                    .authenticate_admin(token.expose(), action.statement())
                    .await
                {
                    Ok(owner) => owner.id,
                    Err(AuthError::ApiKey(ApiKeyError::InvalidApiKey)) => {
                        return Err(AuthError::Unauthorized);
                    }
                    Err(other) => return Err(other),
                }
            }
            _ => {
                self.sessions
                    .resolve(token, false)
                    .await?
                    .ok_or(AuthError::Unauthorized)?
                    .user
                    .id
            }
        };
        let caller = self
            .store
            .find_user_by_id(&user_id)
            .await?
            .ok_or(AuthError::Unauthorized)?;
        if is_admin(&caller, &self.admin_user_ids) {
            Ok(caller)
        } else {
            Err(AuthError::NotAllowed(action))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, role: Option<&str>) -> UserRecord {
        let now = crate::domain::now();
        UserRecord {
            id: id.into(),
            name: "A".into(),
            email: "a@example.com".into(),
            email_verified: false,
            image: None,
            created_at: now,
            updated_at: now,
            role: role.map(str::to_owned),
            banned: None,
            ban_reason: None,
            ban_expires: None,
            two_factor_enabled: Some(false),
        }
    }

    #[test]
    fn any_admin_role_in_the_list_makes_an_administrator() {
        assert!(is_admin(&user("u1", Some("admin")), &[]));
        assert!(is_admin(&user("u1", Some("user,admin")), &[]));
        assert!(is_admin(&user("u1", Some("editor, admin")), &[]));
        assert!(!is_admin(&user("u1", Some("user")), &[]));
        assert!(!is_admin(&user("u1", Some("administrator")), &[]));
        assert!(!is_admin(&user("u1", None), &[]));
    }

    #[test]
    fn a_listed_id_is_an_administrator_whatever_the_role() {
        let ids = vec!["u1".to_owned()];
        assert!(is_admin(&user("u1", Some("user")), &ids));
        assert!(is_admin(&user("u1", None), &ids));
        assert!(!is_admin(&user("u2", Some("user")), &ids));
    }

    #[test]
    fn refusals_carry_better_auths_codes_and_messages() {
        let error = AuthError::NotAllowed(AdminAction::SetRole);
        assert_eq!(
            error.reason().map(warden_proto::Reason::as_str),
            Some("YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE")
        );
        assert_eq!(
            error.to_string(),
            "You are not allowed to change users role"
        );
    }
}
