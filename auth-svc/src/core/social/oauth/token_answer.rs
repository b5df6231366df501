//! The token endpoint: the client's credentials in the form, and its answer read as [`Tokens`] (§5.4, §5.6).

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use secrecy::ExposeSecret;
use serde_json::Value;
use url::{Url, form_urlencoded};

use super::fault::{Fault, read_json};
use super::{OAuth, Tokens};
use crate::core::social::settings::Provider;

impl OAuth {
    /// A POST to a token endpoint, its answer read as tokens.
    pub(super) async fn token_request(
        &self,
        endpoint: &Url,
        form: String,
    ) -> Result<Tokens, Fault> {
        let answer = self
            .http
            .post(endpoint.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(form)
            .send()
            .await
            .map_err(Fault::transport)?;
        tokens_from(&read_json(answer).await?, Utc::now())
    }
}

/// `client_secret_post`, Better Auth's default whenever a secret is configured (§5.4).
pub(super) fn client_secret_post(
    form: &mut form_urlencoded::Serializer<'_, String>,
    provider: &Provider,
) {
    form.append_pair("client_id", &provider.client.id)
        .append_pair("client_secret", provider.client.secret.expose_secret());
}

/// A token endpoint's answer as tokens (§5.4): an `error` member, even under 200 as GitHub sends it, or no access
/// token, is a refusal.
fn tokens_from(answer: &Value, now: DateTime<Utc>) -> Result<Tokens, Fault> {
    let answer = answer.as_object().ok_or(Fault::Invalid("token answer"))?;
    if let Some(error) = answer.get("error") {
        return Err(Fault::refused(error.as_str()));
    }
    let string = |name: &str| {
        answer
            .get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let expires_at = |name: &str| {
        let seconds = match answer.get(name)? {
            Value::Number(number) => number.as_f64()?,
            Value::String(text) => text.trim().parse().ok()?,
            _ => return None,
        };
        // Better Auth: a zero or absent lifetime is no expiry.
        if !seconds.is_finite() || seconds <= 0.0 {
            return None;
        }
        now.checked_add_signed(TimeDelta::try_milliseconds((seconds * 1000.0) as i64)?)
    };
    Ok(Tokens {
        access_token: Some(string("access_token").ok_or(Fault::Missing("access_token"))?),
        refresh_token: string("refresh_token"),
        id_token: string("id_token"),
        access_token_expires_at: expires_at("expires_in"),
        refresh_token_expires_at: expires_at("refresh_token_expires_in"),
        scope: scope_column(answer.get("scope")),
    })
}

/// The `scope` column (§5.6): the answer's scopes split on whitespace (a list accepted too), joined with ",".
fn scope_column(scope: Option<&Value>) -> String {
    match scope {
        Some(Value::String(scope)) => scope.split_whitespace().collect::<Vec<_>>().join(","),
        Some(Value::Array(scopes)) => scopes
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|scope| !scope.is_empty())
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::social::oauth::OAuthError;
    use crate::core::social::oauth::stand_in::*;

    #[test]
    fn the_scope_column_is_better_auths() {
        let cases = [
            (Some(json!("openid email profile")), "openid,email,profile"),
            (Some(json!("  openid\temail  ")), "openid,email"),
            (Some(json!("read:user,user:email")), "read:user,user:email"),
            (Some(json!(["openid", " email ", 7, ""])), "openid,email"),
            (Some(json!(null)), ""),
            (None, ""),
        ];
        for (scope, column) in cases {
            assert_eq!(scope_column(scope.as_ref()), column, "{scope:?}");
        }
    }

    #[test]
    fn a_token_answer_is_read_as_better_auth_reads_it() {
        let now = Utc::now();
        let tokens = tokens_from(
            &json!({"access_token": "at", "refresh_token": "rt", "id_token": "it", "expires_in": 3600,
                    "refresh_token_expires_in": "7200", "scope": "openid email", "token_type": "Bearer"}),
            now,
        )
        .unwrap();
        assert_eq!(tokens.access_token.as_deref(), Some("at"));
        assert_eq!(tokens.refresh_token.as_deref(), Some("rt"));
        assert_eq!(tokens.id_token.as_deref(), Some("it"));
        assert_eq!(
            tokens.access_token_expires_at,
            Some(now + TimeDelta::seconds(3600))
        );
        assert_eq!(
            tokens.refresh_token_expires_at,
            Some(now + TimeDelta::seconds(7200))
        );
        assert_eq!(tokens.scope, "openid,email");

        let github = tokens_from(
            &json!({"access_token": "gho_x", "token_type": "bearer", "scope": "read:user,user:email", "expires_in": 0}),
            now,
        )
        .unwrap();
        assert_eq!(github.access_token_expires_at, None);
        assert_eq!(github.scope, "read:user,user:email");

        for refused in [
            json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect"}),
            json!({"token_type": "bearer"}),
            json!({"access_token": ""}),
            json!(["access_token"]),
        ] {
            assert!(tokens_from(&refused, now).is_err(), "{refused}");
        }
        assert!(matches!(
            tokens_from(&json!({"error": "bad code <script>"}), now),
            Err(Fault::Refused(code)) if code == "?"
        ));
    }

    #[tokio::test]
    async fn a_code_is_exchanged_with_better_auths_form_and_discovery_is_cached() {
        let op = Op::start().await;
        op.set(|answers| {
            answers.token = (200, json!({"access_token": "at-1", "refresh_token": "rt-1", "id_token": "it-1",
                                         "expires_in": 3600, "scope": "openid email profile", "token_type": "Bearer"}))
        });
        let oauth = OAuth::new();
        let provider = op.generic();

        let authorization = oauth
            .authorization_url(
                &provider,
                &request("http://localhost:3100/api/auth/callback/acme", &[], &[]),
            )
            .await
            .unwrap();
        assert!(
            authorization
                .as_str()
                .starts_with(&format!("{}/auth?response_type=code&", op.issuer))
        );
        let tokens = oauth
            .exchange_code(
                &provider,
                "the-code",
                Some(VERIFIER),
                "http://localhost:3100/api/auth/callback/acme",
            )
            .await
            .unwrap();

        assert_eq!(tokens.access_token.as_deref(), Some("at-1"));
        assert_eq!(tokens.refresh_token.as_deref(), Some("rt-1"));
        assert_eq!(tokens.id_token.as_deref(), Some("it-1"));
        assert_eq!(tokens.scope, "openid,email,profile");
        assert!(tokens.access_token_expires_at.is_some());
        let [sent] = op.seen("/token").try_into().unwrap();
        assert_eq!(sent.method, "POST");
        assert_eq!(
            sent.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(sent.header("accept"), Some("application/json"));
        assert_eq!(sent.header("user-agent"), Some("warden"));
        assert_eq!(
            sent.body,
            format!(
                "grant_type=authorization_code&code=the-code&code_verifier={VERIFIER}&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Facme&client_id=client-1&client_secret=the-secret"
            )
        );
        assert_eq!(op.seen("/.well-known/openid-configuration").len(), 1);
    }

    #[tokio::test]
    async fn a_refused_code_a_redirect_or_an_error_under_200_is_an_invalid_code() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let github = op.github();
        let answers = [
            (
                200,
                json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect"}),
            ),
            (400, json!({"error": "invalid_grant"})),
            (302, json!({"access_token": "at-1"})),
            (200, json!("access_token=at-1&scope=repo")),
        ];
        for answer in answers {
            op.set(|answers| answers.token = answer.clone());
            let exchanged = oauth
                .exchange_code(&github, "code", Some(VERIFIER), "https://app/cb")
                .await;
            assert!(
                matches!(exchanged, Err(OAuthError::InvalidCode)),
                "{answer:?}"
            );
        }
    }

    #[tokio::test]
    async fn pkce_off_sends_no_verifier() {
        let op = Op::start().await;
        let mut provider = op.manual();
        provider.pkce = false;
        OAuth::new()
            .exchange_code(&provider, "code", Some(VERIFIER), "https://app/cb")
            .await
            .unwrap();
        let names: Vec<String> = form(&op.seen("/token")[0].body)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(
            names,
            [
                "grant_type",
                "code",
                "redirect_uri",
                "client_id",
                "client_secret"
            ]
        );
    }

    #[tokio::test]
    async fn a_refresh_sends_better_auths_form_and_needs_an_access_token_back() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.manual();
        op.set(|answers| answers.token = (200, json!({"access_token": "at-2", "expires_in": 60})));
        let tokens = oauth.refresh(&provider, "rt-1").await.unwrap();
        assert_eq!(tokens.access_token.as_deref(), Some("at-2"));
        assert_eq!(tokens.refresh_token, None);
        assert_eq!(
            op.seen("/token")[0].body,
            "grant_type=refresh_token&refresh_token=rt-1&client_id=client-1&client_secret=the-secret"
        );

        for answer in [
            (200, json!({"token_type": "Bearer"})),
            (400, json!({"error": "invalid_grant"})),
        ] {
            op.set(|answers| answers.token = answer.clone());
            assert!(matches!(
                oauth.refresh(&provider, "rt-1").await,
                Err(OAuthError::RefreshFailed)
            ));
        }
    }
}
