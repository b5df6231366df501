//! Typed configuration: flags and environment variables (clap), resolved once into a [`Config`] of parsed values.
//!
//! The settings auth-svc shares with other binaries are `warden_common::settings` groups; [`AccountArgs`] holds the
//! ones about accounts and sessions, which the all-in-one flattens too.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use tonic::transport::ServerTlsConfig;
use warden_common::AuthSecret;
use warden_common::settings::args::{
    DatabaseArgs, DrainArgs, PluginsArgs, PublicArgs, RedisArgs, SecretArgs, ServerTlsArgs,
};
use warden_common::settings::{
    DatabaseUrl, Env, Networks, Plugins, PublicUrl, RedisUrl, SettingsError, TrustedOrigins,
    split_list,
};

use crate::core::api_key::ApiKeySettings;
use crate::core::sessions::SessionLifetimes;
use crate::core::social::settings::Social;
use crate::mail::SmtpSettings;

/// Everything auth-svc needs to run; built from [`Cli`] or directly (tests, the all-in-one).
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
    pub db_max_connections: u32,
    pub redis_url: Option<RedisUrl>,
    pub redis_key_prefix: String,
    pub session_cache_ttl: Duration,
    /// `AUTH_SECRET`, or the `AUTH_SECRETS` rotation list: the first signs and encrypts, all verify and decrypt.
    pub secret: AuthSecret,
    /// Better Auth's `session.expiresIn`, `updateAge` and `freshAge`.
    pub sessions: SessionLifetimes,
    /// The gateway's public URL: JWT issuer and audience, base of mailed links, first trusted origin.
    pub base_url: PublicUrl,
    /// `TRUSTED_ORIGINS`: allowed to call over gRPC-web besides `base_url`'s origin.
    pub trusted_origins: TrustedOrigins,
    /// Peers whose `x-forwarded-*` metadata is believed (normally the gateway).
    pub trusted_proxies: Networks,
    pub migrate: bool,
    /// How often the signing key is looked up again, so a rotation elsewhere is picked up.
    pub key_refresh: Duration,
    /// Better Auth's `requireEmailVerification`: no session until the address is verified.
    pub require_email_verification: bool,
    /// Better Auth's `user.deleteUser.sendDeleteAccountVerification`: delete-user mails a confirmation link.
    pub delete_user_verification: bool,
    /// `TWO_FACTOR_ISSUER`: the name authenticator apps show.
    pub two_factor_issuer: String,
    /// `PASSKEY_RP_ID`, `PASSKEY_RP_NAME`, `PASSKEY_ORIGINS`.
    pub passkey: PasskeySettings,
    /// `API_KEY_RATE_LIMIT`, `API_KEY_RATE_LIMIT_MAX`, `API_KEY_RATE_LIMIT_WINDOW`, `API_KEY_METADATA`.
    pub api_key: ApiKeySettings,
    /// `SMTP_URL` with `MAIL_FROM`, parsed; unset keeps mail in the development outbox.
    pub smtp: Option<SmtpSettings>,
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
    /// The Better Auth plugins served (`PLUGINS`).
    pub plugins: Plugins,
    /// The social sign-in providers (`GOOGLE_*`, `GITHUB_*`, `OAUTH_PROVIDERS`, `TRUSTED_PROVIDERS`).
    pub social: Social,
}

impl Config {
    /// Defaults for everything but the database and the secret.
    pub fn new(database_url: DatabaseUrl, secret: AuthSecret) -> Self {
        let account = Account::default();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            database_url,
            db_max_connections: 10,
            redis_url: None,
            redis_key_prefix: warden_common::settings::args::DEFAULT_REDIS_KEY_PREFIX.into(),
            session_cache_ttl: account.session_cache_ttl,
            secret,
            sessions: account.sessions,
            base_url: PublicUrl::default(),
            trusted_origins: TrustedOrigins::default(),
            trusted_proxies: Networks::loopback(),
            migrate: false,
            key_refresh: account.key_refresh,
            require_email_verification: account.require_email_verification,
            delete_user_verification: account.delete_user_verification,
            two_factor_issuer: account.two_factor_issuer,
            passkey: account.passkey,
            api_key: account.api_key,
            smtp: account.smtp,
            rate_limit_enabled: true,
            throttle_base: Duration::from_secs(1),
            admin_user_ids: account.admin_user_ids,
            tls: None,
            cleanup_interval: account.cleanup_interval,
            metrics_listen: None,
            drain_delay: Duration::ZERO,
            plugins: Plugins::all(),
            social: account.social,
        }
    }
}

pub const DEFAULT_MAIL_FROM: &str = "Warden <no-reply@localhost>";
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9101";

/// auth-svc: Warden's AuthService (users, passwords, sessions) over gRPC, gRPC-web and reflection.
#[derive(Debug, clap::Parser)]
#[command(version, about)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "AUTH_ADDR", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub redis: RedisArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub public: PublicArgs,
    #[command(flatten)]
    pub account: AccountArgs,
    /// Rate limits for direct callers and the back-off after failed sign-ins (true or false). Counted in Redis
    /// when REDIS_URL is set.
    #[arg(long, env = "RATE_LIMIT_ENABLED", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub rate_limit_enabled: bool,
    /// Comma-separated addresses or networks whose forwarded client address is believed (the gateway).
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "127.0.0.0/8,::1/128")]
    pub trusted_proxies: String,
    /// Apply database migrations before serving.
    #[arg(long)]
    pub migrate: bool,
    #[command(flatten)]
    pub tls: ServerTlsArgs,
    /// PEM certificate authorities that `healthcheck` verifies TLS_CERT against [default: TLS_CERT itself, for a
    /// self-signed certificate].
    #[arg(long, env = "TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Admin port serving Prometheus metrics at GET /metrics, or `off`.
    #[arg(long, env = "METRICS_ADDR", default_value = DEFAULT_METRICS_ADDR)]
    pub metrics_addr: String,
    #[command(flatten)]
    pub drain: DrainArgs,
    #[command(flatten)]
    pub plugins: PluginsArgs,
    #[command(flatten)]
    pub runtime: warden_common::runtime::RuntimeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Accounts and sessions: the settings auth-svc and the all-in-one share.
#[derive(Clone, Debug, clap::Args)]
pub struct AccountArgs {
    /// Longest time a session stays cached, in seconds.
    #[arg(long, env = "SESSION_CACHE_TTL", default_value_t = 300)]
    pub session_cache_ttl: u64,
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
    /// Seconds between looks for a newer JWT signing key (after `auth-svc rotate-keys`).
    #[arg(long, env = "KEY_REFRESH", default_value_t = crate::core::jwt::DEFAULT_REFRESH.as_secs())]
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
    /// The name authenticator apps show for this deployment's two-factor codes (Better Auth's `appName`, or its
    /// two-factor plugin's `issuer`); keep Better Auth's when taking its users over, so their entries match.
    #[arg(long, env = "TWO_FACTOR_ISSUER", default_value = crate::core::two_factor::DEFAULT_ISSUER)]
    pub two_factor_issuer: String,
    /// The passkeys' relying-party id: a domain name, BASE_URL's host or a parent of it [default: BASE_URL's host].
    /// Passkeys are bound to it; keep Better Auth's `rpID` when taking its users over.
    #[arg(long, env = "PASSKEY_RP_ID")]
    pub passkey_rp_id: Option<String>,
    /// The name a passkey prompt shows for this deployment (Better Auth's `rpName`).
    #[arg(long, env = "PASSKEY_RP_NAME", default_value = DEFAULT_RP_NAME)]
    pub passkey_rp_name: String,
    /// Comma-separated origins a passkey ceremony may come from, `*` wildcards allowed [default: BASE_URL's origin
    /// and TRUSTED_ORIGINS]. Never taken from the request.
    #[arg(long, env = "PASSKEY_ORIGINS")]
    pub passkey_origins: Option<String>,
    /// Whether API keys are rate limited at all (the api-key plugin's `rateLimit.enabled`).
    #[arg(
        long,
        env = "API_KEY_RATE_LIMIT",
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub api_key_rate_limit: bool,
    /// A new API key's rate limit: at most this many requests per API_KEY_RATE_LIMIT_WINDOW. Better Auth's default
    /// is 10 a day: raise it for machines that call often.
    #[arg(long, env = "API_KEY_RATE_LIMIT_MAX", default_value_t = 10)]
    pub api_key_rate_limit_max: u32,
    /// Seconds of a new API key's rate-limit window.
    #[arg(long, env = "API_KEY_RATE_LIMIT_WINDOW", default_value_t = 86_400)]
    pub api_key_rate_limit_window: u32,
    /// Whether API keys may carry metadata (the api-key plugin's `enableMetadata`).
    #[arg(
        long,
        env = "API_KEY_METADATA",
        default_value_t = false,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub api_key_metadata: bool,
    /// Seconds between write-backs of API keys' use counters (kept in Redis, shared by the replicas) to the
    /// `apikey` rows.
    #[arg(long, env = "API_KEY_WRITE_BACK", default_value_t = 10)]
    pub api_key_write_back: u64,
    /// SMTP server for outgoing mail: smtp://[user:password@]host[:port][?tls=starttls] or smtps://…; unset keeps
    /// mail in a development outbox (logged, readable at GET /api/dev/outbox from this machine).
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SecretString>,
    /// Sender of every mail.
    #[arg(long, env = "MAIL_FROM", default_value = DEFAULT_MAIL_FROM)]
    pub mail_from: String,
    /// Comma-separated user ids that are administrators whatever their role.
    #[arg(long, env = "ADMIN_USER_IDS", default_value = "")]
    pub admin_user_ids: String,
    /// Seconds between deletions of expired sessions and verifications; 0 turns them off.
    #[command(flatten)]
    pub social: crate::core::social::settings::SocialArgs,
    #[arg(long, env = "CLEANUP_INTERVAL", default_value_t = crate::core::cleanup::DEFAULT_INTERVAL.as_secs())]
    pub cleanup_interval: u64,
}

/// [`AccountArgs`], parsed.
#[derive(Clone, Debug)]
pub struct Account {
    pub session_cache_ttl: Duration,
    pub sessions: SessionLifetimes,
    pub key_refresh: Duration,
    pub require_email_verification: bool,
    pub delete_user_verification: bool,
    pub two_factor_issuer: String,
    pub passkey: PasskeySettings,
    pub api_key: ApiKeySettings,
    pub smtp: Option<SmtpSettings>,
    pub admin_user_ids: Vec<String>,
    pub cleanup_interval: Duration,
    pub social: Social,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            session_cache_ttl: Duration::from_secs(300),
            sessions: SessionLifetimes::default(),
            key_refresh: crate::core::jwt::DEFAULT_REFRESH,
            require_email_verification: false,
            delete_user_verification: false,
            two_factor_issuer: crate::core::two_factor::DEFAULT_ISSUER.to_owned(),
            passkey: PasskeySettings::default(),
            api_key: ApiKeySettings::default(),
            smtp: None,
            admin_user_ids: Vec::new(),
            cleanup_interval: crate::core::cleanup::DEFAULT_INTERVAL,
            social: Social::default(),
        }
    }
}

impl AccountArgs {
    /// Every setting parsed; the providers' `OAUTH_<ID>_*` variables are read through `env`.
    pub fn resolve(self, env: &impl Env) -> Result<Account, SettingsError> {
        let social = self.social.resolve(env)?;
        let sessions = SessionLifetimes::from_secs(
            self.session_expires_in,
            self.session_update_age,
            self.session_fresh_age,
        )
        .ok_or_else(|| {
            SettingsError::new(
                "SESSION_EXPIRES_IN",
                "must be at least 1 second (and the session ages a number of seconds)",
            )
        })?;
        let session_cache_ttl = warden_common::settings::at_least_one_second(
            "SESSION_CACHE_TTL",
            self.session_cache_ttl,
        )?;
        let smtp = self
            .smtp_url
            .filter(|url| !url.expose_secret().is_empty())
            .map(|url| {
                SmtpSettings::parse(url.expose_secret(), &self.mail_from).map_err(|error| {
                    let variable = match error {
                        crate::mail::SmtpError::InvalidUrl(_) => "SMTP_URL",
                        crate::mail::SmtpError::InvalidFrom => "MAIL_FROM",
                    };
                    let text = error.to_string();
                    SettingsError::new(variable, text.trim_start_matches(variable).trim_start())
                })
            })
            .transpose()?;
        let two_factor_issuer = self.two_factor_issuer.trim().to_owned();
        if two_factor_issuer.is_empty() {
            return Err(SettingsError::new(
                "TWO_FACTOR_ISSUER",
                "must name the deployment (authenticator apps show it)",
            ));
        }
        let passkey = PasskeySettings::parse(
            self.passkey_rp_id,
            self.passkey_rp_name,
            self.passkey_origins,
        )?;
        let api_key = ApiKeySettings {
            rate_limit_enabled: self.api_key_rate_limit,
            rate_limit_max: i32::try_from(self.api_key_rate_limit_max).map_err(|_| {
                SettingsError::new("API_KEY_RATE_LIMIT_MAX", "must be at most 2147483647")
            })?,
            rate_limit_window_ms: i32::try_from(u64::from(self.api_key_rate_limit_window) * 1000)
                .ok()
                .filter(|window| *window > 0)
                .ok_or_else(|| {
                    SettingsError::new(
                        "API_KEY_RATE_LIMIT_WINDOW",
                        "must be between 1 and 2147483 seconds (the package stores milliseconds in 32 bits)",
                    )
                })?,
            metadata: self.api_key_metadata,
            sessions: false,
            write_back: warden_common::settings::at_least_one_second(
                "API_KEY_WRITE_BACK",
                self.api_key_write_back,
            )?,
        };
        Ok(Account {
            session_cache_ttl,
            two_factor_issuer,
            passkey,
            api_key,
            sessions,
            key_refresh: Duration::from_secs(self.key_refresh),
            require_email_verification: self.require_email_verification,
            delete_user_verification: self.delete_user_verification,
            smtp,
            admin_user_ids: split_list(&self.admin_user_ids),
            cleanup_interval: Duration::from_secs(self.cleanup_interval),
            social,
        })
    }
}

impl Account {
    /// Sets these settings in `config`.
    pub fn apply_to(self, config: &mut Config) {
        config.session_cache_ttl = self.session_cache_ttl;
        config.sessions = self.sessions;
        config.key_refresh = self.key_refresh;
        config.require_email_verification = self.require_email_verification;
        config.delete_user_verification = self.delete_user_verification;
        config.two_factor_issuer = self.two_factor_issuer;
        config.passkey = self.passkey;
        config.api_key = self.api_key;
        config.smtp = self.smtp;
        config.admin_user_ids = self.admin_user_ids;
        config.cleanup_interval = self.cleanup_interval;
        config.social = self.social;
    }
}

/// Who passkeys are registered with when `PASSKEY_RP_NAME` is unset.
pub const DEFAULT_RP_NAME: &str = "Warden";

/// The passkey settings as given; [`PasskeySettings::relying_party`] fills in the defaults from `BASE_URL` and
/// `TRUSTED_ORIGINS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeySettings {
    pub rp_id: Option<String>,
    pub rp_name: String,
    pub origins: Option<TrustedOrigins>,
}

impl Default for PasskeySettings {
    fn default() -> Self {
        Self {
            rp_id: None,
            rp_name: DEFAULT_RP_NAME.to_owned(),
            origins: None,
        }
    }
}

impl PasskeySettings {
    pub fn parse(
        rp_id: Option<String>,
        rp_name: String,
        origins: Option<String>,
    ) -> Result<Self, SettingsError> {
        let rp_id = rp_id
            .map(|id| id.trim().to_ascii_lowercase())
            .filter(|id| !id.is_empty());
        if let Some(id) = &rp_id
            && (id.contains(['/', ':', ' ']) || id.starts_with('.') || id.ends_with('.'))
        {
            return Err(SettingsError::new(
                "PASSKEY_RP_ID",
                format!("`{id}` is not a domain name (no scheme, port or path: `example.com`)"),
            ));
        }
        let rp_name = rp_name.trim().to_owned();
        if rp_name.is_empty() {
            return Err(SettingsError::new(
                "PASSKEY_RP_NAME",
                "must name the deployment (passkey prompts show it)",
            ));
        }
        let origins = origins
            .filter(|list| !list.trim().is_empty())
            .map(|list| {
                TrustedOrigins::parse(&list)
                    .map_err(|error| SettingsError::new("PASSKEY_ORIGINS", error.to_string()))
            })
            .transpose()?;
        Ok(Self {
            rp_id,
            rp_name,
            origins,
        })
    }

    /// The relying party of a deployment at `base_url` trusting `trusted_origins`.
    pub fn relying_party(
        &self,
        base_url: &PublicUrl,
        trusted_origins: &TrustedOrigins,
    ) -> crate::core::passkey::RelyingParty {
        let id = self.rp_id.clone().unwrap_or_else(|| {
            url::Url::parse(base_url.origin())
                .ok()
                .and_then(|url| url.host_str().map(str::to_owned))
                .unwrap_or_default()
        });
        let origins = self
            .origins
            .clone()
            .unwrap_or_else(|| TrustedOrigins::for_site(base_url, trusted_origins));
        crate::core::passkey::RelyingParty {
            id,
            name: self.rp_name.clone(),
            origins,
        }
    }
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
        warden_common::healthcheck::grpc_service(
            "auth-svc",
            self.listen,
            self.tls.tls_cert.as_deref(),
            self.tls_ca.as_deref(),
            tls_name,
        )
        .await
    }

    /// Every setting parsed, Better Auth's variable names read from the process environment.
    pub fn into_config(self) -> Result<Config, SettingsError> {
        self.resolve(&warden_common::settings::process_env)
    }

    /// Every setting parsed, Better Auth's variable names read through `env`.
    pub fn resolve(self, env: &impl Env) -> Result<Config, SettingsError> {
        let mut config = Config::new(self.database.url()?, self.secret.resolve(env)?);
        config.listen = self.listen;
        config.db_max_connections = self.database.max_connections();
        config.redis_url = self.redis.url()?;
        config.redis_key_prefix = self.redis.redis_key_prefix;
        config.base_url = self.public.base_url(env)?;
        config.trusted_origins = self.public.trusted_origins(env)?;
        self.account.resolve(env)?.apply_to(&mut config);
        config.trusted_proxies = Networks::parse("TRUSTED_PROXIES", &self.trusted_proxies)?;
        config.rate_limit_enabled = self.rate_limit_enabled;
        config.migrate = self.migrate;
        config.tls = self.tls.resolve()?;
        config.metrics_listen =
            warden_common::settings::optional_listen("METRICS_ADDR", &self.metrics_addr)?;
        config.drain_delay = self.drain.delay();
        config.plugins = self.plugins.resolve(env)?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> Result<Config, SettingsError> {
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
        Cli::try_parse_from(args).unwrap().resolve(&|_: &str| None)
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
        assert!(error.to_string().starts_with("AUTH_SECRETS: "), "{error}");
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
        assert!(config.smtp.is_none());
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
        assert!(config.smtp.is_some());
        assert!(!format!("{config:?}").contains("u:p@"));
    }

    #[test]
    fn plugins_default_to_all_and_an_unknown_one_is_refused() {
        use warden_common::settings::Plugin;
        assert_eq!(parse(&[]).unwrap().plugins, Plugins::all());
        let config = parse(&["--plugins", "admin,jwt"]).unwrap();
        assert!(config.plugins.is_enabled(Plugin::Jwt));
        assert!(!config.plugins.is_enabled(Plugin::TwoFactor));
        assert_eq!(
            parse(&["--plugins", "sso"]).unwrap_err().variable,
            "PLUGINS"
        );
    }

    #[test]
    fn urls_and_networks_are_parsed_once_and_credentials_stay_out_of_debug_output() {
        use clap::Parser;
        let secret = "x".repeat(32);
        let config = Cli::try_parse_from([
            "auth-svc",
            "--secret",
            &secret,
            "--database-url",
            "postgres://warden:hunter2@db:5432/warden",
            "--redis-url",
            "redis://:hunter3@redis:6379",
            "--base-url",
            "https://app.example.com/",
            "--trusted-proxies",
            "10.0.0.0/8",
        ])
        .unwrap()
        .resolve(&|_: &str| None)
        .unwrap();
        assert_eq!(config.base_url.as_str(), "https://app.example.com");
        assert!(
            config
                .trusted_proxies
                .contains(&"10.1.1.1".parse().unwrap())
        );
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("hunter3"),
            "{shown}"
        );
        for (flag, value, variable) in [
            ("--redis-url", "localhost:6379", "REDIS_URL"),
            ("--base-url", "example.com", "BASE_URL"),
            ("--trusted-origins", "nope", "TRUSTED_ORIGINS"),
            ("--trusted-proxies", "gateway", "TRUSTED_PROXIES"),
            ("--session-cache-ttl", "0", "SESSION_CACHE_TTL"),
        ] {
            assert_eq!(
                parse(&[flag, value]).unwrap_err().variable,
                variable,
                "{flag}"
            );
        }
    }

    #[test]
    fn the_relying_party_defaults_to_the_site_and_follows_the_settings() {
        let config = parse(&[
            "--base-url",
            "https://app.example.com/",
            "--trusted-origins",
            "https://admin.example.com",
        ])
        .unwrap();
        let rp = config
            .passkey
            .relying_party(&config.base_url, &config.trusted_origins);
        assert_eq!(rp.id, "app.example.com");
        assert_eq!(rp.name, "Warden");
        assert!(rp.origins.is_trusted("https://app.example.com", false));
        assert!(rp.origins.is_trusted("https://admin.example.com", false));
        assert!(!rp.origins.is_trusted("https://evil.example.com", false));

        let config = parse(&[
            "--base-url",
            "https://app.example.com",
            "--passkey-rp-id",
            "Example.COM",
            "--passkey-rp-name",
            "Acme",
            "--passkey-origins",
            "https://*.example.com",
        ])
        .unwrap();
        let rp = config
            .passkey
            .relying_party(&config.base_url, &config.trusted_origins);
        assert_eq!((rp.id.as_str(), rp.name.as_str()), ("example.com", "Acme"));
        assert!(rp.origins.is_trusted("https://shop.example.com", false));
        assert!(!rp.origins.is_trusted("https://example.org", false));

        for (flag, value, variable) in [
            ("--passkey-rp-id", "https://example.com", "PASSKEY_RP_ID"),
            ("--passkey-rp-id", "example.com:8080", "PASSKEY_RP_ID"),
            ("--passkey-rp-name", "  ", "PASSKEY_RP_NAME"),
            ("--passkey-origins", "not an origin", "PASSKEY_ORIGINS"),
        ] {
            assert_eq!(
                parse(&[flag, value]).unwrap_err().variable,
                variable,
                "{flag} {value}"
            );
        }
    }

    #[test]
    fn the_flags_parse() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
