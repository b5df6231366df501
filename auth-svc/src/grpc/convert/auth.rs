//! AuthService messages into the core's inputs. Where Better Auth's schema refuses a field, the refusal is its
//! reason and message; where Better Auth checks a field later (a password's length, after the session), the value
//! goes in as a type and the core applies the rule at that point.

use warden_proto::auth::v1 as pb;

use super::{optional_text, text};
use crate::{
    core::account::{ChangePassword, DeleteUser},
    core::auth::{SignIn, SignUp},
    domain::{Email, LinkToken, Password, SessionRef},
    error::AuthError,
};

/// An address in a body field that Better Auth's schema declares an email: `[body.<field>] Invalid email address`.
pub fn email_field(field: &str, raw: &str) -> Result<Email, AuthError> {
    Email::parse(raw)
        .ok_or_else(|| AuthError::Validation(format!("[body.{field}] Invalid email address")))
}

/// A required string field that came empty, as zod reports a missing one.
fn missing(field: &str) -> AuthError {
    AuthError::Validation(format!(
        "[body.{field}] Invalid input: expected string, received undefined"
    ))
}

/// A password that may be left out: empty counts as absent, as in Better Auth.
fn optional_password(raw: Option<String>) -> Option<Password> {
    raw.filter(|raw| !raw.is_empty()).map(Password::from)
}

/// A mailed link's token that may be left out: empty counts as absent, and one no link holds is `INVALID_TOKEN`.
fn optional_link_token(raw: Option<String>) -> Result<Option<LinkToken>, AuthError> {
    match raw.filter(|raw| !raw.is_empty()) {
        None => Ok(None),
        Some(raw) => link_token(raw).map(Some),
    }
}

/// A mailed link's token where one is required: without it the link is `INVALID_TOKEN`.
pub fn link_token(raw: String) -> Result<LinkToken, AuthError> {
    LinkToken::parse(raw).ok_or(AuthError::InvalidToken)
}

/// A session to revoke, named in body field `field` by its raw token or stored hash.
pub fn session_ref(field: &str, raw: &str) -> Result<SessionRef, AuthError> {
    SessionRef::parse(raw).ok_or_else(|| missing(field))
}

pub fn sign_up(body: pb::SignUpEmailRequest) -> Result<SignUp, AuthError> {
    Ok(SignUp {
        email: email_field("email", &body.email)?,
        name: text("body.name", body.name)?,
        password: body.password.into(),
        image: optional_text("body.image", body.image)?,
        remember: body.remember_me.unwrap_or(true),
        callback_url: optional_text("body.callbackURL", body.callback_url)?,
    })
}

/// Sign-in validates the address in its handler, with its own code (`INVALID_EMAIL`).
pub fn sign_in(body: pb::SignInEmailRequest) -> Result<SignIn, AuthError> {
    Ok(SignIn {
        email: Email::parse(&body.email).ok_or(AuthError::InvalidEmail)?,
        password: body.password.into(),
        remember: body.remember_me.unwrap_or(true),
        callback_url: optional_text("body.callbackURL", body.callback_url)?,
        trust_device: body.trust_device.filter(|token| !token.is_empty()),
    })
}

pub fn change_password(body: pb::ChangePasswordRequest) -> ChangePassword {
    ChangePassword {
        new_password: body.new_password.into(),
        current_password: body.current_password.into(),
        revoke_other_sessions: body.revoke_other_sessions,
    }
}

pub fn delete_user(
    password: Option<String>,
    token: Option<String>,
) -> Result<DeleteUser, AuthError> {
    Ok(DeleteUser {
        password: optional_password(password),
        token: optional_link_token(token)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(error: AuthError) -> String {
        error.to_string()
    }

    #[test]
    fn malformed_addresses_are_refused_as_each_route_refuses_them() {
        let sign_up = sign_up(pb::SignUpEmailRequest {
            email: "nope".into(),
            ..Default::default()
        });
        assert!(
            matches!(sign_up, Err(AuthError::Validation(ref text)) if text == "[body.email] Invalid email address")
        );
        let sign_in = sign_in(pb::SignInEmailRequest {
            email: "nope".into(),
            ..Default::default()
        });
        assert!(matches!(sign_in, Err(AuthError::InvalidEmail)));
        assert_eq!(
            message(email_field("newEmail", "a@b").unwrap_err()),
            "[body.newEmail] Invalid email address"
        );
    }

    #[test]
    fn a_sign_up_keeps_its_fields_and_remembers_by_default() {
        let input = sign_up(pb::SignUpEmailRequest {
            name: "Ada".into(),
            email: "Ada@Example.com".into(),
            password: "x".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(input.email.as_str(), "ada@example.com");
        assert_eq!(input.password.expose(), "x");
        assert!(input.remember);
    }

    #[test]
    fn empty_optional_fields_count_as_absent() {
        let input = delete_user(Some(String::new()), Some(String::new())).unwrap();
        assert!(input.password.is_none() && input.token.is_none());
        let input = delete_user(Some("pw".into()), Some("t".into())).unwrap();
        assert_eq!(input.password.unwrap().expose(), "pw");
        assert_eq!(input.token.unwrap().expose(), "t");
    }

    #[test]
    fn a_nul_in_text_is_a_validation_error_and_in_a_token_an_invalid_token() {
        let refused = |body: pb::SignUpEmailRequest| match sign_up(body) {
            Err(AuthError::Validation(message)) => message,
            other => panic!("accepted: {:?}", other.map(|input| input.name)),
        };
        let valid = || pb::SignUpEmailRequest {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            password: "correct horse".into(),
            ..Default::default()
        };
        assert_eq!(
            refused(pb::SignUpEmailRequest {
                name: "A\0da".into(),
                ..valid()
            }),
            "[body.name] name cannot contain a NUL character"
        );
        assert_eq!(
            refused(pb::SignUpEmailRequest {
                image: Some("\0".into()),
                ..valid()
            }),
            "[body.image] image cannot contain a NUL character"
        );
        // A password is only hashed, never stored as sent: Better Auth takes any.
        let input = sign_up(pb::SignUpEmailRequest {
            password: "pass\0word".into(),
            ..valid()
        })
        .unwrap();
        assert_eq!(input.password.expose(), "pass\0word");

        assert!(matches!(
            delete_user(None, Some("t\0".into())),
            Err(AuthError::InvalidToken)
        ));
        assert!(matches!(
            link_token("t\0".into()),
            Err(AuthError::InvalidToken)
        ));
    }

    #[test]
    fn empty_tokens_are_refused_with_better_auths_answers() {
        assert!(matches!(
            link_token(String::new()),
            Err(AuthError::InvalidToken)
        ));
        assert_eq!(
            message(session_ref("token", "").unwrap_err()),
            "[body.token] Invalid input: expected string, received undefined"
        );
        assert_eq!(
            message(session_ref("sessionToken", "").unwrap_err()),
            "[body.sessionToken] Invalid input: expected string, received undefined"
        );
    }
}
