//! The all-in-one's command line: every setting of the split binaries that applies to one process on SQLite, in the
//! same groups (`warden_common::settings::args`, auth-svc's [`AccountArgs`], the gateway's [`CookieArgs`] and
//! [`LimitArgs`]), so a setting means the same here as there. `tests/all_in_one.rs` lists the split binaries'
//! settings and checks that each one is here, or named among the few that do not apply.

use std::{net::SocketAddr, path::PathBuf};

use auth_svc::config::AccountArgs;
use gateway::config::{CookieArgs, LimitArgs, Limits};
use warden_common::settings::args::{
    DatabaseArgs, DrainArgs, PluginsArgs, PublicArgs, SecretArgs, ServerTlsArgs,
};
use warden_common::settings::{Env, SettingsError};

use crate::Settings;

/// Warden all-in-one: auth-svc, task-svc and the gateway in one process, on SQLite, no other services needed.
#[derive(Debug, clap::Parser)]
#[command(
    name = "warden",
    version,
    about,
    long_about = "Warden all-in-one: auth-svc, task-svc and the gateway in one process, on SQLite in WARDEN_DATA_DIR \
                  (or the database at DATABASE_URL), no other services needed. Without AUTH_SECRET a secret is \
                  generated and kept in the data directory. Metrics are served at the gateway's GET /metrics."
)]
pub struct Cli {
    /// Where the SQLite database and the generated secret live.
    #[arg(long, env = "WARDEN_DATA_DIR", default_value = ".warden")]
    pub data_dir: PathBuf,
    /// The HTTP gateway's address.
    #[arg(long, env = "GATEWAY_ADDR", default_value = "127.0.0.1:8080")]
    pub gateway_addr: SocketAddr,
    /// AuthService's gRPC address.
    #[arg(long, env = "AUTH_ADDR", default_value = "127.0.0.1:50051")]
    pub auth_addr: SocketAddr,
    /// TaskService's gRPC address.
    #[arg(long, env = "TASK_ADDR", default_value = "127.0.0.1:50052")]
    pub task_addr: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub public: PublicArgs,
    #[command(flatten)]
    pub account: AccountArgs,
    #[command(flatten)]
    pub cookies: CookieArgs,
    /// Better Auth's rate limits and the failed sign-in back-off (true or false), counted in process.
    #[arg(long, env = "RATE_LIMIT_ENABLED", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub rate_limit_enabled: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub tls: ServerTlsArgs,
    /// PEM certificate authorities that task-svc verifies auth-svc's TLS_CERT against, reaching it at
    /// https://localhost:<port> [default: TLS_CERT itself, for a self-signed certificate].
    #[arg(long, env = "TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    #[command(flatten)]
    pub drain: DrainArgs,
    #[command(flatten)]
    pub plugins: PluginsArgs,
    #[command(flatten)]
    pub runtime: warden_common::runtime::RuntimeArgs,
}

impl Cli {
    /// Every setting parsed, Better Auth's variable names read from the process environment.
    pub fn into_settings(self) -> Result<Settings, SettingsError> {
        self.resolve(&warden_common::settings::process_env)
    }

    /// Every setting parsed, Better Auth's variable names read through `env`.
    pub fn resolve(self, env: &impl Env) -> Result<Settings, SettingsError> {
        let mut settings = Settings::new(self.data_dir);
        settings.gateway_addr = self.gateway_addr;
        settings.auth_addr = self.auth_addr;
        settings.task_addr = self.task_addr;
        settings.database_url = self.database.optional_url()?;
        settings.db_max_connections = self.database.max_connections();
        (settings.secret, settings.secrets) = self.secret.with_fallbacks(env);
        settings.base_url = self.public.optional_base_url(env)?;
        settings.trusted_origins = self.public.trusted_origins(env)?;
        let session_expires_in = self.account.session_expires_in;
        settings.account = self.account.resolve(env)?;
        settings.cookies = self.cookies.resolve(session_expires_in)?;
        settings.rate_limit_enabled = self.rate_limit_enabled;
        let mut limits = Limits::default();
        self.limits.apply_to(&mut limits)?;
        settings.trusted_proxies = limits.trusted_proxies;
        settings.metrics_allow = limits.metrics_allow;
        settings.body_limit = limits.body_limit;
        settings.request_timeout = limits.request_timeout;
        settings.tls = self.tls.resolve()?;
        settings.tls_ca = match warden_common::tls::read_ca(self.tls_ca.as_deref())? {
            Some(ca) => Some(ca),
            None if settings.tls.is_some() => {
                warden_common::tls::read_ca(self.tls.tls_cert.as_deref())
                    .map_err(|error| SettingsError::new("TLS_CERT", error.reason))?
            }
            None => None,
        };
        settings.drain_delay = self.drain.delay();
        settings.plugins = self.plugins.resolve(env)?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use warden_common::settings::Plugin;

    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn resolve(args: &[&str]) -> Result<Settings, SettingsError> {
        let mut all = vec!["warden"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().resolve(&no_env)
    }

    #[test]
    fn the_flags_parse() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_split_binaries_defaults() {
        let settings = resolve(&[]).unwrap();
        assert!(settings.database_url.is_none());
        assert!(settings.base_url.is_none());
        assert!(settings.tls.is_none());
        assert_eq!(settings.plugins, warden_common::settings::Plugins::all());
        let limits = Limits::default();
        assert_eq!(settings.body_limit, limits.body_limit);
        assert_eq!(settings.request_timeout, limits.request_timeout);
        assert_eq!(settings.metrics_allow, limits.metrics_allow);
        assert!(settings.trusted_proxies.is_empty());
        assert_eq!(
            settings.account.cleanup_interval,
            auth_svc::core::cleanup::DEFAULT_INTERVAL
        );
    }

    #[test]
    fn the_split_binaries_settings_are_read() {
        let settings = resolve(&[
            "--database-url",
            "sqlite::memory:",
            "--cleanup-interval",
            "0",
            "--trusted-proxies",
            "10.0.0.0/8",
            "--metrics-allow",
            "192.0.2.0/24",
            "--body-limit",
            "10",
            "--request-timeout",
            "5",
            "--plugins",
            "admin",
            "--session-expires-in",
            "60",
        ])
        .unwrap();
        assert!(settings.database_url.unwrap().is_sqlite());
        assert!(settings.account.cleanup_interval.is_zero());
        assert!(
            settings
                .trusted_proxies
                .contains(&"10.0.0.1".parse().unwrap())
        );
        assert!(
            settings
                .metrics_allow
                .contains(&"192.0.2.1".parse().unwrap())
        );
        assert!(
            !settings
                .metrics_allow
                .contains(&"127.0.0.1".parse().unwrap())
        );
        assert_eq!(settings.body_limit, 10);
        assert_eq!(settings.request_timeout.as_secs(), 5);
        assert!(!settings.plugins.is_enabled(Plugin::Jwt));
        assert_eq!(settings.cookies.session_max_age, 60);
    }

    #[test]
    fn bad_settings_are_refused_naming_the_variable() {
        for (flag, value, variable) in [
            ("--database-url", "mysql://x", "DATABASE_URL"),
            ("--base-url", "example.com", "BASE_URL"),
            ("--trusted-origins", "nope", "TRUSTED_ORIGINS"),
            ("--trusted-proxies", "lb", "TRUSTED_PROXIES"),
            ("--metrics-allow", "prometheus", "METRICS_ALLOW"),
            ("--body-limit", "0", "BODY_LIMIT"),
            ("--cookie-prefix", "a b", "COOKIE_PREFIX"),
            ("--tls-cert", "cert.pem", "TLS_KEY"),
            ("--plugins", "magic-link", "PLUGINS"),
            ("--session-cache-ttl", "0", "SESSION_CACHE_TTL"),
        ] {
            let error = resolve(&[flag, value]).unwrap_err();
            assert_eq!(error.variable, variable, "{flag}");
        }
    }

    #[test]
    fn better_auths_names_are_read_too() {
        let env = |name: &str| match name {
            "BETTER_AUTH_SECRET" => Some("b".repeat(32)),
            "BETTER_AUTH_URL" => Some("https://app.example.com/".to_owned()),
            _ => None,
        };
        let settings = Cli::try_parse_from(["warden"])
            .unwrap()
            .resolve(&env)
            .unwrap();
        assert!(settings.secret.is_some());
        assert_eq!(
            settings.base_url.unwrap().as_str(),
            "https://app.example.com"
        );
    }
}
