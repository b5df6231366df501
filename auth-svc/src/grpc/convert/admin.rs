//! AdminService messages into the core's inputs, refused as Better Auth's admin schemas refuse them.

use warden_proto::auth::v1 as pb;

use super::{optional_text, text};
use crate::{
    core::admin::{BanUser, NewAccount},
    domain::{Email, Password, Roles, UserId, is_storable},
    error::AuthError,
};

/// The user a request names in field `field` (`body.userId`, `query.id`).
pub fn user_id(field: &str, raw: String) -> Result<UserId, AuthError> {
    text(field, raw).map(UserId::from)
}

/// Roles as sent, each refused when it holds a NUL.
fn role_texts(raw: Vec<String>) -> Result<Vec<String>, AuthError> {
    raw.into_iter()
        .map(|role| text("body.role", role))
        .collect()
}

/// set-role's roles: at least one.
pub fn roles(raw: Vec<String>) -> Result<Roles, AuthError> {
    Roles::parse(role_texts(raw)?).ok_or_else(|| {
        AuthError::Validation(
            "[body.role] Invalid input: expected string, received undefined".into(),
        )
    })
}

pub fn ban_user(body: pb::BanUserRequest) -> Result<BanUser, AuthError> {
    Ok(BanUser {
        user_id: user_id("body.userId", body.user_id)?,
        reason: optional_text("body.banReason", body.ban_reason)?,
        expires_in: body.ban_expires_in,
    })
}

/// create-user checks the address only after the caller's permission, with `INVALID_EMAIL`; an empty password
/// creates a user without a credential account, and no role gives the default one.
pub fn new_account(body: pb::CreateUserRequest) -> Result<NewAccount, AuthError> {
    Ok(NewAccount {
        email: Email::parse(&body.email).ok_or(AuthError::InvalidEmail),
        password: (!body.password.is_empty()).then(|| body.password.into()),
        name: text("body.name", body.name)?,
        roles: Roles::parse(role_texts(body.role)?),
    })
}

/// set-user-password requires both fields non-empty, and reports every one that is not.
pub fn set_user_password(
    user_id: String,
    new_password: String,
) -> Result<(UserId, Password), AuthError> {
    let password = Password::from(new_password);
    let storable = is_storable(&user_id);
    let user_id = UserId::non_empty(user_id);
    let mut issues = Vec::new();
    if password.is_empty() {
        issues.push("[body.newPassword] newPassword cannot be empty");
    }
    if user_id.is_none() {
        issues.push("[body.userId] userId cannot be empty");
    }
    if !storable {
        issues.push("[body.userId] userId cannot contain a NUL character");
    }
    match user_id {
        Some(user_id) if issues.is_empty() => Ok((user_id, password)),
        _ => Err(AuthError::Validation(issues.join("; "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_role_needs_a_role() {
        assert_eq!(
            roles(Vec::new()).unwrap_err().to_string(),
            "[body.role] Invalid input: expected string, received undefined"
        );
        assert_eq!(roles(vec!["admin".into()]).unwrap().joined(), "admin");
    }

    #[test]
    fn set_user_password_reports_every_empty_field() {
        let both = set_user_password(String::new(), String::new()).unwrap_err();
        assert_eq!(
            both.to_string(),
            "[body.newPassword] newPassword cannot be empty; [body.userId] userId cannot be empty"
        );
        let id = set_user_password(String::new(), "password1".into()).unwrap_err();
        assert_eq!(id.to_string(), "[body.userId] userId cannot be empty");
        let (user_id, password) = set_user_password("u1".into(), "password1".into()).unwrap();
        assert_eq!((user_id.as_str(), password.expose()), ("u1", "password1"));
    }

    #[test]
    fn a_new_account_defers_its_address_check_and_drops_an_empty_password() {
        let input = new_account(pb::CreateUserRequest {
            email: "nope".into(),
            ..Default::default()
        })
        .unwrap();
        assert!(matches!(input.email, Err(AuthError::InvalidEmail)));
        assert!(input.password.is_none());
        assert!(input.roles.is_none());
    }

    #[test]
    fn a_nul_in_an_id_a_role_a_name_or_a_reason_is_refused() {
        let message = |result: Result<(), AuthError>| result.unwrap_err().to_string();
        assert_eq!(
            message(user_id("query.id", "u\0".into()).map(drop)),
            "[query.id] id cannot contain a NUL character"
        );
        assert_eq!(
            message(roles(vec!["admin".into(), "a\0".into()]).map(drop)),
            "[body.role] role cannot contain a NUL character"
        );
        let ban = pb::BanUserRequest {
            user_id: "u1".into(),
            ban_reason: Some("spam\0".into()),
            ban_expires_in: None,
        };
        assert_eq!(
            message(ban_user(ban).map(drop)),
            "[body.banReason] banReason cannot contain a NUL character"
        );
        let create = pb::CreateUserRequest {
            email: "a@example.com".into(),
            name: "\0".into(),
            ..Default::default()
        };
        assert_eq!(
            message(new_account(create).map(drop)),
            "[body.name] name cannot contain a NUL character"
        );
        assert_eq!(
            message(set_user_password("u\0".into(), "password1".into()).map(drop)),
            "[body.userId] userId cannot contain a NUL character"
        );
    }
}
