//! The mails the account lifecycle sends, and the links in them (Better Auth's URLs under `BASE_URL/api/auth`).

use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use warden_common::AuthSecret;

use super::token::{self, EmailClaims};
use crate::{
    domain::{UserRecord, now},
    error::AuthError,
    mail::{Mail, Mailer},
};

/// What `encodeURIComponent` leaves alone: letters, digits and `-_.!~*'()`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

fn encode_uri_component(text: &str) -> String {
    utf8_percent_encode(text, URI_COMPONENT).to_string()
}

/// Signs the tokens, builds the links and queues the mails. Cheap to clone.
#[derive(Clone)]
pub struct Emails {
    mailer: Mailer,
    secret: AuthSecret,
    /// `BASE_URL` + `/api/auth`, Better Auth's `ctx.context.baseURL`.
    api_url: Arc<str>,
    verification_required: bool,
}

impl Emails {
    pub fn new(
        mailer: Mailer,
        secret: AuthSecret,
        base_url: &warden_common::settings::PublicUrl,
        verification_required: bool,
    ) -> Self {
        Self {
            mailer,
            secret,
            api_url: format!("{base_url}/api/auth").into(),
            verification_required,
        }
    }

    /// `REQUIRE_EMAIL_VERIFICATION`: no session until the address is verified.
    pub fn verification_required(&self) -> bool {
        self.verification_required
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    pub(crate) fn secret(&self) -> &AuthSecret {
        &self.secret
    }

    /// A verify-email link for `claims`, returning to `callback_url` (default `/`).
    fn verify_link(
        &self,
        claims: &EmailClaims,
        callback_url: Option<&str>,
    ) -> Result<String, AuthError> {
        let jwt = token::sign(&self.secret, claims)?;
        let callback =
            encode_uri_component(callback_url.filter(|url| !url.is_empty()).unwrap_or("/"));
        Ok(format!(
            "{}/verify-email?token={jwt}&callbackURL={callback}",
            self.api_url
        ))
    }

    /// Mails `user` a link that verifies their current address.
    pub fn send_verification(
        &self,
        user: &UserRecord,
        callback_url: Option<&str>,
    ) -> Result<(), AuthError> {
        let claims = EmailClaims::new(&user.email, Some(&user.id), now());
        let link = self.verify_link(&claims, callback_url)?;
        self.mailer.send(Mail {
            to: user.email.clone(),
            subject: "Verify your email address".into(),
            text: format!(
                "Hello {},\n\nPlease confirm your email address by opening this link:\n\n{link}\n\n\
                 The link works for one hour. If you did not ask for it, you can ignore this mail.\n",
                user.name
            ),
            link: Some(link),
        });
        Ok(())
    }

    /// Mails `new_email` a link that moves `user` to it (and marks it verified) when opened.
    pub fn send_email_change(
        &self,
        user: &UserRecord,
        new_email: &str,
        callback_url: Option<&str>,
    ) -> Result<(), AuthError> {
        let claims = EmailClaims::new(&user.email, Some(&user.id), now())
            .change_to(new_email, token::CHANGE_EMAIL_VERIFICATION);
        let link = self.verify_link(&claims, callback_url)?;
        self.mailer.send(Mail {
            to: new_email.to_owned(),
            subject: "Confirm your new email address".into(),
            text: format!(
                "Hello {},\n\nPlease confirm that {new_email} is your new email address by opening this link:\n\n\
                 {link}\n\nThe link works for one hour. If you did not ask for it, you can ignore this mail.\n",
                user.name
            ),
            link: Some(link),
        });
        Ok(())
    }

    /// Mails `user` a password-reset link holding `reset_token`, that returns to `redirect_to`.
    pub fn send_password_reset(
        &self,
        user: &UserRecord,
        reset_token: &str,
        redirect_to: Option<&str>,
    ) {
        let callback = redirect_to.map(encode_uri_component).unwrap_or_default();
        let link = format!(
            "{}/reset-password/{reset_token}?callbackURL={callback}",
            self.api_url
        );
        self.mailer.send(Mail {
            to: user.email.clone(),
            subject: "Reset your password".into(),
            text: format!(
                "Hello {},\n\nSomeone asked to reset the password of your account. To choose a new one, open \
                 this link:\n\n{link}\n\nThe link works once, for one hour. If you did not ask for it, you can \
                 ignore this mail: your password stays as it is.\n",
                user.name
            ),
            link: Some(link),
        });
    }

    /// Mails `user` the link that confirms deleting their account (`DELETE_USER_VERIFICATION`), returning to
    /// `callback_url` (default `/`), as Better Auth builds it.
    pub fn send_account_deletion(
        &self,
        user: &UserRecord,
        deletion_token: &str,
        callback_url: Option<&str>,
    ) {
        let callback =
            encode_uri_component(callback_url.filter(|url| !url.is_empty()).unwrap_or("/"));
        let link = format!(
            "{}/delete-user/callback?token={deletion_token}&callbackURL={callback}",
            self.api_url
        );
        self.mailer.send(Mail {
            to: user.email.clone(),
            subject: "Confirm the deletion of your account".into(),
            text: format!(
                "Hello {},\n\nSomeone asked to delete your account. To confirm, open this link while signed in:\n\n\
                 {link}\n\nThe link works once, for one day. If you did not ask for it, ignore this mail and change \
                 your password: your account stays as it is.\n",
                user.name
            ),
            link: Some(link),
        });
    }

    /// The cost of signing a token, for paths that must take as long as one that signs.
    pub fn sign_dummy(&self, email: &str) {
        let _ = token::sign(&self.secret, &EmailClaims::new(email, None, now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_encoded_as_javascript_does() {
        assert_eq!(
            encode_uri_component("/dashboard?a=1&b=2"),
            "%2Fdashboard%3Fa%3D1%26b%3D2"
        );
        assert_eq!(
            encode_uri_component("http://x.io/é"),
            "http%3A%2F%2Fx.io%2F%C3%A9"
        );
        assert_eq!(encode_uri_component("a-_.!~*'()z"), "a-_.!~*'()z");
    }
}
