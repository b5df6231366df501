//! The gateway's settings: command-line flags, each also read from an environment variable, parsed once into a
//! [`Config`] of typed values.
//!
//! Better Auth's own variable names (`BETTER_AUTH_SECRET`, `BETTER_AUTH_SECRETS`, `BETTER_AUTH_URL`,
//! `BETTER_AUTH_TRUSTED_ORIGINS`) are accepted when Warden's are unset, so an app's existing `.env` keeps working.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::cookies::CookieOptions;
use clap::Parser;
use tonic::transport::Certificate;
use warden_common::AuthSecret;
use warden_common::settings::args::{
    DEFAULT_REDIS_KEY_PREFIX, DrainArgs, MetricsAllowArgs, PluginsArgs, PublicArgs, RedisArgs,
    SecretArgs,
};
use warden_common::settings::{
    Env, Networks, Plugins, PublicUrl, RedisUrl, SettingsError, TrustedOrigins, UpstreamUrl,
};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_AUTH_URL: &str = "http://127.0.0.1:50051";
pub const DEFAULT_TASK_URL: &str = "http://127.0.0.1:50052";
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything the gateway needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub auth_url: UpstreamUrl,
    pub task_url: UpstreamUrl,
    /// `AUTH_SECRET`, or the `AUTH_SECRETS` rotation list: the first signs, all verify.
    pub secret: AuthSecret,
    /// The app's public URL; `https://` turns on `__Secure-` cookies and HSTS.
    pub base_url: PublicUrl,
    /// `TRUSTED_ORIGINS`: trusted besides `base_url`'s origin.
    pub trusted_origins: TrustedOrigins,
    /// Rate limits, trusted proxies and request size and time limits.
    pub limits: Limits,
    /// Cookie names, domain and the session cookie's lifetime.
    pub cookies: CookieOptions,
    /// The authorities the services' certificates are verified against when `AUTH_URL` or `TASK_URL` is https
    /// (`TLS_CA`); the public web PKI without it.
    pub tls_ca: Option<Certificate>,
    /// The Better Auth plugins served (`PLUGINS`).
    pub plugins: Plugins,
}

/// How the gateway protects itself and the services behind it.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Better Auth's rate limits on `/api/auth/*`, by client address.
    pub rate_limit_enabled: bool,
    /// Peers (a load balancer) whose `X-Forwarded-For` names the client; from anyone else it is ignored.
    pub trusted_proxies: Networks,
    /// Redis holding the rate-limit counts, so replicas share them; without it each process counts alone.
    pub redis_url: Option<RedisUrl>,
    pub redis_key_prefix: String,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Longest a request may take, body upload included.
    pub request_timeout: Duration,
    /// Clients that may read `GET /metrics` (`METRICS_ALLOW`); loopback by default.
    pub metrics_allow: Networks,
    /// How long a drain keeps serving after `/readyz` turns 503 (`DRAIN_DELAY`); none by default here, 1 s from
    /// the command line.
    pub drain_delay: Duration,
}

impl Default for Limits {
    /// Rate limiting on and counted in process, no trusted proxy, 1 MiB bodies, 30 s per request, metrics for
    /// loopback clients only.
    fn default() -> Self {
        Self {
            rate_limit_enabled: true,
            trusted_proxies: Networks::none(),
            redis_url: None,
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            metrics_allow: Networks::loopback(),
            drain_delay: Duration::ZERO,
        }
    }
}

/// `BODY_LIMIT`, `REQUEST_TIMEOUT` and `TRUSTED_PROXIES`: the gateway's own limits, shared with the all-in-one.
#[derive(Clone, Debug, clap::Args)]
pub struct LimitArgs {
    /// Comma-separated addresses or networks of proxies in front of the gateway, whose X-Forwarded-For names the
    /// client [default: none: the socket peer is the client].
    #[arg(long, env = "TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Largest request body accepted, in bytes (1 MiB by default).
    #[arg(long, env = "BODY_LIMIT", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Longest a request may take, in seconds.
    #[arg(long, env = "REQUEST_TIMEOUT", default_value_t = DEFAULT_REQUEST_TIMEOUT.as_secs())]
    pub request_timeout: u64,
    #[command(flatten)]
    pub metrics: MetricsAllowArgs,
}

impl Default for LimitArgs {
    fn default() -> Self {
        Self {
            trusted_proxies: None,
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT.as_secs(),
            metrics: MetricsAllowArgs::default(),
        }
    }
}

impl LimitArgs {
    /// Sets these limits in `limits`.
    pub fn apply_to(self, limits: &mut Limits) -> Result<(), SettingsError> {
        limits.trusted_proxies = Networks::parse(
            "TRUSTED_PROXIES",
            self.trusted_proxies.as_deref().unwrap_or(""),
        )?;
        if self.body_limit == 0 {
            return Err(SettingsError::new("BODY_LIMIT", "must be at least 1 byte"));
        }
        limits.body_limit = self.body_limit;
        limits.request_timeout =
            warden_common::settings::at_least_one_second("REQUEST_TIMEOUT", self.request_timeout)?;
        limits.metrics_allow = self.metrics.resolve()?;
        Ok(())
    }
}

/// `COOKIE_PREFIX` and `COOKIE_DOMAIN`, shared with the all-in-one (`SESSION_EXPIRES_IN` completes them).
#[derive(Clone, Debug, clap::Args)]
pub struct CookieArgs {
    /// First part of every cookie name, `<prefix>.session_token` (Better Auth's advanced.cookiePrefix).
    #[arg(long, env = "COOKIE_PREFIX", default_value = crate::cookies::DEFAULT_PREFIX)]
    pub cookie_prefix: String,
    /// Domain of every cookie, e.g. example.com to share sessions with its subdomains (Better Auth's
    /// advanced.crossSubDomainCookies) [default: none: host-only cookies].
    #[arg(long, env = "COOKIE_DOMAIN")]
    pub cookie_domain: Option<String>,
}

impl Default for CookieArgs {
    fn default() -> Self {
        Self {
            cookie_prefix: crate::cookies::DEFAULT_PREFIX.to_owned(),
            cookie_domain: None,
        }
    }
}

impl CookieArgs {
    /// The cookie options, checked; `session_max_age` is `SESSION_EXPIRES_IN`.
    pub fn resolve(self, session_max_age: u64) -> Result<CookieOptions, SettingsError> {
        let cookies = CookieOptions {
            prefix: self.cookie_prefix.trim().to_owned(),
            domain: self
                .cookie_domain
                .map(|domain| domain.trim().to_owned())
                .filter(|domain| !domain.is_empty()),
            session_max_age,
        };
        cookies.validate()?;
        Ok(cookies)
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

    #[command(flatten)]
    pub secret: SecretArgs,

    #[command(flatten)]
    pub cookies: CookieArgs,

    /// A remembered session cookie's lifetime in seconds; set it as auth-svc's (Better Auth's session.expiresIn).
    #[arg(long, env = "SESSION_EXPIRES_IN", default_value_t = crate::cookies::SESSION_MAX_AGE)]
    pub session_expires_in: u64,

    #[command(flatten)]
    pub public: PublicArgs,

    /// Better Auth's rate limits on /api/auth/* (true or false).
    #[arg(long, env = "RATE_LIMIT_ENABLED", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub rate_limit_enabled: bool,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub redis: RedisArgs,

    #[command(flatten)]
    pub drain: DrainArgs,

    /// PEM certificate authorities for the services when AUTH_URL or TASK_URL is https://
    /// [default: the public web PKI].
    #[arg(long, env = "TLS_CA")]
    pub tls_ca: Option<PathBuf>,

    #[command(flatten)]
    pub plugins: PluginsArgs,

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
        let listen = warden_common::settings::listen("GATEWAY_ADDR", &self.listen)?;
        warden_common::healthcheck::http(listen, "/api/auth/ok")
            .await
            .map_err(|unhealthy| anyhow::anyhow!("gateway is not healthy: {unhealthy}"))
    }

    /// Checks every setting, reading the Better Auth aliases from the process environment.
    pub fn into_config(self) -> Result<Config, SettingsError> {
        self.resolve(&warden_common::settings::process_env)
    }

    /// Checks every setting, reading the Better Auth aliases through `env`.
    pub fn resolve(self, env: &impl Env) -> Result<Config, SettingsError> {
        let listen = warden_common::settings::listen("GATEWAY_ADDR", &self.listen)?;
        let auth_url = UpstreamUrl::parse("AUTH_URL", &self.auth_url)?;
        let task_url = UpstreamUrl::parse("TASK_URL", &self.task_url)?;
        let secret = self.secret.resolve(&env)?;
        let cookies = self.cookies.resolve(self.session_expires_in)?;
        let base_url = self.public.base_url(env)?;
        let trusted_origins = self.public.trusted_origins(env)?;
        let mut limits = Limits {
            rate_limit_enabled: self.rate_limit_enabled,
            redis_url: self.redis.url()?,
            redis_key_prefix: self.redis.redis_key_prefix,
            drain_delay: self.drain.delay(),
            ..Limits::default()
        };
        self.limits.apply_to(&mut limits)?;
        Ok(Config {
            listen,
            auth_url,
            task_url,
            secret,
            base_url,
            trusted_origins,
            limits,
            cookies,
            tls_ca: warden_common::tls::read_ca(self.tls_ca.as_deref())?,
            plugins: self.plugins.resolve(&env)?,
        })
    }
}

impl Config {
    /// The defaults of every setting but the secret: services on this machine, a plain-HTTP public URL.
    pub fn new(secret: AuthSecret) -> Self {
        let upstream =
            |variable, url| UpstreamUrl::parse(variable, url).expect("valid default URL");
        Self {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            auth_url: upstream("AUTH_URL", DEFAULT_AUTH_URL),
            task_url: upstream("TASK_URL", DEFAULT_TASK_URL),
            secret,
            base_url: PublicUrl::default(),
            trusted_origins: TrustedOrigins::default(),
            limits: Limits::default(),
            cookies: CookieOptions::default(),
            tls_ca: None,
            plugins: Plugins::all(),
        }
    }

    /// Whether cookies get the `__Secure-` prefix and the `Secure` attribute, as Better Auth decides it.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.is_https()
    }
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
            secret: SecretArgs {
                secret: Some(SECRET.into()),
                secrets: None,
            },
            cookies: CookieArgs::default(),
            session_expires_in: 604_800,
            public: PublicArgs::default(),
            rate_limit_enabled: true,
            limits: LimitArgs::default(),
            redis: RedisArgs::default(),
            drain: DrainArgs::default(),
            tls_ca: None,
            plugins: PluginsArgs::default(),
            runtime: Default::default(),
            command: None,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_give_a_local_plain_http_gateway() {
        let config = cli().resolve(&no_env).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.auth_url.as_str(), "http://127.0.0.1:50051");
        assert_eq!(config.task_url.as_str(), "http://127.0.0.1:50052");
        assert_eq!(config.base_url.as_str(), "http://127.0.0.1:8080");
        assert!(config.trusted_origins.is_empty());
        assert!(!config.secure_cookies());
        let limits = config.limits;
        assert!(limits.rate_limit_enabled);
        assert!(limits.trusted_proxies.is_empty());
        assert!(limits.redis_url.is_none());
        assert_eq!(limits.redis_key_prefix, "warden:");
        assert_eq!(limits.body_limit, 1024 * 1024);
        assert_eq!(limits.request_timeout, Duration::from_secs(30));
    }

    #[test]
    fn trusted_proxies_take_addresses_and_networks() {
        let config = Cli {
            limits: LimitArgs {
                trusted_proxies: Some(" 10.0.0.0/8, 192.0.2.7 ,::1".into()),
                ..LimitArgs::default()
            },
            ..cli()
        }
        .resolve(&no_env)
        .unwrap();
        let proxies: Vec<String> = config
            .limits
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(proxies, ["10.0.0.0/8", "192.0.2.7/32", "::1/128"]);
        let error = Cli {
            limits: LimitArgs {
                trusted_proxies: Some("10.0.0.0/8,gateway".into()),
                ..LimitArgs::default()
            },
            ..cli()
        }
        .resolve(&no_env)
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
        let config = cli().resolve(&no_env).unwrap();
        assert_eq!(allowed(config), ["127.0.0.0/8", "::1/128"]);
        let config = Cli {
            limits: LimitArgs {
                metrics: MetricsAllowArgs {
                    metrics_allow: Some("10.0.0.0/8, 192.0.2.7".into()),
                },
                ..LimitArgs::default()
            },
            ..cli()
        }
        .resolve(&no_env)
        .unwrap();
        assert_eq!(allowed(config), ["10.0.0.0/8", "192.0.2.7/32"]);
        let error = Cli {
            limits: LimitArgs {
                metrics: MetricsAllowArgs {
                    metrics_allow: Some("prometheus".into()),
                },
                ..LimitArgs::default()
            },
            ..cli()
        }
        .resolve(&no_env)
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
            redis: RedisArgs {
                redis_url: Some("redis://:hunter2@redis.internal:6379".into()),
                ..RedisArgs::default()
            },
            ..cli()
        }
        .resolve(&no_env)
        .unwrap();
        assert!(config.limits.redis_url.is_some());
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn zero_limits_are_refused_naming_the_variable() {
        let body = Cli {
            limits: LimitArgs {
                body_limit: 0,
                ..LimitArgs::default()
            },
            ..cli()
        };
        assert_eq!(body.resolve(&no_env).unwrap_err().variable, "BODY_LIMIT");
        let timeout = Cli {
            limits: LimitArgs {
                request_timeout: 0,
                ..LimitArgs::default()
            },
            ..cli()
        };
        assert_eq!(
            timeout.resolve(&no_env).unwrap_err().variable,
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
            secret: SecretArgs::default(),
            ..cli()
        }
        .resolve(&env)
        .unwrap();
        assert_eq!(config.secret.expose(), "y".repeat(40));
        assert_eq!(config.base_url.as_str(), "https://app.example.com");
        assert_eq!(
            config.trusted_origins.patterns(),
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
            public: PublicArgs {
                base_url: Some("http://localhost:3000".into()),
                trusted_origins: None,
            },
            ..cli()
        }
        .resolve(&env)
        .unwrap();
        assert_eq!(config.base_url.as_str(), "http://localhost:3000");
    }

    #[test]
    fn a_short_secret_is_refused_naming_the_variable() {
        let error = Cli {
            secret: SecretArgs {
                secret: Some("short".into()),
                secrets: None,
            },
            ..cli()
        }
        .resolve(&no_env)
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "AUTH_SECRET: must be at least 32 characters"
        );
    }

    #[test]
    fn cookies_default_to_better_auths_names_lifetime_and_no_domain() {
        let config = cli().resolve(&no_env).unwrap();
        assert_eq!(config.cookies, CookieOptions::default());
        assert_eq!(config.cookies.prefix, "better-auth");
        assert_eq!(config.cookies.session_max_age, 604_800);
        assert_eq!(config.cookies.domain, None);
    }

    #[test]
    fn cookie_settings_are_read_and_checked_naming_the_variable() {
        let config = Cli {
            cookies: CookieArgs {
                cookie_prefix: "my-app".into(),
                cookie_domain: Some(" example.com ".into()),
            },
            session_expires_in: 3600,
            ..cli()
        }
        .resolve(&no_env)
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
                    cookies: CookieArgs {
                        cookie_prefix: "my app;".into(),
                        cookie_domain: None,
                    },
                    ..cli()
                },
                "COOKIE_PREFIX",
            ),
            (
                Cli {
                    cookies: CookieArgs {
                        cookie_domain: Some("example.com; Secure".into()),
                        ..CookieArgs::default()
                    },
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
            assert_eq!(cli.resolve(&no_env).unwrap_err().variable, variable);
        }
    }

    #[test]
    fn a_rotation_list_is_read_from_either_name_and_signs_with_its_first_secret() {
        let newest = "n".repeat(40);
        let list = format!("2:{newest},1:{SECRET}");
        let config = Cli {
            secret: SecretArgs {
                secret: None,
                secrets: Some(list.clone().into()),
            },
            ..cli()
        }
        .resolve(&no_env)
        .unwrap();
        assert_eq!(config.secret.expose(), newest);
        assert_eq!(config.secret.len(), 2);
        let env = |name: &str| (name == "BETTER_AUTH_SECRETS").then(|| list.clone());
        let config = Cli {
            secret: SecretArgs::default(),
            ..cli()
        }
        .resolve(&env)
        .unwrap();
        assert_eq!(config.secret.expose(), newest);
        let error = Cli {
            secret: SecretArgs {
                secret: Some(SECRET.into()),
                secrets: Some("1:short".into()),
            },
            ..cli()
        }
        .resolve(&no_env)
        .unwrap_err();
        assert_eq!(error.variable, "AUTH_SECRETS");
    }

    #[test]
    fn a_missing_secret_is_refused_naming_the_variable() {
        let error = Cli {
            secret: SecretArgs::default(),
            ..cli()
        }
        .resolve(&no_env)
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
            bad_listen.resolve(&no_env).unwrap_err().variable,
            "GATEWAY_ADDR"
        );
        let bad_auth = Cli {
            auth_url: "127.0.0.1:50051".into(),
            ..cli()
        };
        assert_eq!(bad_auth.resolve(&no_env).unwrap_err().variable, "AUTH_URL");
        let bad_task = Cli {
            task_url: "ftp://127.0.0.1:50052".into(),
            ..cli()
        };
        assert_eq!(bad_task.resolve(&no_env).unwrap_err().variable, "TASK_URL");
        let bad_base = Cli {
            public: PublicArgs {
                base_url: Some("localhost".into()),
                trusted_origins: None,
            },
            ..cli()
        };
        assert_eq!(bad_base.resolve(&no_env).unwrap_err().variable, "BASE_URL");
        let bad_origin = Cli {
            public: PublicArgs {
                base_url: None,
                trusted_origins: Some("not an origin".into()),
            },
            ..cli()
        };
        assert_eq!(
            bad_origin.resolve(&no_env).unwrap_err().variable,
            "TRUSTED_ORIGINS"
        );
    }

    #[test]
    fn plugins_are_all_served_unless_listed() {
        use warden_common::settings::Plugin;
        assert_eq!(cli().resolve(&no_env).unwrap().plugins, Plugins::all());
        let config = Cli {
            plugins: PluginsArgs {
                plugins: Some("admin".into()),
                ..PluginsArgs::default()
            },
            ..cli()
        }
        .resolve(&no_env)
        .unwrap();
        assert!(config.plugins.is_enabled(Plugin::Admin));
        assert!(!config.plugins.is_enabled(Plugin::Passkey));
        let error = Cli {
            plugins: PluginsArgs {
                plugins: Some("admin,passkeys".into()),
                ..PluginsArgs::default()
            },
            ..cli()
        }
        .resolve(&no_env)
        .unwrap_err();
        assert_eq!(error.variable, "PLUGINS");
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
            "METRICS_ALLOW",
            "DRAIN_DELAY",
            "TLS_CA",
            "PLUGINS",
        ] {
            assert!(help.contains(variable), "{variable} missing from --help");
        }
    }
}
