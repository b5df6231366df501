//! Typed configuration: flags and environment variables (clap), resolved into a [`Config`].

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use tonic::transport::{Certificate, ServerTlsConfig};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:50052";
pub const DEFAULT_AUTH_URL: &str = "http://127.0.0.1:50051";
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9102";

/// Everything task-svc needs to run; built from [`Cli`] or directly (tests, the all-in-one).
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub db_max_connections: u32,
    /// auth-svc, for its JWKS and for resolving session tokens.
    pub auth_url: String,
    /// The gateway's public URL without a trailing `/`: every JWT's `iss` and `aud`, and a trusted origin.
    pub base_url: String,
    pub trusted_origins: Vec<String>,
    /// The least time between two JWKS fetches prompted by an unknown `kid`.
    pub jwks_refetch_interval: Duration,
    pub migrate: bool,
    /// TLS on the port (`TLS_CERT`, `TLS_KEY`); plain gRPC without it.
    pub tls: Option<ServerTlsConfig>,
    /// The authorities auth-svc's certificate is verified against when `AUTH_URL` is https (`TLS_CA`); the public
    /// web PKI without it.
    pub tls_ca: Option<Certificate>,
    /// The admin port serving `GET /metrics` (`METRICS_ADDR`); none by default here, 127.0.0.1:9102 from the
    /// command line.
    pub metrics_listen: Option<SocketAddr>,
    /// How long a drain keeps serving after health turns NOT_SERVING (`DRAIN_DELAY`); none by default here, 1 s
    /// from the command line.
    pub drain_delay: Duration,
}

impl Config {
    /// Defaults for everything but the database.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            database_url: database_url.into(),
            db_max_connections: 10,
            auth_url: DEFAULT_AUTH_URL.into(),
            base_url: DEFAULT_BASE_URL.into(),
            trusted_origins: Vec::new(),
            jwks_refetch_interval: Duration::from_secs(5),
            migrate: false,
            tls: None,
            tls_ca: None,
            metrics_listen: None,
            drain_delay: Duration::ZERO,
        }
    }
}

/// task-svc: Warden's TaskService (each user's tasks) over gRPC, gRPC-web and reflection.
#[derive(Debug, clap::Parser)]
#[command(version, about)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "TASK_ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: String,
    /// postgres://… or sqlite://…
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Database pool size.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
    /// auth-svc's gRPC address.
    #[arg(long, env = "AUTH_URL", default_value = DEFAULT_AUTH_URL)]
    pub auth_url: String,
    /// Public URL of the gateway, the JWT issuer and audience (BETTER_AUTH_URL is accepted too).
    #[arg(long, env = "BASE_URL")]
    pub base_url: Option<String>,
    /// Comma-separated extra origins allowed to call over gRPC-web (BETTER_AUTH_TRUSTED_ORIGINS is accepted too).
    #[arg(long, env = "TRUSTED_ORIGINS")]
    pub trusted_origins: Option<String>,
    /// Apply database migrations before serving.
    #[arg(long)]
    pub migrate: bool,
    /// PEM certificate chain: with TLS_KEY, the port serves TLS only.
    #[arg(long, env = "TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of TLS_CERT.
    #[arg(long, env = "TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// PEM certificate authorities for auth-svc when AUTH_URL is https:// (and for `healthcheck`)
    /// [default: the public web PKI].
    #[arg(long, env = "TLS_CA")]
    pub tls_ca: Option<PathBuf>,
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

/// Without a command, task-svc serves.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Exit 0 when the task-svc at TASK_ADDR (0.0.0.0 means this host) reports SERVING to grpc.health.v1, 1
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
        warden_common::healthcheck::grpc(self.listen_addr()?, tls)
            .await
            .context("task-svc is not healthy")
    }

    fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen
            .trim()
            .parse::<SocketAddr>()
            .ok()
            .with_context(|| {
                format!(
                    "TASK_ADDR `{}` is not an address such as {DEFAULT_LISTEN}",
                    self.listen
                )
            })
    }

    pub fn into_config(self) -> anyhow::Result<Config> {
        let listen = self.listen_addr()?;
        let database_url = self
            .database_url
            .filter(|url| !url.is_empty())
            .context("DATABASE_URL is required (postgres://… or sqlite://…)")?;
        if !(database_url.starts_with("postgres") || database_url.starts_with("sqlite:")) {
            bail!("DATABASE_URL must start with postgres:// or sqlite:");
        }
        let auth_url = self.auth_url.trim().trim_end_matches('/').to_owned();
        if !is_http_url(&auth_url) {
            bail!("AUTH_URL must be an http:// or https:// URL, such as {DEFAULT_AUTH_URL}");
        }
        let base_url = self
            .base_url
            .or_else(|| std::env::var("BETTER_AUTH_URL").ok())
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.into());
        let base_url = base_url.trim().trim_end_matches('/').to_owned();
        if !is_http_url(&base_url) {
            bail!("BASE_URL must be an http:// or https:// URL, such as {DEFAULT_BASE_URL}");
        }
        let trusted_origins = self
            .trusted_origins
            .or_else(|| std::env::var("BETTER_AUTH_TRUSTED_ORIGINS").ok())
            .map(|list| split_list(&list))
            .unwrap_or_default();
        Ok(Config {
            listen,
            database_url,
            db_max_connections: self.db_max_connections.max(1),
            auth_url,
            base_url,
            trusted_origins,
            jwks_refetch_interval: Duration::from_secs(5),
            migrate: self.migrate,
            tls: warden_common::tls::server_config(
                self.tls_cert.as_deref(),
                self.tls_key.as_deref(),
            )?,
            tls_ca: warden_common::tls::read_ca(self.tls_ca.as_deref())?,
            metrics_listen: warden_common::metrics::parse_listen(&self.metrics_addr)?,
            drain_delay: Duration::from_secs(self.drain_delay),
        })
    }
}

fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    rest.is_some_and(|host| !host.is_empty() && http::Uri::try_from(url).is_ok())
}

pub fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flags as clap fills them with nothing set, built by hand so the environment cannot interfere.
    fn cli() -> Cli {
        Cli {
            listen: DEFAULT_LISTEN.into(),
            database_url: Some("postgres://127.0.0.1/warden".into()),
            db_max_connections: 10,
            auth_url: DEFAULT_AUTH_URL.into(),
            base_url: Some(DEFAULT_BASE_URL.into()),
            trusted_origins: Some(String::new()),
            migrate: false,
            tls_cert: None,
            tls_key: None,
            tls_ca: None,
            metrics_addr: DEFAULT_METRICS_ADDR.into(),
            drain_delay: 1,
            runtime: Default::default(),
            command: None,
        }
    }

    fn message(cli: Cli) -> String {
        format!("{:#}", cli.into_config().unwrap_err())
    }

    #[test]
    fn defaults_fill_everything_but_the_database() {
        let config = Cli {
            base_url: Some("http://a.example/".into()),
            ..cli()
        }
        .into_config()
        .unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.auth_url, DEFAULT_AUTH_URL);
        assert_eq!(
            config.base_url, "http://a.example",
            "trailing slash dropped"
        );
        assert_eq!(config.jwks_refetch_interval, Duration::from_secs(5));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let missing = Cli {
            database_url: None,
            ..cli()
        };
        assert!(message(missing).starts_with("DATABASE_URL"));
        let mysql = Cli {
            database_url: Some("mysql://x".into()),
            ..cli()
        };
        assert!(message(mysql).starts_with("DATABASE_URL"));
        let listen = Cli {
            listen: "nowhere".into(),
            ..cli()
        };
        assert!(message(listen).starts_with("TASK_ADDR"));
        let auth_url = Cli {
            auth_url: "127.0.0.1:50051".into(),
            ..cli()
        };
        assert!(message(auth_url).starts_with("AUTH_URL"));
        let base_url = Cli {
            base_url: Some("example.com".into()),
            ..cli()
        };
        assert!(message(base_url).starts_with("BASE_URL"));
        let metrics_addr = Cli {
            metrics_addr: "nowhere".into(),
            ..cli()
        };
        assert!(message(metrics_addr).starts_with("METRICS_ADDR"));
    }

    #[test]
    fn metrics_are_served_on_loopback_unless_turned_off() {
        let config = cli().into_config().unwrap();
        assert_eq!(
            config.metrics_listen,
            Some(DEFAULT_METRICS_ADDR.parse().unwrap())
        );
        let off = Cli {
            metrics_addr: "off".into(),
            ..cli()
        };
        assert_eq!(off.into_config().unwrap().metrics_listen, None);
    }

    #[test]
    fn trusted_origins_are_a_comma_list() {
        let config = Cli {
            trusted_origins: Some("http://a.example, http://b.example,".into()),
            ..cli()
        }
        .into_config()
        .unwrap();
        assert_eq!(
            config.trusted_origins,
            ["http://a.example", "http://b.example"]
        );
    }

    #[test]
    fn the_flags_parse() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
