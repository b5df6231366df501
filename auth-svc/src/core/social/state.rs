//! A sign-in's state between its two halves, as Better Auth keeps it: a `verification` row `auth-state:<state>`
//! holding the callback URLs, the PKCE verifier and the ID-token nonce for ten minutes, bound to the browser by the
//! signed `state` cookie (the gateway's) and usable once.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::{error::AuthError, store::Store, store::Verification};

use crate::error::CallbackError;

/// How long a started sign-in can be completed (Better Auth: 10 minutes; its cookie lives 5).
pub const STATE_LIFETIME: TimeDelta = TimeDelta::minutes(10);

const PREFIX: &str = "auth-state:";

pub use crate::domain::random_string;

/// What the state row holds, with Better Auth's keys (its `additionalData` keys at the top level). No `Debug`: it
/// holds the PKCE verifier.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateData {
    #[serde(flatten)]
    pub additional_data: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "callbackURL")]
    pub callback_url: String,
    pub code_verifier: String,
    #[serde(rename = "errorURL", skip_serializing_if = "Option::is_none")]
    pub error_url: Option<String>,
    #[serde(rename = "newUserURL", skip_serializing_if = "Option::is_none")]
    pub new_user_url: Option<String>,
    /// Epoch milliseconds.
    pub expires_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_sign_up: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_state: Option<String>,
    /// Present when the flow links an account to a signed-in user instead of signing in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkState>,
}

/// The user a link flow is for, as Better Auth keeps it: the session that started it travels encrypted under its own
/// purpose key, and must still be live when the provider sends the user back.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkState {
    pub user_id: String,
    pub email: String,
    pub encrypted_session_token: String,
}

/// The purpose key a link flow's session token is sealed under (Better Auth's).
pub const LINK_SESSION_PURPOSE: &str = "oauth-link-session-token";

/// Stores a new sign-in's state and returns it.
pub async fn save(
    store: &Store,
    data: &StateData,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let state = data
        .oauth_state
        .clone()
        .expect("a state being saved names itself");
    let value = serde_json::to_string(data).map_err(|error| AuthError::Internal(error.into()))?;
    store
        .insert_verification(
            &Verification {
                identifier: format!("{PREFIX}{state}"),
                value,
                expires_at: now + STATE_LIFETIME,
            },
            now,
        )
        .await?;
    Ok(state)
}

/// Takes the state a provider sent back, in Better Auth's order: the row must exist and name this state, the client
/// must have kept the same state (the browser's cookie), and then it is used up (even when it has expired). Which URL
/// an error goes to follows Better Auth: the state's own error URL once the row is read.
pub async fn take(
    store: &Store,
    state: Option<&str>,
    kept: Option<&str>,
    now: DateTime<Utc>,
) -> Result<StateData, CallbackError> {
    let Some(state) = state.filter(|state| !state.is_empty()) else {
        return Err(CallbackError::new("state_not_found"));
    };
    let identifier = format!("{PREFIX}{state}");
    let row = store
        .find_verification(&identifier)
        .await
        .map_err(|_| CallbackError::new("internal_server_error"))?
        .ok_or_else(|| CallbackError::new("state_mismatch"))?;
    let data: StateData = serde_json::from_str(&row.value)
        .map_err(|_| CallbackError::new("internal_server_error"))?;
    let mismatch = || CallbackError::new("state_mismatch").to(data.error_url.clone());
    if data.oauth_state.as_deref().is_some_and(|own| own != state) {
        return Err(mismatch());
    }
    if kept != Some(state) {
        return Err(mismatch());
    }
    // Used once: of two callbacks racing with the same state, only one gets the row.
    let taken = store
        .consume_verification(&identifier)
        .await
        .map_err(|_| CallbackError::new("internal_server_error"))?;
    if taken.is_none() {
        return Err(mismatch().consumed());
    }
    if data.expires_at < now.timestamp_millis() {
        return Err(mismatch().consumed());
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_strings_use_better_auths_alphabet_and_length() {
        let state = random_string(32);
        assert_eq!(state.len(), 32);
        assert!(
            state
                .bytes()
                .all(|b| crate::domain::RANDOM_ALPHABET.contains(&b))
        );
        assert_ne!(random_string(32), state);
        assert_eq!(random_string(128).len(), 128);
    }

    #[test]
    fn the_row_value_has_better_auths_keys_and_leaves_out_what_is_absent() {
        let data = StateData {
            additional_data: BTreeMap::from([("plan".to_owned(), serde_json::json!("pro"))]),
            callback_url: "/dashboard".into(),
            code_verifier: "v".repeat(128),
            error_url: Some("/oops".into()),
            new_user_url: None,
            expires_at: 1_796_460_077_595,
            request_sign_up: None,
            id_token_nonce: Some("n".into()),
            oauth_state: Some("s".into()),
            link: None,
        };
        let value: serde_json::Value = serde_json::to_value(&data).unwrap();
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "callbackURL",
                "codeVerifier",
                "errorURL",
                "expiresAt",
                "idTokenNonce",
                "oauthState",
                "plan"
            ]
        );
        // A row Better Auth wrote reads back.
        let written = r#"{"callbackURL":"http://localhost:3100","codeVerifier":"GCSF","expiresAt":1796460077595,"oauthState":"tJSl"}"#;
        let read: StateData = serde_json::from_str(written).unwrap();
        assert_eq!(read.callback_url, "http://localhost:3100");
        assert_eq!(read.oauth_state.as_deref(), Some("tJSl"));
        assert!(read.additional_data.is_empty());
        assert!(read.link.is_none());
        let linking = r#"{"callbackURL":"/settings","codeVerifier":"G","expiresAt":1,"oauthState":"t","link":{"userId":"u1","email":"ada@example.com","encryptedSessionToken":"00ff"}}"#;
        let read: StateData = serde_json::from_str(linking).unwrap();
        let link = read.link.expect("the link half is read");
        assert_eq!(
            (link.user_id.as_str(), link.email.as_str()),
            ("u1", "ada@example.com")
        );
        assert!(
            read.additional_data.is_empty(),
            "`link` is not additional data"
        );
    }
}
