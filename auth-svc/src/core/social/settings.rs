//! Which providers a deployment offers, read once at start: Google and GitHub by their own variables, any number of
//! OpenID Connect or plain OAuth 2.0 providers by `OAUTH_PROVIDERS` and `OAUTH_<ID>_*`, and `TRUSTED_PROVIDERS`.
//!
//! A provider is all there or not at all: half a provider (an id without its secret, a generic provider without
//! endpoints) stops the start with one line naming the missing variable, rather than failing at a user's sign-in.

use secrecy::{ExposeSecret, SecretString};
use url::Url;
use warden_common::settings::{Env, SettingsError, split_list};

/// Google's issuer; `GOOGLE_ISSUER` points Warden at another one (a local provider in tests).
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// GitHub's web address; `GITHUB_BASE_URL` names a GitHub Enterprise Server instead.
pub const GITHUB_BASE_URL: &str = "https://github.com";

/// Provider ids Warden reserves: its own two, and Better Auth's id for passwords.
const RESERVED: [&str; 3] = ["google", "github", "credential"];

/// The social sign-in settings every binary that serves auth-svc reads (flattened into auth-svc's and the
/// all-in-one's command lines).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct SocialArgs {
    /// Google OAuth client id (Google Cloud console → Credentials); with GOOGLE_CLIENT_SECRET it turns Google on.
    #[arg(long, env = "GOOGLE_CLIENT_ID")]
    pub google_client_id: Option<String>,
    /// Google OAuth client secret.
    #[arg(long, env = "GOOGLE_CLIENT_SECRET", hide_env_values = true)]
    pub google_client_secret: Option<SecretString>,
    /// The OpenID Connect issuer Google sign-in uses, discovered from its /.well-known/openid-configuration.
    #[arg(long, env = "GOOGLE_ISSUER", default_value = GOOGLE_ISSUER)]
    pub google_issuer: String,
    /// GitHub OAuth app client id; with GITHUB_CLIENT_SECRET it turns GitHub on.
    #[arg(long, env = "GITHUB_CLIENT_ID")]
    pub github_client_id: Option<String>,
    /// GitHub OAuth app client secret.
    #[arg(long, env = "GITHUB_CLIENT_SECRET", hide_env_values = true)]
    pub github_client_secret: Option<SecretString>,
    /// GitHub's address: https://github.com, or a GitHub Enterprise Server (its API is then under /api/v3).
    #[arg(long, env = "GITHUB_BASE_URL", default_value = GITHUB_BASE_URL)]
    pub github_base_url: String,
    /// Comma-separated ids of further providers, each configured by OAUTH_<ID>_* variables (see the README).
    #[arg(long, env = "OAUTH_PROVIDERS", default_value = "")]
    pub oauth_providers: String,
    /// Comma-separated provider ids whose accounts link to an existing user with the same email even when the
    /// provider does not say the email is verified (Better Auth's accountLinking.trustedProviders).
    #[arg(long, env = "TRUSTED_PROVIDERS", default_value = "")]
    pub trusted_providers: String,
}

/// A provider's client credentials. No `Debug` of the secret.
#[derive(Clone)]
pub struct Client {
    pub id: String,
    pub secret: SecretString,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Where a provider's endpoints come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoints {
    /// An OpenID Connect discovery document (`…/.well-known/openid-configuration`).
    Discovery(Url),
    /// Plain OAuth 2.0: named endpoints; without a user-info endpoint the user comes from the ID token.
    Manual {
        authorization: Url,
        token: Url,
        userinfo: Option<Url>,
    },
}

/// What kind of provider, which decides how its user is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Google: OpenID Connect at `issuer`.
    Google,
    /// GitHub: OAuth 2.0 with the user from its REST API (`/user`, `/user/emails`).
    Github { api: Url },
    /// Any other provider.
    Generic,
}

/// One provider as configured.
#[derive(Clone, Debug)]
pub struct Provider {
    pub id: String,
    pub kind: Kind,
    pub endpoints: Endpoints,
    pub client: Client,
    /// The scopes asked for when a sign-in names none of its own.
    pub scopes: Vec<String>,
    /// PKCE (S256) on the authorization code; only a provider that refuses it needs `OAUTH_<ID>_PKCE=false`.
    pub pkce: bool,
}

/// Every configured provider, in the order configured (Google, GitHub, then `OAUTH_PROVIDERS`).
#[derive(Clone, Debug, Default)]
pub struct Social {
    pub providers: Vec<Provider>,
    /// `TRUSTED_PROVIDERS`.
    pub trusted: Vec<String>,
}

impl Social {
    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|provider| provider.id == id)
    }

    pub fn is_trusted(&self, id: &str) -> bool {
        self.trusted.iter().any(|trusted| trusted == id)
    }
}

impl SocialArgs {
    /// Every provider parsed; the `OAUTH_<ID>_*` variables are read through `env`.
    pub fn resolve(&self, env: &impl Env) -> Result<Social, SettingsError> {
        let mut providers = Vec::new();
        if let Some(client) = client_pair(
            ("GOOGLE_CLIENT_ID", self.google_client_id.as_deref()),
            ("GOOGLE_CLIENT_SECRET", self.google_client_secret.as_ref()),
        )? {
            let issuer = provider_url("GOOGLE_ISSUER", &self.google_issuer)?;
            providers.push(Provider {
                id: "google".into(),
                kind: Kind::Google,
                endpoints: Endpoints::Discovery(discovery_url(&issuer)),
                client,
                scopes: words(&["email", "profile", "openid"]),
                pkce: true,
            });
        }
        if let Some(client) = client_pair(
            ("GITHUB_CLIENT_ID", self.github_client_id.as_deref()),
            ("GITHUB_CLIENT_SECRET", self.github_client_secret.as_ref()),
        )? {
            let base = provider_url("GITHUB_BASE_URL", &self.github_base_url)?;
            let join = |path: &str| {
                base.join(path)
                    .map_err(|error| SettingsError::new("GITHUB_BASE_URL", error.to_string()))
            };
            let api = if base.host_str() == Some("github.com") {
                Url::parse("https://api.github.com/").expect("a valid URL")
            } else {
                join("api/v3/")?
            };
            providers.push(Provider {
                id: "github".into(),
                kind: Kind::Github { api },
                endpoints: Endpoints::Manual {
                    authorization: join("login/oauth/authorize")?,
                    token: join("login/oauth/access_token")?,
                    userinfo: None,
                },
                client,
                scopes: words(&["read:user", "user:email"]),
                pkce: true,
            });
        }
        for id in split_list(&self.oauth_providers) {
            if RESERVED.contains(&id.as_str()) {
                return Err(SettingsError::new(
                    "OAUTH_PROVIDERS",
                    format!("`{id}` is reserved; Google and GitHub have variables of their own"),
                ));
            }
            if !valid_id(&id) {
                return Err(SettingsError::new(
                    "OAUTH_PROVIDERS",
                    format!("`{id}` is not a provider id (lowercase letters, digits, `-` and `_`)"),
                ));
            }
            if providers
                .iter()
                .any(|provider: &Provider| provider.id == id)
            {
                return Err(SettingsError::new(
                    "OAUTH_PROVIDERS",
                    format!("`{id}` is listed twice"),
                ));
            }
            providers.push(generic(&id, env)?);
        }
        let trusted = split_list(&self.trusted_providers);
        if let Some(unknown) = trusted
            .iter()
            .find(|id| !providers.iter().any(|provider| &provider.id == *id))
        {
            return Err(SettingsError::new(
                "TRUSTED_PROVIDERS",
                format!("`{unknown}` is not a configured provider"),
            ));
        }
        Ok(Social { providers, trusted })
    }
}

/// A generic provider from `OAUTH_<ID>_*`.
fn generic(id: &str, env: &impl Env) -> Result<Provider, SettingsError> {
    let prefix = format!("OAUTH_{}_", id.to_ascii_uppercase().replace('-', "_"));
    let name = |suffix: &str| format!("{prefix}{suffix}");
    let read = |suffix: &str| env(&name(suffix)).filter(|value| !value.trim().is_empty());
    let url = |suffix: &str| {
        read(suffix)
            .map(|value| provider_url(name(suffix), &value))
            .transpose()
    };
    let required = |suffix: &str| {
        read(suffix).ok_or_else(|| {
            SettingsError::new(
                name(suffix),
                format!("required for the provider `{id}` in OAUTH_PROVIDERS"),
            )
        })
    };
    let client = Client {
        id: required("CLIENT_ID")?,
        secret: required("CLIENT_SECRET")?.into(),
    };
    let endpoints = match (url("DISCOVERY_URL")?, url("AUTHORIZATION_URL")?) {
        (Some(discovery), None) => Endpoints::Discovery(discovery),
        (None, Some(authorization)) => Endpoints::Manual {
            authorization,
            token: url("TOKEN_URL")?.ok_or_else(|| {
                SettingsError::new(
                    name("TOKEN_URL"),
                    format!("required with {}", name("AUTHORIZATION_URL")),
                )
            })?,
            userinfo: url("USERINFO_URL")?,
        },
        (Some(_), Some(_)) => {
            return Err(SettingsError::new(
                name("AUTHORIZATION_URL"),
                format!(
                    "set either {} or the endpoints, not both",
                    name("DISCOVERY_URL")
                ),
            ));
        }
        (None, None) => {
            return Err(SettingsError::new(
                name("DISCOVERY_URL"),
                format!(
                    "required for the provider `{id}` (or {} and {})",
                    name("AUTHORIZATION_URL"),
                    name("TOKEN_URL")
                ),
            ));
        }
    };
    let scopes = match read("SCOPES") {
        Some(scopes) => scopes
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|scope| !scope.is_empty())
            .map(str::to_owned)
            .collect(),
        None if matches!(endpoints, Endpoints::Discovery(_)) => {
            words(&["openid", "email", "profile"])
        }
        None => Vec::new(),
    };
    let pkce = match read("PKCE").as_deref().map(str::trim) {
        None => true,
        Some(value) => parse_bool(value).ok_or_else(|| {
            SettingsError::new(name("PKCE"), format!("`{value}` is not true or false"))
        })?,
    };
    Ok(Provider {
        id: id.to_owned(),
        kind: Kind::Generic,
        endpoints,
        client,
        scopes,
        pkce,
    })
}

/// Both halves of a client, or neither; half of one names the missing variable.
fn client_pair(
    (id_name, id): (&'static str, Option<&str>),
    (secret_name, secret): (&'static str, Option<&SecretString>),
) -> Result<Option<Client>, SettingsError> {
    let id = id.map(str::trim).filter(|id| !id.is_empty());
    let secret = secret.filter(|secret| !secret.expose_secret().trim().is_empty());
    match (id, secret) {
        (None, None) => Ok(None),
        (Some(id), Some(secret)) => Ok(Some(Client {
            id: id.to_owned(),
            secret: secret.clone(),
        })),
        (Some(_), None) => Err(SettingsError::new(
            secret_name,
            format!("required with {id_name}"),
        )),
        (None, Some(_)) => Err(SettingsError::new(
            id_name,
            format!("required with {secret_name}"),
        )),
    }
}

/// A provider address: https, or http on a loopback host only (a local provider in development and tests), since
/// client secrets and codes travel to it.
fn provider_url(
    variable: impl Into<std::borrow::Cow<'static, str>>,
    value: &str,
) -> Result<Url, SettingsError> {
    let variable = variable.into();
    let url = Url::parse(value.trim())
        .map_err(|error| SettingsError::new(variable.clone(), format!("not a URL: {error}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(host)) => host == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(SettingsError::new(
            variable,
            "must be https (http only for localhost and loopback addresses)",
        )),
        _ => Err(SettingsError::new(variable, "must be an https URL")),
    }
}

/// `issuer/.well-known/openid-configuration`, keeping any path the issuer has.
fn discovery_url(issuer: &Url) -> Url {
    let mut url = issuer.clone();
    let path = format!(
        "{}/.well-known/openid-configuration",
        issuer.path().trim_end_matches('/')
    );
    url.set_path(&path);
    url
}

fn valid_id(id: &str) -> bool {
    id.bytes()
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first.is_ascii_digit())
        && id.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_'
        })
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|word| (*word).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn args() -> SocialArgs {
        SocialArgs {
            google_issuer: GOOGLE_ISSUER.into(),
            github_base_url: GITHUB_BASE_URL.into(),
            ..SocialArgs::default()
        }
    }

    fn env(pairs: &[(&str, &str)]) -> impl Env {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    fn refused(args: &SocialArgs, pairs: &[(&str, &str)]) -> SettingsError {
        args.resolve(&env(pairs)).unwrap_err()
    }

    #[test]
    fn nothing_configured_is_no_provider() {
        let social = args().resolve(&env(&[])).unwrap();
        assert!(social.providers.is_empty());
    }

    #[test]
    fn google_and_github_need_both_halves_of_their_client() {
        let mut google = args();
        google.google_client_id = Some("g-id".into());
        assert_eq!(refused(&google, &[]).variable, "GOOGLE_CLIENT_SECRET");
        let mut github = args();
        github.github_client_secret = Some("s".to_owned().into());
        assert_eq!(refused(&github, &[]).variable, "GITHUB_CLIENT_ID");

        let mut both = args();
        both.google_client_id = Some("g-id".into());
        both.google_client_secret = Some("g-secret".to_owned().into());
        both.github_client_id = Some("h-id".into());
        both.github_client_secret = Some("h-secret".to_owned().into());
        let social = both.resolve(&env(&[])).unwrap();
        let ids: Vec<&str> = social.providers.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["google", "github"]);
        assert_eq!(
            social.provider("google").unwrap().endpoints,
            Endpoints::Discovery(
                "https://accounts.google.com/.well-known/openid-configuration"
                    .parse()
                    .unwrap()
            )
        );
        let github = social.provider("github").unwrap();
        assert_eq!(
            github.kind,
            Kind::Github {
                api: "https://api.github.com/".parse().unwrap()
            }
        );
        assert!(!format!("{github:?}").contains("h-secret"));
    }

    #[test]
    fn github_enterprise_and_a_local_google_are_overrides() {
        let mut args = args();
        args.github_client_id = Some("h".into());
        args.github_client_secret = Some("s".to_owned().into());
        args.github_base_url = "https://git.example.com/".into();
        args.google_client_id = Some("g".into());
        args.google_client_secret = Some("s".to_owned().into());
        args.google_issuer = "http://127.0.0.1:9000/oidc".into();
        let social = args.resolve(&env(&[])).unwrap();
        let github = social.provider("github").unwrap();
        assert_eq!(
            github.kind,
            Kind::Github {
                api: "https://git.example.com/api/v3/".parse().unwrap()
            }
        );
        assert_eq!(
            github.endpoints,
            Endpoints::Manual {
                authorization: "https://git.example.com/login/oauth/authorize"
                    .parse()
                    .unwrap(),
                token: "https://git.example.com/login/oauth/access_token"
                    .parse()
                    .unwrap(),
                userinfo: None,
            }
        );
        assert_eq!(
            social.provider("google").unwrap().endpoints,
            Endpoints::Discovery(
                "http://127.0.0.1:9000/oidc/.well-known/openid-configuration"
                    .parse()
                    .unwrap()
            )
        );

        args.google_issuer = "http://accounts.example.com".into();
        assert_eq!(
            args.resolve(&env(&[])).unwrap_err().variable,
            "GOOGLE_ISSUER"
        );
    }

    #[test]
    fn a_generic_provider_is_discovered_or_named_endpoint_by_endpoint() {
        let mut args = args();
        args.oauth_providers = "okta, my-gitlab".into();
        let social = args
            .resolve(&env(&[
                (
                    "OAUTH_OKTA_DISCOVERY_URL",
                    "https://example.okta.com/.well-known/openid-configuration",
                ),
                ("OAUTH_OKTA_CLIENT_ID", "okta-id"),
                ("OAUTH_OKTA_CLIENT_SECRET", "okta-secret"),
                (
                    "OAUTH_MY_GITLAB_AUTHORIZATION_URL",
                    "https://gitlab.example.com/oauth/authorize",
                ),
                (
                    "OAUTH_MY_GITLAB_TOKEN_URL",
                    "https://gitlab.example.com/oauth/token",
                ),
                (
                    "OAUTH_MY_GITLAB_USERINFO_URL",
                    "https://gitlab.example.com/oauth/userinfo",
                ),
                ("OAUTH_MY_GITLAB_CLIENT_ID", "gl-id"),
                ("OAUTH_MY_GITLAB_CLIENT_SECRET", "gl-secret"),
                ("OAUTH_MY_GITLAB_SCOPES", "read_user, openid email"),
                ("OAUTH_MY_GITLAB_PKCE", "false"),
            ]))
            .unwrap();
        let okta = social.provider("okta").unwrap();
        assert_eq!(okta.scopes, ["openid", "email", "profile"]);
        assert!(okta.pkce);
        let gitlab = social.provider("my-gitlab").unwrap();
        assert_eq!(gitlab.scopes, ["read_user", "openid", "email"]);
        assert!(!gitlab.pkce);
        assert!(matches!(
            gitlab.endpoints,
            Endpoints::Manual {
                userinfo: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn an_incomplete_generic_provider_names_the_missing_variable() {
        let mut args = args();
        args.oauth_providers = "okta".into();
        let discovery = (
            "OAUTH_OKTA_DISCOVERY_URL",
            "https://example.okta.com/.well-known/openid-configuration",
        );
        let id = ("OAUTH_OKTA_CLIENT_ID", "okta-id");
        let secret = ("OAUTH_OKTA_CLIENT_SECRET", "okta-secret");
        assert_eq!(
            refused(&args, &[discovery, secret]).variable,
            "OAUTH_OKTA_CLIENT_ID"
        );
        assert_eq!(
            refused(&args, &[discovery, id]).variable,
            "OAUTH_OKTA_CLIENT_SECRET"
        );
        assert_eq!(
            refused(&args, &[id, secret]).variable,
            "OAUTH_OKTA_DISCOVERY_URL"
        );
        let authorization = (
            "OAUTH_OKTA_AUTHORIZATION_URL",
            "https://example.okta.com/authorize",
        );
        assert_eq!(
            refused(&args, &[authorization, id, secret]).variable,
            "OAUTH_OKTA_TOKEN_URL"
        );
        assert_eq!(
            refused(&args, &[discovery, authorization, id, secret]).variable,
            "OAUTH_OKTA_AUTHORIZATION_URL"
        );
        assert_eq!(
            refused(
                &args,
                &[
                    ("OAUTH_OKTA_DISCOVERY_URL", "http://okta.example.com/x"),
                    id,
                    secret
                ]
            )
            .variable,
            "OAUTH_OKTA_DISCOVERY_URL"
        );
        assert_eq!(
            refused(
                &args,
                &[discovery, id, secret, ("OAUTH_OKTA_PKCE", "maybe")]
            )
            .variable,
            "OAUTH_OKTA_PKCE"
        );
    }

    #[test]
    fn provider_ids_are_checked_and_trusted_providers_must_exist() {
        let mut args = args();
        for bad in ["google", "Okta", "-x", "a b", "okta,okta"] {
            args.oauth_providers = bad.into();
            let error = refused(
                &args,
                &[
                    ("OAUTH_OKTA_DISCOVERY_URL", "https://example.okta.com/"),
                    ("OAUTH_OKTA_CLIENT_ID", "i"),
                    ("OAUTH_OKTA_CLIENT_SECRET", "s"),
                ],
            );
            assert_eq!(error.variable, "OAUTH_PROVIDERS", "{bad}");
        }
        args.oauth_providers = String::new();
        args.trusted_providers = "google".into();
        assert_eq!(refused(&args, &[]).variable, "TRUSTED_PROVIDERS");
    }
}
