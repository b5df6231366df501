//! `update-session`: Better Auth's update of a session's additional fields (`session.additionalFields`). Warden
//! configures none, so, as Better Auth with none, the route can only refuse once the session is confirmed: a
//! server-only field with a truthy value is `FIELD_NOT_ALLOWED`, and anything else leaves nothing to update.

use std::convert::Infallible;

use super::Account;
use crate::{domain::SessionToken, error::AuthError};

/// Session fields only the server sets (the admin plugin's `impersonatedBy`, `input: false`). Better Auth refuses
/// one whose value is truthy and skips it otherwise.
const SERVER_ONLY: &[&str] = &["impersonatedBy"];

/// A body of additional session fields: each name, and whether its value is truthy as JavaScript judges it
/// (`false`, `0`, `""` and `null` are not).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SessionFields(Vec<(String, bool)>);

impl SessionFields {
    pub fn new(fields: impl IntoIterator<Item = (String, bool)>) -> Self {
        Self(fields.into_iter().collect())
    }

    /// The first server-only field set to a truthy value.
    fn server_only(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, truthy)| *truthy && SERVER_ONLY.contains(&name.as_str()))
            .map(|(name, _)| name.as_str())
    }
}

impl Account {
    /// Updates the caller's session's additional fields: `UNAUTHORIZED` without a live session, then
    /// `FIELD_NOT_ALLOWED` or `No fields to update`. With no additional fields configured nothing can succeed, which
    /// the `Infallible` says.
    pub async fn update_session(
        &self,
        token: Option<&SessionToken>,
        fields: &SessionFields,
    ) -> Result<Infallible, AuthError> {
        self.session(token).await?;
        if let Some(name) = fields.server_only() {
            return Err(AuthError::FieldNotAllowed(name.to_owned()));
        }
        Err(AuthError::NoFieldsToUpdate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_truthy_server_only_field_is_refused() {
        let fields = |list: &[(&str, bool)]| {
            SessionFields::new(
                list.iter()
                    .map(|(name, truthy)| ((*name).to_owned(), *truthy)),
            )
        };
        assert_eq!(
            fields(&[("foo", true), ("impersonatedBy", true)]).server_only(),
            Some("impersonatedBy")
        );
        assert_eq!(fields(&[("impersonatedBy", false)]).server_only(), None);
        assert_eq!(
            fields(&[("userId", true), ("token", true)]).server_only(),
            None
        );
    }
}
