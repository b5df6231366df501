//! Where a provider's endpoints are: configured, or read from its discovery document, which is cached per URL
//! (the times are in the `oauth` module doc).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

use super::fault::{Failure, Fault};
use super::{OAuth, OAuthError};
use crate::core::social::settings::{Endpoints, Provider};

/// How long a discovery document is used before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long the previous discovery document serves when its refetch failed, before the next try.
const DISCOVERY_RETRY: Duration = Duration::from_secs(60);

impl OAuth {
    /// Where a provider's endpoints are, discovering them when the provider is configured by discovery.
    pub(super) async fn endpoints(&self, provider: &Provider) -> Result<Resolved, Failure> {
        match &provider.endpoints {
            Endpoints::Manual {
                authorization,
                token,
                userinfo,
            } => Ok(Resolved {
                authorization: authorization.clone(),
                token: token.clone(),
                userinfo: userinfo.clone(),
                discovered: None,
            }),
            Endpoints::Discovery(url) => {
                let discovered = self.discover(provider, url).await?;
                Ok(Resolved {
                    authorization: discovered.authorization.clone(),
                    token: discovered.token.clone(),
                    userinfo: discovered.userinfo.clone(),
                    discovered: Some(discovered),
                })
            }
        }
    }

    /// The provider's discovery document, None for configured endpoints.
    pub(super) async fn discovered(
        &self,
        provider: &Provider,
    ) -> Result<Option<Arc<Discovered>>, Failure> {
        match &provider.endpoints {
            Endpoints::Manual { .. } => Ok(None),
            Endpoints::Discovery(url) => self.discover(provider, url).await.map(Some),
        }
    }

    async fn discover(&self, provider: &Provider, url: &Url) -> Result<Arc<Discovered>, Failure> {
        let slot = self.discovery.get(url);
        let mut slot = slot.lock().await;
        if let Some((document, fresh_until)) = &slot.document
            && Instant::now() < *fresh_until
        {
            return Ok(document.clone());
        }
        let fetched = async { Discovered::from_document(&self.get_json(url, None).await?, url) };
        match (fetched.await, &slot.document) {
            (Ok(document), _) => {
                let document = Arc::new(document);
                slot.document = Some((document.clone(), Instant::now() + DISCOVERY_TTL));
                Ok(document)
            }
            (Err(cause), Some((stale, _))) => {
                tracing::warn!(
                    provider.id = %provider.id,
                    %cause,
                    "discovery refetch failed; the previous document serves"
                );
                let stale = stale.clone();
                slot.document = Some((stale.clone(), Instant::now() + DISCOVERY_RETRY));
                Ok(stale)
            }
            (Err(cause), None) => Err(Failure {
                error: OAuthError::Discovery(provider.id.clone()),
                cause,
            }),
        }
    }
}

/// A provider's endpoints, discovered or configured.
pub(super) struct Resolved {
    pub(super) authorization: Url,
    pub(super) token: Url,
    pub(super) userinfo: Option<Url>,
    pub(super) discovered: Option<Arc<Discovered>>,
}

/// What Warden uses of a discovery document.
#[derive(Debug)]
pub(super) struct Discovered {
    pub(super) issuer: Option<String>,
    pub(super) authorization: Url,
    pub(super) token: Url,
    pub(super) userinfo: Option<Url>,
    pub(super) jwks: Option<Url>,
    /// `id_token_signing_alg_values_supported`, empty when not listed.
    pub(super) algorithms: Vec<String>,
}

impl Discovered {
    pub(super) fn from_document(document: &Value, url: &Url) -> Result<Self, Fault> {
        let document = document
            .as_object()
            .ok_or(Fault::Invalid("discovery document"))?;
        let endpoint = |name: &'static str| -> Result<Option<Url>, Fault> {
            document
                .get(name)
                .and_then(Value::as_str)
                .map(|value| {
                    url.join(value)
                        .ok()
                        .filter(is_provider_address)
                        .ok_or(Fault::Invalid(name))
                })
                .transpose()
        };
        let issuer = match document.get("issuer").and_then(Value::as_str) {
            Some(issuer) if Url::parse(issuer).is_err() => return Err(Fault::Invalid("issuer")),
            issuer => issuer.map(str::to_owned),
        };
        let algorithms = document
            .get("id_token_signing_alg_values_supported")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            issuer,
            authorization: endpoint("authorization_endpoint")?
                .ok_or(Fault::Missing("authorization_endpoint"))?,
            token: endpoint("token_endpoint")?.ok_or(Fault::Missing("token_endpoint"))?,
            userinfo: endpoint("userinfo_endpoint")?,
            jwks: endpoint("jwks_uri")?,
            algorithms,
        })
    }

    /// OpenID Connect as Better Auth tells it: the document lists ID-token signing algorithms.
    pub(super) fn is_oidc(&self) -> bool {
        !self.algorithms.is_empty()
    }

    /// The issuer and key set ID tokens are verified against, when both were discovered.
    pub(super) fn keys(&self) -> Option<(&str, &Url)> {
        Some((self.issuer.as_deref()?, self.jwks.as_ref()?))
    }
}

#[derive(Default)]
pub(super) struct DiscoverySlot {
    /// The document and when to fetch it again.
    document: Option<(Arc<Discovered>, Instant)>,
}

/// https, or http to a loopback host: what settings allow for configured endpoints, held to for discovered ones.
fn is_provider_address(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(host)) => host == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::social::oauth::stand_in::*;

    #[test]
    fn discovered_endpoints_must_be_https_or_loopback() {
        let at = url("https://op.example.com/.well-known/openid-configuration");
        let document = |token: &str| {
            json!({"issuer": "https://op.example.com", "authorization_endpoint": "https://op.example.com/auth",
                   "token_endpoint": token, "jwks_uri": "/jwks", "id_token_signing_alg_values_supported": ["RS256"]})
        };
        let discovered =
            Discovered::from_document(&document("https://op.example.com/token"), &at).unwrap();
        assert_eq!(
            discovered.jwks.as_ref().unwrap().as_str(),
            "https://op.example.com/jwks"
        );
        assert!(discovered.is_oidc() && discovered.keys().is_some());
        assert!(Discovered::from_document(&document("http://127.0.0.1:4100/token"), &at).is_ok());
        assert!(Discovered::from_document(&document("http://op.example.com/token"), &at).is_err());
        assert!(Discovered::from_document(&document("ftp://op.example.com/token"), &at).is_err());
        assert!(Discovered::from_document(&json!({"issuer": "not a url"}), &at).is_err());
    }

    #[tokio::test]
    async fn the_callback_issuer_is_checked_against_the_discovered_one() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        assert!(oauth.requires_nonce(&provider).await.unwrap());
        oauth
            .check_issuer(&provider, Some(&op.issuer))
            .await
            .unwrap();
        oauth.check_issuer(&provider, None).await.unwrap();
        let evil = oauth
            .check_issuer(&provider, Some("http://evil.example"))
            .await;
        assert!(matches!(evil, Err(OAuthError::IssuerMismatch)));
        oauth
            .check_issuer(&op.github(), Some("http://evil.example"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_unusable_discovery_document_is_a_discovery_error() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        op.set(|answers| {
            answers.discovery["token_endpoint"] = json!("http://op.example.com/token")
        });
        let url = oauth
            .authorization_url(&provider, &request("https://app/cb", &[], &[]))
            .await;
        assert!(matches!(url, Err(OAuthError::Discovery(id)) if id == "acme"));
        let exchanged = oauth
            .exchange_code(&provider, "code", None, "https://app/cb")
            .await;
        assert!(matches!(exchanged, Err(OAuthError::Discovery(_))));
        assert!(op.seen("/token").is_empty());
    }

    #[tokio::test]
    async fn a_discovery_document_past_its_time_serves_while_the_provider_is_down() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        let sign_in = request("https://app/cb", &[], &[]);
        let ask = || oauth.authorization_url(&provider, &sign_in);
        ask().await.unwrap();
        let expire = || async {
            let url = op.base.join(".well-known/openid-configuration").unwrap();
            let slot = oauth.discovery.get(&url);
            let mut slot = slot.lock().await;
            if let Some((_, fresh_until)) = slot.document.as_mut() {
                *fresh_until = Instant::now();
            }
        };
        expire().await;
        op.set(|answers| answers.discovery = json!("down"));

        ask().await.unwrap();
        ask().await.unwrap();
        assert_eq!(
            op.seen("/.well-known/openid-configuration").len(),
            2,
            "one failed refetch, then a minute's rest"
        );
    }
}
