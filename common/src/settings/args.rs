//! The clap groups of settings that several binaries share, flattened into each binary's command line as
//! [`crate::runtime::RuntimeArgs`] is. Each resolves into the parsed types of [`super`]; errors name the variable.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tonic::transport::ServerTlsConfig;

use super::{
    DatabaseUrl, Env, Networks, Plugins, PublicUrl, RedisUrl, SettingsError, TrustedOrigins,
};
use crate::AuthSecret;

/// `DATABASE_URL` and `DATABASE_MAX_CONNECTIONS`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct DatabaseArgs {
    /// postgres://… or sqlite://… [the all-in-one's default: SQLite in WARDEN_DATA_DIR]
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Database pool size.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
}

impl DatabaseArgs {
    /// `DATABASE_URL`, which must be set.
    pub fn url(&self) -> Result<DatabaseUrl, SettingsError> {
        DatabaseUrl::parse(self.database_url.as_deref().unwrap_or(""))
    }

    /// `DATABASE_URL` when set (an empty value counts as unset).
    pub fn optional_url(&self) -> Result<Option<DatabaseUrl>, SettingsError> {
        match self.database_url.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(url) => DatabaseUrl::parse(url).map(Some),
        }
    }

    /// The pool size, at least 1.
    pub fn max_connections(&self) -> u32 {
        self.db_max_connections.max(1)
    }
}

/// `REDIS_URL` and `REDIS_KEY_PREFIX`.
#[derive(Clone, Debug, clap::Args)]
pub struct RedisArgs {
    /// Redis for the session cache and the rate-limit counts, shared by every replica; without it each process
    /// keeps them in memory (fine for a single process).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = DEFAULT_REDIS_KEY_PREFIX)]
    pub redis_key_prefix: String,
}

pub const DEFAULT_REDIS_KEY_PREFIX: &str = "warden:";

impl Default for RedisArgs {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned(),
        }
    }
}

impl RedisArgs {
    /// `REDIS_URL` when set (an empty value counts as unset).
    pub fn url(&self) -> Result<Option<RedisUrl>, SettingsError> {
        match self.redis_url.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(url) => RedisUrl::parse(url).map(Some),
        }
    }
}

/// `AUTH_SECRET` and `AUTH_SECRETS`, with Better Auth's `BETTER_AUTH_SECRET` and `BETTER_AUTH_SECRETS` read when
/// they are unset.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct SecretArgs {
    /// At least 32 characters; signs cookies and tokens and encrypts the JWT signing keys (BETTER_AUTH_SECRET is
    /// also read).
    #[arg(long = "secret", env = "AUTH_SECRET", hide_env_values = true)]
    pub secret: Option<SecretString>,
    /// Secret rotation, newest first: `<version>:<secret>,…` as Better Auth's BETTER_AUTH_SECRETS (also read), or
    /// bare secrets. The first signs and encrypts; every one, and AUTH_SECRET, verifies and decrypts.
    #[arg(long = "secrets", env = "AUTH_SECRETS", hide_env_values = true)]
    pub secrets: Option<SecretString>,
}

impl SecretArgs {
    /// The secrets as set, Better Auth's names filling in for unset (or empty) ones: `(secret, secrets)`.
    pub fn with_fallbacks(self, env: &impl Env) -> (Option<SecretString>, Option<SecretString>) {
        let set = |value: Option<SecretString>, fallback: &str| {
            value
                .filter(|value| !value.expose_secret().is_empty())
                .or_else(|| {
                    env(fallback)
                        .filter(|v| !v.is_empty())
                        .map(SecretString::from)
                })
        };
        (
            set(self.secret, "BETTER_AUTH_SECRET"),
            set(self.secrets, "BETTER_AUTH_SECRETS"),
        )
    }

    /// The deployment's secrets; one of the two must be set.
    pub fn resolve(self, env: &impl Env) -> Result<AuthSecret, SettingsError> {
        let (secret, secrets) = self.with_fallbacks(env);
        Ok(AuthSecret::from_settings(secrets.as_ref(), secret)?)
    }
}

/// `BASE_URL` and `TRUSTED_ORIGINS`, with Better Auth's `BETTER_AUTH_URL` and `BETTER_AUTH_TRUSTED_ORIGINS` read
/// when they are unset.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct PublicArgs {
    /// Public URL of the app: JWT issuer and audience, first trusted origin; `https://` turns on `__Secure-`
    /// cookies (BETTER_AUTH_URL is also read) [default: http://127.0.0.1:8080].
    #[arg(long, env = "BASE_URL")]
    pub base_url: Option<String>,
    /// Comma-separated origins trusted besides BASE_URL's (CORS, CSRF checks, gRPC-web), `*` wildcards allowed
    /// (BETTER_AUTH_TRUSTED_ORIGINS is also read).
    #[arg(long, env = "TRUSTED_ORIGINS")]
    pub trusted_origins: Option<String>,
}

impl PublicArgs {
    /// `BASE_URL` when set.
    pub fn optional_base_url(&self, env: &impl Env) -> Result<Option<PublicUrl>, SettingsError> {
        let raw = self
            .base_url
            .clone()
            .filter(|url| !url.trim().is_empty())
            .or_else(|| env("BETTER_AUTH_URL").filter(|url| !url.trim().is_empty()));
        raw.as_deref().map(PublicUrl::parse).transpose()
    }

    /// `BASE_URL`, [`super::DEFAULT_PUBLIC_URL`] when unset.
    pub fn base_url(&self, env: &impl Env) -> Result<PublicUrl, SettingsError> {
        Ok(self.optional_base_url(env)?.unwrap_or_default())
    }

    /// `TRUSTED_ORIGINS`, none when unset.
    pub fn trusted_origins(&self, env: &impl Env) -> Result<TrustedOrigins, SettingsError> {
        match self
            .trusted_origins
            .clone()
            .or_else(|| env("BETTER_AUTH_TRUSTED_ORIGINS"))
        {
            Some(list) => TrustedOrigins::parse(&list),
            None => Ok(TrustedOrigins::default()),
        }
    }
}

/// `TLS_CERT` and `TLS_KEY`: TLS on a gRPC port.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServerTlsArgs {
    /// PEM certificate chain: with TLS_KEY, the gRPC port serves TLS only.
    #[arg(long, env = "TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of TLS_CERT.
    #[arg(long, env = "TLS_KEY")]
    pub tls_key: Option<PathBuf>,
}

impl ServerTlsArgs {
    /// The server's TLS, read and checked; `None` when neither file is set.
    pub fn resolve(&self) -> Result<Option<ServerTlsConfig>, SettingsError> {
        Ok(crate::tls::server_config(
            self.tls_cert.as_deref(),
            self.tls_key.as_deref(),
        )?)
    }
}

/// `DRAIN_DELAY`.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct DrainArgs {
    /// Seconds to keep serving after a shutdown signal while health checks (grpc.health.v1, GET /readyz) already
    /// report the stop, so that balancers stop sending requests before the listeners close.
    #[arg(long, env = "DRAIN_DELAY", default_value_t = crate::shutdown::DEFAULT_DRAIN_DELAY.as_secs())]
    pub drain_delay: u64,
}

impl Default for DrainArgs {
    fn default() -> Self {
        Self {
            drain_delay: crate::shutdown::DEFAULT_DRAIN_DELAY.as_secs(),
        }
    }
}

impl DrainArgs {
    pub fn delay(&self) -> Duration {
        Duration::from_secs(self.drain_delay)
    }
}

/// `METRICS_ALLOW`: who may read the gateway's `GET /metrics`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct MetricsAllowArgs {
    /// Comma-separated addresses or networks of the clients that may read GET /metrics, as TRUSTED_PROXIES
    /// resolves the client [default: 127.0.0.0/8,::1: this host only].
    #[arg(long, env = "METRICS_ALLOW")]
    pub metrics_allow: Option<String>,
}

impl MetricsAllowArgs {
    /// The networks, loopback when unset or empty.
    pub fn resolve(&self) -> Result<Networks, SettingsError> {
        match self.metrics_allow.as_deref() {
            Some(list) if !list.trim().is_empty() => Networks::parse("METRICS_ALLOW", list),
            _ => Ok(Networks::loopback()),
        }
    }
}

/// `PLUGINS`: which Better Auth plugins are served.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct PluginsArgs {
    /// Comma-separated Better Auth plugins to serve: admin, jwt, two-factor, passkey, organization, api-key; an
    /// empty value serves none [default: all].
    #[arg(long, env = "PLUGINS")]
    pub plugins: Option<String>,
    /// With the api-key plugin: `x-api-key` stands for its owner's session on Better Auth's routes (the package's
    /// `enableSessionForAPIKeys`). Set it on the gateway and auth-svc alike.
    #[arg(
        long,
        env = "API_KEY_SESSIONS",
        default_value_t = false,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub api_key_sessions: bool,
}

impl PluginsArgs {
    /// All when unset; an empty `PLUGINS` (which clap may take for unset, hence `env`) means none.
    pub fn resolve(&self, env: &impl Env) -> Result<Plugins, SettingsError> {
        let plugins = match self.plugins.clone().or_else(|| env("PLUGINS")) {
            Some(list) => Plugins::parse(&list)?,
            None => Plugins::all(),
        };
        Ok(plugins.with_api_key_sessions(self.api_key_sessions))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::settings::Plugin;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        redis: RedisArgs,
        #[command(flatten)]
        secret: SecretArgs,
        #[command(flatten)]
        public: PublicArgs,
        #[command(flatten)]
        tls: ServerTlsArgs,
        #[command(flatten)]
        drain: DrainArgs,
        #[command(flatten)]
        metrics: MetricsAllowArgs,
        #[command(flatten)]
        plugins: PluginsArgs,
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn cli(args: &[&str]) -> Cli {
        let mut all = vec!["bin"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    }

    #[test]
    fn the_groups_flatten_into_one_command() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn a_database_url_is_required_where_asked_and_optional_elsewhere() {
        let none = cli(&[]);
        assert_eq!(none.database.url().unwrap_err().variable, "DATABASE_URL");
        assert!(none.database.optional_url().unwrap().is_none());
        let sqlite = cli(&[
            "--database-url",
            "sqlite::memory:",
            "--db-max-connections",
            "0",
        ]);
        assert!(sqlite.database.url().unwrap().is_sqlite());
        assert_eq!(sqlite.database.max_connections(), 1);
        let bad = cli(&["--database-url", "mysql://x"]);
        assert_eq!(
            bad.database.optional_url().unwrap_err().variable,
            "DATABASE_URL"
        );
    }

    #[test]
    fn redis_is_optional_and_checked_when_set() {
        assert!(cli(&[]).redis.url().unwrap().is_none());
        assert!(cli(&["--redis-url", ""]).redis.url().unwrap().is_none());
        assert!(
            cli(&["--redis-url", "redis://127.0.0.1:6379"])
                .redis
                .url()
                .unwrap()
                .is_some()
        );
        let error = cli(&["--redis-url", "127.0.0.1:6379"])
            .redis
            .url()
            .unwrap_err();
        assert_eq!(error.variable, "REDIS_URL");
        assert_eq!(cli(&[]).redis.redis_key_prefix, "warden:");
    }

    #[test]
    fn better_auth_names_fill_in_for_unset_secrets_only() {
        let env = |name: &str| match name {
            "BETTER_AUTH_SECRET" => Some("b".repeat(32)),
            "BETTER_AUTH_SECRETS" => Some(format!("2:{}", "n".repeat(40))),
            _ => None,
        };
        let secret = cli(&[]).secret.resolve(&env).unwrap();
        assert_eq!(secret.expose(), "n".repeat(40));
        assert_eq!(secret.len(), 2);
        let warden = "w".repeat(32);
        let secret = cli(&["--secret", &warden, "--secrets", ""]).secret;
        let (secret, _) = secret.with_fallbacks(&env);
        assert_eq!(secret.unwrap().expose_secret(), warden);
        let error = cli(&[]).secret.resolve(&no_env).unwrap_err();
        assert_eq!(error.variable, "AUTH_SECRET");
        let error = cli(&["--secrets", "1:short"])
            .secret
            .resolve(&no_env)
            .unwrap_err();
        assert_eq!(error.variable, "AUTH_SECRETS");
        assert!(!error.to_string().contains("short"));
    }

    #[test]
    fn the_public_url_and_origins_fall_back_to_better_auths_names() {
        let env = |name: &str| match name {
            "BETTER_AUTH_URL" => Some("https://app.example.com/".to_owned()),
            "BETTER_AUTH_TRUSTED_ORIGINS" => Some("https://a.example.com, ".to_owned()),
            _ => None,
        };
        let public = cli(&[]).public;
        assert_eq!(
            public.base_url(&env).unwrap().as_str(),
            "https://app.example.com"
        );
        assert_eq!(
            public.trusted_origins(&env).unwrap().patterns(),
            ["https://a.example.com"]
        );
        assert_eq!(public.base_url(&no_env).unwrap(), PublicUrl::default());
        assert!(public.optional_base_url(&no_env).unwrap().is_none());
        let public = cli(&[
            "--base-url",
            "http://localhost:3000",
            "--trusted-origins",
            "",
        ])
        .public;
        assert_eq!(
            public.base_url(&env).unwrap().as_str(),
            "http://localhost:3000"
        );
        assert!(public.trusted_origins(&env).unwrap().is_empty());
        let error = cli(&["--base-url", "localhost"])
            .public
            .base_url(&no_env)
            .unwrap_err();
        assert_eq!(error.variable, "BASE_URL");
        let error = cli(&["--trusted-origins", "nope"])
            .public
            .trusted_origins(&no_env)
            .unwrap_err();
        assert_eq!(error.variable, "TRUSTED_ORIGINS");
    }

    #[test]
    fn tls_needs_both_files() {
        assert!(cli(&[]).tls.resolve().unwrap().is_none());
        let error = cli(&["--tls-cert", "cert.pem"]).tls.resolve().unwrap_err();
        assert_eq!(error.variable, "TLS_KEY");
    }

    #[test]
    fn metrics_are_for_loopback_unless_networks_are_named() {
        assert_eq!(cli(&[]).metrics.resolve().unwrap(), Networks::loopback());
        let named = cli(&["--metrics-allow", "10.0.0.0/8"])
            .metrics
            .resolve()
            .unwrap();
        assert_eq!(named.len(), 1);
        let error = cli(&["--metrics-allow", "prometheus"])
            .metrics
            .resolve()
            .unwrap_err();
        assert_eq!(error.variable, "METRICS_ALLOW");
        assert_eq!(cli(&[]).drain.delay(), Duration::from_secs(1));
    }

    #[test]
    fn plugins_default_to_all_and_an_empty_value_means_none() {
        assert_eq!(cli(&[]).plugins.resolve(&no_env).unwrap(), Plugins::all());
        let empty = |name: &str| (name == "PLUGINS").then(String::new);
        assert_eq!(cli(&[]).plugins.resolve(&empty).unwrap(), Plugins::none());
        assert_eq!(
            cli(&["--plugins", ""]).plugins.resolve(&no_env).unwrap(),
            Plugins::none()
        );
        let some = cli(&["--plugins", "admin,jwt"])
            .plugins
            .resolve(&no_env)
            .unwrap();
        assert!(some.is_enabled(Plugin::Jwt) && !some.is_enabled(Plugin::Passkey));
        let error = cli(&["--plugins", "magic-link"])
            .plugins
            .resolve(&no_env)
            .unwrap_err();
        assert_eq!(error.variable, "PLUGINS");
    }
}
