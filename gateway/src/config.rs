//! The gateway's settings: command-line flags, each also read from an environment variable.
//!
//! Better Auth's own variable names (`BETTER_AUTH_SECRET`, `BETTER_AUTH_SECRETS`, `BETTER_AUTH_URL`,
//! `BETTER_AUTH_TRUSTED_ORIGINS`) are accepted when Warden's are unset, so an app's existing `.env` keeps working.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use ipnet::IpNet;
use secrecy::SecretString;
use tonic::transport::Certificate;
use warden_common::AuthSecret;

use crate::origin::TrustedOrigins;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_AUTH_URL: &str = "http://127.0.0.1:50051";
pub const DEFAULT_TASK_URL: &str = "http://127.0.0.1:50052";
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "warden:";
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything the gateway needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub auth_url: String,
    pub task_url: String,
    /// `AUTH_SECRET`, or the `AUTH_SECRETS` rotation list: the first signs, all verify.
    pub secret: AuthSecret,
    pub base_url: String,
    pub trusted_origins: Vec<String>,
    /// Rate limits, trusted proxies and request size and time limits.
    pub limits: Limits,
    /// Cookie names, domain and the session cookie's lifetime.
    pub cookies: CookieOptions,
    /// The authorities the services' certificates are verified against when `AUTH_URL` or `TASK_URL` is https
    /// (`TLS_CA`); the public web PKI without it.
    pub tls_ca: Option<Certificate>,
}

/// The cookie settings Better Auth lets a deployment change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieOptions {
    /// `advanced.cookiePrefix` (`COOKIE_PREFIX`): cookies are `<prefix>.session_token` and so on.
    pub prefix: String,
    /// `advanced.crossSubDomainCookies.domain` (`COOKIE_DOMAIN`): the `Domain` attribute of every cookie, deletion
    /// cookies included, so that `app.example.com` and `api.example.com` share a session.
    pub domain: Option<String>,
    /// `session.expiresIn` (`SESSION_EXPIRES_IN`), in seconds: a remembered session cookie's `Max-Age`.
    pub session_max_age: u64,
}

impl Default for CookieOptions {
    /// Better Auth's defaults: `better-auth.*` cookies, host-only, a week.
    fn default() -> Self {
        Self {
            prefix: crate::cookies::DEFAULT_PREFIX.to_owned(),
            domain: None,
            session_max_age: crate::cookies::SESSION_MAX_AGE,
        }
    }
}

impl CookieOptions {
    /// Refuses what would break the `Set-Cookie` header: a prefix that is not a cookie-name token, a domain that is
    /// not a host name, a lifetime of zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let token_char = |c: char| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c);
        if self.prefix.is_empty() || !self.prefix.chars().all(token_char) {
            return Err(ConfigError::new(
                "COOKIE_PREFIX",
                format!("`{}` is not usable in a cookie name", self.prefix),
            ));
        }
        if let Some(domain) = &self.domain {
            let host_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
            let bare = domain.trim_start_matches('.');
            if bare.is_empty() || !domain.chars().all(host_char) || bare.starts_with('.') {
                return Err(ConfigError::new(
                    "COOKIE_DOMAIN",
                    format!("`{domain}` is not a domain such as example.com"),
                ));
            }
        }
        if self.session_max_age == 0 {
            return Err(ConfigError::new(
                "SESSION_EXPIRES_IN",
                "must be at least 1 second",
            ));
        }
        Ok(())
    }
}

/// How the gateway protects itself and the services behind it.
#[derive(Clone)]
pub struct Limits {
    /// Better Auth's rate limits on `/api/auth/*`, by client address.
    pub rate_limit_enabled: bool,
    /// Peers (a load balancer) whose `X-Forwarded-For` names the client; from anyone else it is ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// Redis holding the rate-limit counts, so replicas share them; without it each process counts alone.
    pub redis_url: Option<String>,
    pub redis_key_prefix: String,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Longest a request may take, body upload included.
    pub request_timeout: Duration,
    /// Clients that may read `GET /metrics` (`METRICS_ALLOW`); loopback by default.
    pub metrics_allow: Vec<IpNet>,
    /// How long a drain keeps serving after `/readyz` turns 503 (`DRAIN_DELAY`); none by default here, 1 s from
    /// the command line.
    pub drain_delay: Duration,
}

/// The Redis URL may hold a password: it is only said whether there is one.
impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("rate_limit_enabled", &self.rate_limit_enabled)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("redis_url", &self.redis_url.as_ref().map(|_| "[redacted]"))
            .field("redis_key_prefix", &self.redis_key_prefix)
            .field("body_limit", &self.body_limit)
            .field("request_timeout", &self.request_timeout)
            .field("metrics_allow", &self.metrics_allow)
            .field("drain_delay", &self.drain_delay)
            .finish()
    }
}

impl Default for Limits {
    /// Rate limiting on and counted in process, no trusted proxy, 1 MiB bodies, 30 s per request, metrics for
    /// loopback clients only.
    fn default() -> Self {
        Self {
            rate_limit_enabled: true,
            trusted_proxies: Vec::new(),
            redis_url: None,
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            metrics_allow: loopback(),
            drain_delay: Duration::ZERO,
        }
    }
}

/// `127.0.0.0/8` and `::1`.
pub fn loopback() -> Vec<IpNet> {
    vec![
        "127.0.0.0/8".parse().expect("valid network"),
        "::1/128".parse().expect("valid network"),
    ]
}

/// A setting that cannot be used, named by its environment variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, reason: impl Into<String>) -> Self {
        Self {
            variable,
            reason: reason.into(),
        }
    }
}

/// Warden's HTTP gateway: Better Auth's REST API and the task API in front of auth-svc and task-svc.
#[derive(Debug, Parser)]
#[command(name = "gateway", version, about)]
pub struct Cli {
    /// Address the HTTP server listens on.
    #[arg(long = "listen", env = "GATEWAY_ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: String,

    /// URL of auth-svc's gRPC endpoint.
    #[arg(long, env = "AUTH_URL", default_value = DEFAULT_AUTH_URL)]
    pub auth_url: String,

    /// URL of task-svc's gRPC endpoint.
    #[arg(long, env = "TASK_URL", default_value = DEFAULT_TASK_URL)]
    pub task_url: String,

    /// Secret that signs cookies (at least 32 characters; BETTER_AUTH_SECRET is also read).
    #[arg(long = "secret", env = "AUTH_SECRET", hide_env_values = true)]
    pub secret: Option<SecretString>,

    /// Secret rotation, newest first: `<version>:<secret>,…` as Better Auth's BETTER_AUTH_SECRETS (also read), or
    /// bare secrets. The first signs cookies; every one, and AUTH_SECRET, verifies them.
    #[arg(long = "secrets", env = "AUTH_SECRETS", hide_env_values = true)]
    pub secrets: Option<SecretString>,

    /// First part of every cookie name, `<prefix>.session_token` (Better Auth's advanced.cookiePrefix).
    #[arg(long, env = "COOKIE_PREFIX", default_value = crate::cookies::DEFAULT_PREFIX)]
    pub cookie_prefix: String,

    /// Domain of every cookie, e.g. example.com to share sessions with its subdomains (Better Auth's
    /// advanced.crossSubDomainCookies) [default: none: host-only cookies].
    #[arg(long, env = "COOKIE_DOMAIN")]
    pub cookie_domain: Option<String>,

    /// A remembered session cookie's lifetime in seconds; set it as auth-svc's (Better Auth's session.expiresIn).
    #[arg(long, env = "SESSION_EXPIRES_IN", default_value_t = crate::cookies::SESSION_MAX_AGE)]
    pub session_expires_in: u64,

    /// Public URL of the app; `https://` turns on `__Secure-` cookies (BETTER_AUTH_URL is also read)
    /// [default: http://127.0.0.1:8080].
    #[arg(long, env = "BASE_URL")]
    pub base_url: Option<String>,

    /// Comma-separated origins trusted besides BASE_URL's, `*` wildcards allowed
    /// (BETTER_AUTH_TRUSTED_ORIGINS is also read).
    #[arg(long, env = "TRUSTED_ORIGINS")]
    pub trusted_origins: Option<String>,

    /// Better Auth's rate limits on /api/auth/* (true or false).
    #[arg(long, env = "RATE_LIMIT_ENABLED", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub rate_limit_enabled: bool,

    /// Comma-separated addresses or networks of proxies in front of the gateway, whose X-Forwarded-For names the
    /// client [default: none: the socket peer is the client].
    #[arg(long, env = "TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,

    /// Redis for rate-limit counts shared by every gateway replica; without it each process counts alone.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Prefix of every Redis key.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = DEFAULT_REDIS_KEY_PREFIX)]
    pub redis_key_prefix: String,

    /// Largest request body accepted, in bytes (1 MiB by default).
    #[arg(long, env = "BODY_LIMIT", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,

    /// Longest a request may take, in seconds.
    #[arg(long, env = "REQUEST_TIMEOUT", default_value_t = DEFAULT_REQUEST_TIMEOUT.as_secs())]
    pub request_timeout: u64,

    /// Comma-separated addresses or networks of the clients that may read GET /metrics, as TRUSTED_PROXIES
    /// resolves the client [default: 127.0.0.0/8,::1: this host only].
    #[arg(long, env = "METRICS_ALLOW")]
    pub metrics_allow: Option<String>,

    /// Seconds to keep serving after a shutdown signal while GET /readyz already answers 503, so that balancers
    /// stop sending requests before the listener closes.
    #[arg(long, env = "DRAIN_DELAY", default_value_t = warden_common::shutdown::DEFAULT_DRAIN_DELAY.as_secs())]
    pub drain_delay: u64,

    /// PEM certificate authorities for the services when AUTH_URL or TASK_URL is https://
    /// [default: the public web PKI].
    #[arg(long, env = "TLS_CA")]
    pub tls_ca: Option<PathBuf>,

    #[command(flatten)]
    pub runtime: warden_common::runtime::RuntimeArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Without a command, the gateway serves.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Exit 0 when the gateway at GATEWAY_ADDR (0.0.0.0 means this host) answers GET /api/auth/ok with 200, 1
    /// otherwise, within 3 seconds. Needs no other setting.
    Healthcheck,
}

impl Cli {
    /// The `healthcheck` subcommand: asks the gateway these settings would start whether it answers.
    pub async fn healthcheck(&self) -> Result<(), anyhow::Error> {
        let listen = parse_listen(&self.listen)?;
        warden_common::healthcheck::http(listen, "/api/auth/ok")
            .await
            .map_err(|unhealthy| anyhow::anyhow!("gateway is not healthy: {unhealthy}"))
    }

    /// Checks every setting, reading the Better Auth aliases from the process environment.
    pub fn into_config(self) -> Result<Config, ConfigError> {
        self.resolve(|name| std::env::var(name).ok())
    }

    /// Checks every setting, reading the Better Auth aliases through `env`.
    pub fn resolve(self, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let listen = parse_listen(&self.listen)?;
        let auth_url = parse_upstream_url("AUTH_URL", &self.auth_url)?;
        let task_url = parse_upstream_url("TASK_URL", &self.task_url)?;

        let secret = self
            .secret
            .or_else(|| env("BETTER_AUTH_SECRET").map(SecretString::from));
        let secrets = self
            .secrets
            .or_else(|| env("BETTER_AUTH_SECRETS").map(SecretString::from));
        let secret = AuthSecret::from_settings(secrets.as_ref(), secret)
            .map_err(|error| ConfigError::new(error.variable(), error.to_string()))?;
        let cookies = CookieOptions {
            prefix: self.cookie_prefix.trim().to_owned(),
            domain: self
                .cookie_domain
                .map(|domain| domain.trim().to_owned())
                .filter(|domain| !domain.is_empty()),
            session_max_age: self.session_expires_in,
        };

        let base_url = self
            .base_url
            .or_else(|| env("BETTER_AUTH_URL"))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned())
            .trim()
            .to_owned();
        let trusted_origins = self
            .trusted_origins
            .or_else(|| env("BETTER_AUTH_TRUSTED_ORIGINS"))
            .map(|list| split_list(&list))
            .unwrap_or_default();

        let trusted_proxies = parse_networks(
            "TRUSTED_PROXIES",
            self.trusted_proxies.as_deref().unwrap_or(""),
        )?;
        let metrics_allow = match self.metrics_allow.as_deref() {
            Some(list) if !list.trim().is_empty() => parse_networks("METRICS_ALLOW", list)?,
            _ => loopback(),
        };
        if self.body_limit == 0 {
            return Err(ConfigError::new("BODY_LIMIT", "must be at least 1 byte"));
        }
        if self.request_timeout == 0 {
            return Err(ConfigError::new(
                "REQUEST_TIMEOUT",
                "must be at least 1 second",
            ));
        }
        let limits = Limits {
            rate_limit_enabled: self.rate_limit_enabled,
            trusted_proxies,
            redis_url: self.redis_url.filter(|url| !url.trim().is_empty()),
            redis_key_prefix: self.redis_key_prefix,
            body_limit: self.body_limit,
            request_timeout: Duration::from_secs(self.request_timeout),
            metrics_allow,
            drain_delay: Duration::from_secs(self.drain_delay),
        };

        let config = Config {
            listen,
            auth_url,
            task_url,
            secret,
            base_url,
            trusted_origins,
            limits,
            cookies,
            tls_ca: warden_common::tls::read_ca(self.tls_ca.as_deref())
                .map_err(|error| ConfigError::new(error.variable, error.reason))?,
        };
        config.validate()?;
        Ok(config)
    }
}

impl Config {
    /// Checks the settings that a `Config` built by hand could get wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        parse_upstream_url("AUTH_URL", &self.auth_url)?;
        parse_upstream_url("TASK_URL", &self.task_url)?;
        TrustedOrigins::new(&self.base_url, &self.trusted_origins)?;
        crate::limits::limiter(&self.limits)?;
        self.cookies.validate()?;
        Ok(())
    }

    /// Whether cookies get the `__Secure-` prefix and the `Secure` attribute, as Better Auth decides it.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

fn parse_listen(listen: &str) -> Result<SocketAddr, ConfigError> {
    listen.trim().parse::<SocketAddr>().map_err(|_| {
        ConfigError::new(
            "GATEWAY_ADDR",
            format!("`{listen}` is not an address such as 127.0.0.1:8080"),
        )
    })
}

/// A gRPC upstream's URL, checked and trimmed; errors name `variable`.
fn parse_upstream_url(variable: &'static str, raw: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(raw.trim())
        .map_err(|_| ConfigError::new(variable, format!("`{raw}` is not a URL")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::new(
            variable,
            format!("`{raw}` must be an http:// or https:// URL"),
        ));
    }
    Ok(raw.trim().to_owned())
}

/// `10.0.0.0/8, 192.0.2.7` (a bare address is a one-host network); errors name `variable`.
fn parse_networks(variable: &'static str, list: &str) -> Result<Vec<IpNet>, ConfigError> {
    split_list(list)
        .iter()
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        variable,
                        format!("`{item}` is not an IP address or network"),
                    )
                })
        })
        .collect()
}

fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

    fn cli() -> Cli {
        Cli {
            listen: DEFAULT_LISTEN.into(),
            auth_url: DEFAULT_AUTH_URL.into(),
            task_url: DEFAULT_TASK_URL.into(),
            secret: Some(SECRET.into()),
            secrets: None,
            cookie_prefix: "better-auth".into(),
            cookie_domain: None,
            session_expires_in: 604_800,
            base_url: None,
            trusted_origins: None,
            rate_limit_enabled: true,
            trusted_proxies: None,
            redis_url: None,
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.into(),
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: 30,
            metrics_allow: None,
            drain_delay: 1,
            tls_ca: None,
            runtime: Default::default(),
            command: None,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_give_a_local_plain_http_gateway() {
        let config = cli().resolve(no_env).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.auth_url, "http://127.0.0.1:50051");
        assert_eq!(config.task_url, "http://127.0.0.1:50052");
        assert_eq!(config.base_url, "http://127.0.0.1:8080");
        assert!(config.trusted_origins.is_empty());
        assert!(!config.secure_cookies());
        let limits = config.limits;
        assert!(limits.rate_limit_enabled);
        assert!(limits.trusted_proxies.is_empty());
        assert_eq!(limits.redis_url, None);
        assert_eq!(limits.redis_key_prefix, "warden:");
        assert_eq!(limits.body_limit, 1024 * 1024);
        assert_eq!(limits.request_timeout, Duration::from_secs(30));
    }

    #[test]
    fn trusted_proxies_take_addresses_and_networks() {
        let config = Cli {
            trusted_proxies: Some(" 10.0.0.0/8, 192.0.2.7 ,::1".into()),
            ..cli()
        }
        .resolve(no_env)
        .unwrap();
        let proxies: Vec<String> = config
            .limits
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(proxies, ["10.0.0.0/8", "192.0.2.7/32", "::1/128"]);
        let error = Cli {
            trusted_proxies: Some("10.0.0.0/8,gateway".into()),
            ..cli()
        }
        .resolve(no_env)
        .unwrap_err();
        assert_eq!(error.variable, "TRUSTED_PROXIES");
    }

    #[test]
    fn metrics_are_for_loopback_clients_unless_networks_are_named() {
        let allowed = |config: Config| -> Vec<String> {
            config
                .limits
                .metrics_allow
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        let config = cli().resolve(no_env).unwrap();
        assert_eq!(allowed(config), ["127.0.0.0/8", "::1/128"]);
        let config = Cli {
            metrics_allow: Some("10.0.0.0/8, 192.0.2.7".into()),
            ..cli()
        }
        .resolve(no_env)
        .unwrap();
        assert_eq!(allowed(config), ["10.0.0.0/8", "192.0.2.7/32"]);
        let error = Cli {
            metrics_allow: Some("prometheus".into()),
            ..cli()
        }
        .resolve(no_env)
        .unwrap_err();
        assert_eq!(error.variable, "METRICS_ALLOW");
    }

    #[test]
    fn rate_limiting_can_be_turned_off_from_the_environment() {
        use clap::Parser;
        let cli = Cli::try_parse_from(["gateway", "--rate-limit-enabled", "false"]).unwrap();
        assert!(!cli.rate_limit_enabled);
        let cli = Cli::try_parse_from(["gateway", "--rate-limit-enabled", "0"]).unwrap();
        assert!(!cli.rate_limit_enabled);
    }

    #[test]
    fn the_redis_password_never_reaches_debug_output() {
        let config = Cli {
            redis_url: Some("redis://:hunter2@redis.internal:6379".into()),
            ..cli()
        }
        .resolve(no_env)
        .unwrap();
        assert!(config.limits.redis_url.is_some());
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn zero_limits_are_refused_naming_the_variable() {
        let body = Cli {
            body_limit: 0,
            ..cli()
        };
        assert_eq!(body.resolve(no_env).unwrap_err().variable, "BODY_LIMIT");
        let timeout = Cli {
            request_timeout: 0,
            ..cli()
        };
        assert_eq!(
            timeout.resolve(no_env).unwrap_err().variable,
            "REQUEST_TIMEOUT"
        );
    }

    #[test]
    fn better_auth_variable_names_are_read_when_warden_names_are_unset() {
        let env = |name: &str| match name {
            "BETTER_AUTH_SECRET" => Some("y".repeat(40)),
            "BETTER_AUTH_URL" => Some("https://app.example.com".to_owned()),
            "BETTER_AUTH_TRUSTED_ORIGINS" => {
                Some(" https://a.example.com, ,https://*.b.example.com ".to_owned())
            }
            _ => None,
        };
        let config = Cli {
            secret: None,
            ..cli()
        }
        .resolve(env)
        .unwrap();
        assert_eq!(config.secret.expose(), "y".repeat(40));
        assert_eq!(config.base_url, "https://app.example.com");
        assert_eq!(
            config.trusted_origins,
            ["https://a.example.com", "https://*.b.example.com"]
        );
        assert!(config.secure_cookies());
    }

    #[test]
    fn warden_variable_names_win_over_better_auth_ones() {
        let env = |name: &str| {
            (name == "BETTER_AUTH_URL").then(|| "https://other.example.com".to_owned())
        };
        let config = Cli {
            base_url: Some("http://localhost:3000".into()),
            ..cli()
        }
        .resolve(env)
        .unwrap();
        assert_eq!(config.base_url, "http://localhost:3000");
    }

    #[test]
    fn a_short_secret_is_refused_naming_the_variable() {
        let error = Cli {
            secret: Some("short".into()),
            ..cli()
        }
        .resolve(no_env)
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "AUTH_SECRET: must be at least 32 characters"
        );
    }

    #[test]
    fn cookies_default_to_better_auths_names_lifetime_and_no_domain() {
        let config = cli().resolve(no_env).unwrap();
        assert_eq!(config.cookies, CookieOptions::default());
        assert_eq!(config.cookies.prefix, "better-auth");
        assert_eq!(config.cookies.session_max_age, 604_800);
        assert_eq!(config.cookies.domain, None);
    }

    #[test]
    fn cookie_settings_are_read_and_checked_naming_the_variable() {
        let config = Cli {
            cookie_prefix: "my-app".into(),
            cookie_domain: Some(" example.com ".into()),
            session_expires_in: 3600,
            ..cli()
        }
        .resolve(no_env)
        .unwrap();
        assert_eq!(
            config.cookies,
            CookieOptions {
                prefix: "my-app".into(),
                domain: Some("example.com".into()),
                session_max_age: 3600,
            }
        );
        for (cli, variable) in [
            (
                Cli {
                    cookie_prefix: "my app;".into(),
                    ..cli()
                },
                "COOKIE_PREFIX",
            ),
            (
                Cli {
                    cookie_domain: Some("example.com; Secure".into()),
                    ..cli()
                },
                "COOKIE_DOMAIN",
            ),
            (
                Cli {
                    session_expires_in: 0,
                    ..cli()
                },
                "SESSION_EXPIRES_IN",
            ),
        ] {
            assert_eq!(cli.resolve(no_env).unwrap_err().variable, variable);
        }
    }

    #[test]
    fn a_rotation_list_is_read_from_either_name_and_signs_with_its_first_secret() {
        let newest = "n".repeat(40);
        let list = format!("2:{newest},1:{SECRET}");
        let config = Cli {
            secret: None,
            secrets: Some(list.clone().into()),
            ..cli()
        }
        .resolve(no_env)
        .unwrap();
        assert_eq!(config.secret.expose(), newest);
        assert_eq!(config.secret.len(), 2);
        let env = |name: &str| (name == "BETTER_AUTH_SECRETS").then(|| list.clone());
        let config = Cli {
            secret: None,
            ..cli()
        }
        .resolve(env)
        .unwrap();
        assert_eq!(config.secret.expose(), newest);
        let error = Cli {
            secrets: Some("1:short".into()),
            ..cli()
        }
        .resolve(no_env)
        .unwrap_err();
        assert_eq!(error.variable, "AUTH_SECRETS");
    }

    #[test]
    fn a_missing_secret_is_refused_naming_the_variable() {
        let error = Cli {
            secret: None,
            ..cli()
        }
        .resolve(no_env)
        .unwrap_err();
        assert_eq!(error.variable, "AUTH_SECRET");
    }

    #[test]
    fn malformed_addresses_and_urls_are_refused_naming_the_variable() {
        let bad_listen = Cli {
            listen: "nowhere".into(),
            ..cli()
        };
        assert_eq!(
            bad_listen.resolve(no_env).unwrap_err().variable,
            "GATEWAY_ADDR"
        );
        let bad_auth = Cli {
            auth_url: "127.0.0.1:50051".into(),
            ..cli()
        };
        assert_eq!(bad_auth.resolve(no_env).unwrap_err().variable, "AUTH_URL");
        let bad_task = Cli {
            task_url: "ftp://127.0.0.1:50052".into(),
            ..cli()
        };
        assert_eq!(bad_task.resolve(no_env).unwrap_err().variable, "TASK_URL");
        let bad_base = Cli {
            base_url: Some("localhost".into()),
            ..cli()
        };
        assert_eq!(bad_base.resolve(no_env).unwrap_err().variable, "BASE_URL");
        let bad_origin = Cli {
            trusted_origins: Some("not an origin".into()),
            ..cli()
        };
        assert_eq!(
            bad_origin.resolve(no_env).unwrap_err().variable,
            "TRUSTED_ORIGINS"
        );
    }

    #[test]
    fn every_setting_has_a_flag_and_help() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let help = Cli::command().render_long_help().to_string();
        for variable in [
            "GATEWAY_ADDR",
            "AUTH_URL",
            "TASK_URL",
            "AUTH_SECRET",
            "BASE_URL",
            "TRUSTED_ORIGINS",
            "RATE_LIMIT_ENABLED",
            "TRUSTED_PROXIES",
            "REDIS_URL",
            "REDIS_KEY_PREFIX",
            "BODY_LIMIT",
            "REQUEST_TIMEOUT",
            "AUTH_SECRETS",
            "COOKIE_PREFIX",
            "COOKIE_DOMAIN",
            "SESSION_EXPIRES_IN",
        ] {
            assert!(help.contains(variable), "{variable} missing from --help");
        }
    }
}
