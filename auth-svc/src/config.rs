//! Typed configuration: flags and environment variables (clap), resolved into a [`Config`].

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use tonic::transport::ServerTlsConfig;
use warden_common::AuthSecret;

use crate::core::sessions::SessionLifetimes;

/// Everything auth-svc needs to run; built from [`Cli`] or directly (tests, the all-in-one).
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub db_max_connections: u32,
    pub redis_url: Option<String>,
    pub redis_key_prefix: String,
    pub session_cache_ttl: Duration,
    /// `AUTH_SECRET`, or the `AUTH_SECRETS` rotation list: the first signs and encrypts, all verify and decrypt.
    pub secret: AuthSecret,
    /// Better Auth's `session.expiresIn`, `updateAge` and `freshAge`.
    pub sessions: SessionLifetimes,
    pub base_url: String,
    pub trusted_origins: Vec<String>,
    /// Peers whose `x-forwarded-*` metadata is believed (normally the gateway).
    pub trusted_proxies: Vec<IpNet>,
    pub migrate: bool,
    /// How often the signing key is looked up again, so a rotation elsewhere is picked up.
    pub key_refresh: Duration,
    /// Better Auth's `requireEmailVerification`: no session until the address is verified.
    pub require_email_verification: bool,
    /// Better Auth's `user.deleteUser.sendDeleteAccountVerification`: delete-user mails a confirmation link.
    pub delete_user_verification: bool,
    /// `smtp://host:port`, `smtp://…?tls=starttls` or `smtps://…`; unset keeps mail in the development outbox.
    pub smtp_url: Option<SecretString>,
    /// The sender of every mail.
    pub mail_from: String,
    /// Abuse limits: Better Auth's rate limits for direct callers (not trusted proxies) and the back-off after
    /// failed sign-ins on one account.
    pub rate_limit_enabled: bool,
    /// The first wait of the failed sign-in back-off (the longest is 36 times it); tests shorten it.
    pub throttle_base: Duration,
    /// Users who may use the AdminService whatever their role (Better Auth's `adminUserIds`).
    pub admin_user_ids: Vec<String>,
    /// TLS on the port (`TLS_CERT`, `TLS_KEY`); plain gRPC without it.
    pub tls: Option<ServerTlsConfig>,
    /// How often expired sessions and verifications are deleted; zero turns the job off.
    pub cleanup_interval: Duration,
    /// The admin port serving `GET /metrics` (`METRICS_ADDR`); none by default here, 127.0.0.1:9101 from the
    /// command line.
    pub metrics_listen: Option<SocketAddr>,
    /// How long a drain keeps serving after health turns NOT_SERVING (`DRAIN_DELAY`); none by default here, 1 s
    /// from the command line.
    pub drain_delay: Duration,
}

impl Config {
    /// Defaults for everything but the database and the secret.
    pub fn new(database_url: impl Into<String>, secret: AuthSecret) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            database_url: database_url.into(),
            db_max_connections: 10,
            redis_url: None,
            redis_key_prefix: "warden:".into(),
            session_cache_ttl: Duration::from_secs(300),
            secret,
            sessions: SessionLifetimes::default(),
            base_url: "http://127.0.0.1:8080".into(),
            trusted_origins: Vec::new(),
            trusted_proxies: loopback(),
            migrate: false,
            key_refresh: crate::core::jwt::DEFAULT_REFRESH,
            require_email_verification: false,
            delete_user_verification: false,
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.into(),
            rate_limit_enabled: true,
            throttle_base: Duration::from_secs(1),
            admin_user_ids: Vec::new(),
            tls: None,
            cleanup_interval: crate::core::cleanup::DEFAULT_INTERVAL,
            metrics_listen: None,
            drain_delay: Duration::ZERO,
        }
    }
}

pub const DEFAULT_MAIL_FROM: &str = "Warden <no-reply@localhost>";
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9101";

pub fn loopback() -> Vec<IpNet> {
    vec![
        "127.0.0.0/8".parse().expect("valid network"),
        "::1/128".parse().expect("valid network"),
    ]
}

/// auth-svc: Warden's AuthService (users, passwords, sessions) over gRPC, gRPC-web and reflection.
#[derive(Debug, clap::Parser)]
#[command(version, about)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "AUTH_ADDR", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// postgres://… or sqlite://…
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Database pool size.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
    /// Redis for the session cache; without it an in-process cache is used (single process only).
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "warden:")]
    pub redis_key_prefix: String,
    /// Longest time a session stays cached, in seconds.
    #[arg(long, env = "SESSION_CACHE_TTL", default_value_t = 300)]
    pub session_cache_ttl: u64,
    /// At least 32 characters (BETTER_AUTH_SECRET is accepted too).
    #[arg(long, env = "AUTH_SECRET", hide_env_values = true)]
    pub secret: Option<SecretString>,
    /// Secret rotation, newest first: `<version>:<secret>,…` as Better Auth's BETTER_AUTH_SECRETS (also read), or
    /// bare secrets. The first signs and encrypts; every one, and AUTH_SECRET, verifies and decrypts.
    #[arg(long, env = "AUTH_SECRETS", hide_env_values = true)]
    pub secrets: Option<SecretString>,
    /// How long a session lives, in seconds, extended on use (Better Auth's session.expiresIn).
    #[arg(long, env = "SESSION_EXPIRES_IN", default_value_t = 604_800)]
    pub session_expires_in: u64,
    /// Seconds between two extensions of a session's expiry (Better Auth's session.updateAge).
    #[arg(long, env = "SESSION_UPDATE_AGE", default_value_t = 86_400)]
    pub session_update_age: u64,
    /// How recent, in seconds, a sign-in must be for sensitive requests; 0 turns the check off (Better Auth's
    /// session.freshAge).
    #[arg(long, env = "SESSION_FRESH_AGE", default_value_t = 86_400)]
    pub session_fresh_age: u64,
    /// Public URL of the gateway (BETTER_AUTH_URL is accepted too).
    #[arg(long, env = "BASE_URL")]
    pub base_url: Option<String>,
    /// Comma-separated extra trusted origins (BETTER_AUTH_TRUSTED_ORIGINS is accepted too).
    #[arg(long, env = "TRUSTED_ORIGINS")]
    pub trusted_origins: Option<String>,
    /// Comma-separated addresses or networks whose forwarded client address is believed.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "127.0.0.0/8,::1/128")]
    pub trusted_proxies: String,
    /// Apply database migrations before serving.
    #[arg(long)]
    pub migrate: bool,
    /// Seconds between looks for a newer JWT signing key (after `rotate-keys`).
    #[arg(long, env = "KEY_REFRESH", default_value_t = 30)]
    pub key_refresh: u64,
    /// Sign-up and sign-in give no session until the email address is verified (true/false).
    #[arg(
        long,
        env = "REQUIRE_EMAIL_VERIFICATION",
        default_value_t = false,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub require_email_verification: bool,
    /// delete-user mails a link that confirms the deletion instead of deleting at once (true/false).
    #[arg(
        long,
        env = "DELETE_USER_VERIFICATION",
        default_value_t = false,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub delete_user_verification: bool,
    /// SMTP server for outgoing mail: smtp://[user:password@]host[:port][?tls=starttls] or smtps://…; unset keeps
    /// mail in a development outbox (logged, readable at GET /api/dev/outbox).
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SecretString>,
    /// Sender of every mail.
    #[arg(long, env = "MAIL_FROM", default_value = DEFAULT_MAIL_FROM)]
    pub mail_from: String,
    /// Rate limits for direct callers and the back-off after failed sign-ins (true or false). Counted in Redis
    /// when REDIS_URL is set.
    #[arg(long, env = "RATE_LIMIT_ENABLED", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub rate_limit_enabled: bool,
    /// Comma-separated user ids that are administrators whatever their role.
    #[arg(long, env = "ADMIN_USER_IDS", default_value = "")]
    pub admin_user_ids: String,
    /// PEM certificate chain: with TLS_KEY, the port serves TLS only.
    #[arg(long, env = "TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of TLS_CERT.
    #[arg(long, env = "TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// PEM certificate authorities that `healthcheck` verifies TLS_CERT against [default: TLS_CERT itself, for a
    /// self-signed certificate].
    #[arg(long, env = "TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Seconds between deletions of expired sessions and verifications; 0 turns them off.
    #[arg(long, env = "CLEANUP_INTERVAL", default_value_t = crate::core::cleanup::DEFAULT_INTERVAL.as_secs())]
    pub cleanup_interval: u64,
    /// Admin port serving Prometheus metrics at GET /metrics, or `off`.
    #[arg(long, env = "METRICS_ADDR", default_value = DEFAULT_METRICS_ADDR)]
    pub metrics_addr: String,
    /// Seconds to keep serving after a shutdown signal while health already reports NOT_SERVING, so that
    /// balancers and probes stop sending calls before the listener closes.
    #[arg(long, env = "DRAIN_DELAY", default_value_t = warden_common::shutdown::DEFAULT_DRAIN_DELAY.as_secs())]
    pub drain_delay: u64,
    #[command(flatten)]
    pub runtime: warden_common::runtime::RuntimeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Without a command, auth-svc serves.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Create a new JWT signing key, retire the current ones (they keep verifying for 30 days) and print the new
    /// key id. Needs DATABASE_URL and AUTH_SECRET; running services switch to the new key within KEY_REFRESH.
    RotateKeys,
    /// Exit 0 when the auth-svc at AUTH_ADDR (0.0.0.0 means this host) reports SERVING to grpc.health.v1, 1
    /// otherwise, within 3 seconds; speaks TLS when TLS_CERT is set. Needs no other setting.
    Healthcheck {
        /// The name TLS_CERT must hold, when TLS is on.
        #[arg(long, default_value = warden_common::healthcheck::DEFAULT_TLS_NAME)]
        tls_name: String,
    },
}

impl Cli {
    /// The `healthcheck` subcommand: asks the server these settings would start whether it is serving.
    pub async fn healthcheck(&self, tls_name: &str) -> anyhow::Result<()> {
        let tls = warden_common::healthcheck::self_tls(
            self.tls_cert.as_deref(),
            self.tls_ca.as_deref(),
            tls_name,
        )?;
        warden_common::healthcheck::grpc(self.listen, tls)
            .await
            .context("auth-svc is not healthy")
    }

    pub fn into_config(self) -> anyhow::Result<Config> {
        let database_url = self
            .database_url
            .filter(|url| !url.is_empty())
            .context("DATABASE_URL is required (postgres://… or sqlite://…)")?;
        if !(database_url.starts_with("postgres") || database_url.starts_with("sqlite:")) {
            bail!("DATABASE_URL must start with postgres:// or sqlite:");
        }
        let secret = self.secret.or_else(|| env_secret("BETTER_AUTH_SECRET"));
        let secrets = self.secrets.or_else(|| env_secret("BETTER_AUTH_SECRETS"));
        let secret = AuthSecret::from_settings(secrets.as_ref(), secret)
            .map_err(|error| anyhow::anyhow!("{} {error}", error.variable()))?;
        let sessions = SessionLifetimes::from_secs(
            self.session_expires_in,
            self.session_update_age,
            self.session_fresh_age,
        )
        .context("SESSION_EXPIRES_IN must be at least 1 second (and the session ages a number of seconds)")?;
        if self.session_cache_ttl == 0 {
            bail!("SESSION_CACHE_TTL must be at least 1 second");
        }
        let base_url = self
            .base_url
            .or_else(|| std::env::var("BETTER_AUTH_URL").ok())
            .unwrap_or_else(|| "http://127.0.0.1:8080".into());
        let trusted_origins = self
            .trusted_origins
            .or_else(|| std::env::var("BETTER_AUTH_TRUSTED_ORIGINS").ok())
            .map(|list| split_list(&list))
            .unwrap_or_default();
        let smtp_url = self.smtp_url.filter(|url| !url.expose_secret().is_empty());
        if let Some(url) = &smtp_url {
            crate::mail::SmtpSettings::parse(url.expose_secret(), &self.mail_from)?;
        }
        let trusted_proxies = parse_networks(&self.trusted_proxies)
            .context("TRUSTED_PROXIES must be a comma list of IP addresses or networks")?;
        let tls =
            warden_common::tls::server_config(self.tls_cert.as_deref(), self.tls_key.as_deref())?;
        Ok(Config {
            listen: self.listen,
            database_url,
            db_max_connections: self.db_max_connections.max(1),
            redis_url: self.redis_url.filter(|url| !url.is_empty()),
            redis_key_prefix: self.redis_key_prefix,
            session_cache_ttl: Duration::from_secs(self.session_cache_ttl),
            secret,
            sessions,
            base_url,
            trusted_origins,
            trusted_proxies,
            migrate: self.migrate,
            key_refresh: Duration::from_secs(self.key_refresh),
            require_email_verification: self.require_email_verification,
            delete_user_verification: self.delete_user_verification,
            smtp_url,
            mail_from: self.mail_from,
            rate_limit_enabled: self.rate_limit_enabled,
            throttle_base: Duration::from_secs(1),
            admin_user_ids: split_list(&self.admin_user_ids),
            tls,
            cleanup_interval: Duration::from_secs(self.cleanup_interval),
            metrics_listen: warden_common::metrics::parse_listen(&self.metrics_addr)?,
            drain_delay: Duration::from_secs(self.drain_delay),
        })
    }
}

fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

pub fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(String::from)
        .collect()
}

/// Parses `10.0.0.0/8,127.0.0.1` (a bare address is a single-host network).
pub fn parse_networks(list: &str) -> anyhow::Result<Vec<IpNet>> {
    split_list(list)
        .iter()
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .with_context(|| format!("`{item}` is not an address or network"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_accept_addresses_and_ranges() {
        let nets = parse_networks("10.0.0.0/8, 127.0.0.1,::1").unwrap();
        assert_eq!(nets.len(), 3);
        assert!(nets[1].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_networks("not-an-ip").is_err());
    }

    fn parse(extra: &[&str]) -> anyhow::Result<Config> {
        use clap::Parser;
        let secret = "x".repeat(32);
        let mut args = vec![
            "auth-svc",
            "--database-url",
            "sqlite::memory:",
            "--secret",
            &secret,
        ];
        args.extend_from_slice(extra);
        Cli::try_parse_from(args)?.into_config()
    }

    #[test]
    fn session_lifetimes_default_to_better_auths_and_follow_the_settings() {
        assert_eq!(parse(&[]).unwrap().sessions, SessionLifetimes::default());
        let config = parse(&[
            "--session-expires-in",
            "3600",
            "--session-update-age",
            "60",
            "--session-fresh-age",
            "0",
        ])
        .unwrap();
        assert_eq!(config.sessions.expires_in, chrono::TimeDelta::hours(1));
        assert_eq!(config.sessions.update_age, chrono::TimeDelta::minutes(1));
        assert!(config.sessions.fresh_age.is_zero());
        let error = parse(&["--session-expires-in", "0"]).unwrap_err();
        assert!(error.to_string().contains("SESSION_EXPIRES_IN"), "{error}");
    }

    #[test]
    fn a_rotation_list_signs_with_its_first_secret() {
        let newest = "n".repeat(40);
        let config = parse(&["--secrets", &format!("2:{newest},1:{}", "o".repeat(32))]).unwrap();
        assert_eq!(config.secret.expose(), newest);
        // AUTH_SECRET (here "x"*32) still verifies, last.
        assert_eq!(config.secret.len(), 3);
        let error = parse(&["--secrets", "1:short"]).unwrap_err();
        assert!(error.to_string().starts_with("AUTH_SECRETS "), "{error}");
        assert!(!error.to_string().contains("short"), "{error}");
    }

    #[test]
    fn metrics_are_served_on_loopback_unless_turned_off() {
        let default = parse(&[]).unwrap().metrics_listen;
        assert_eq!(default, Some(DEFAULT_METRICS_ADDR.parse().unwrap()));
        assert_eq!(
            parse(&["--metrics-addr", "off"]).unwrap().metrics_listen,
            None
        );
        let error = parse(&["--metrics-addr", "nowhere"]).unwrap_err();
        assert!(error.to_string().starts_with("METRICS_ADDR"), "{error}");
    }

    #[test]
    fn mail_settings_default_to_the_outbox_and_no_verification() {
        let config = parse(&[]).unwrap();
        assert!(!config.require_email_verification);
        assert!(config.smtp_url.is_none());
        assert_eq!(config.mail_from, DEFAULT_MAIL_FROM);
    }

    #[test]
    fn email_verification_is_a_flag_with_an_optional_boolean() {
        assert!(
            parse(&["--require-email-verification"])
                .unwrap()
                .require_email_verification
        );
        assert!(
            parse(&["--require-email-verification", "true"])
                .unwrap()
                .require_email_verification
        );
        assert!(
            !parse(&["--require-email-verification", "false"])
                .unwrap()
                .require_email_verification
        );
    }

    #[test]
    fn a_bad_smtp_url_or_sender_fails_naming_the_variable() {
        let error = parse(&["--smtp-url", "http://mail.example.com"]).unwrap_err();
        assert!(error.to_string().contains("SMTP_URL"), "{error}");
        let error = parse(&[
            "--smtp-url",
            "smtp://mail.example.com",
            "--mail-from",
            "nobody",
        ])
        .unwrap_err();
        assert!(error.to_string().contains("MAIL_FROM"), "{error}");
        let config = parse(&["--smtp-url", "smtps://u:p@mail.example.com"]).unwrap();
        assert!(config.smtp_url.is_some());
        assert!(!format!("{config:?}").contains("u:p@"));
    }
}
