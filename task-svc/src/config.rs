//! Typed configuration: flags and environment variables (clap), resolved once into a [`Config`] of parsed values.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use tonic::transport::{Certificate, ServerTlsConfig};
use warden_common::settings::args::{DatabaseArgs, DrainArgs, PublicArgs, ServerTlsArgs};
use warden_common::settings::{
    DatabaseUrl, Env, PublicUrl, SettingsError, TrustedOrigins, UpstreamUrl,
};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:50052";
pub const DEFAULT_AUTH_URL: &str = "http://127.0.0.1:50051";
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9102";

/// Everything task-svc needs to run; built from [`Cli`] or directly (tests, the all-in-one).
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
    pub db_max_connections: u32,
    /// auth-svc, for its JWKS and for resolving session tokens.
    pub auth_url: UpstreamUrl,
    /// The gateway's public URL: every JWT's `iss` and `aud`, and a trusted origin.
    pub base_url: PublicUrl,
    /// `TRUSTED_ORIGINS`: allowed to call over gRPC-web besides `base_url`'s origin.
    pub trusted_origins: TrustedOrigins,
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
    pub fn new(database_url: DatabaseUrl) -> Self {
        Self {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            database_url,
            db_max_connections: 10,
            auth_url: UpstreamUrl::parse("AUTH_URL", DEFAULT_AUTH_URL).expect("valid default URL"),
            base_url: PublicUrl::default(),
            trusted_origins: TrustedOrigins::default(),
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
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// auth-svc's gRPC address.
    #[arg(long, env = "AUTH_URL", default_value = DEFAULT_AUTH_URL)]
    pub auth_url: String,
    #[command(flatten)]
    pub public: PublicArgs,
    /// Apply database migrations before serving.
    #[arg(long)]
    pub migrate: bool,
    #[command(flatten)]
    pub tls: ServerTlsArgs,
    /// PEM certificate authorities for auth-svc when AUTH_URL is https:// (and for `healthcheck`)
    /// [default: the public web PKI].
    #[arg(long, env = "TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Admin port serving Prometheus metrics at GET /metrics, or `off`.
    #[arg(long, env = "METRICS_ADDR", default_value = DEFAULT_METRICS_ADDR)]
    pub metrics_addr: String,
    #[command(flatten)]
    pub drain: DrainArgs,
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
        warden_common::healthcheck::grpc_service(
            "task-svc",
            self.listen_addr()?,
            self.tls.tls_cert.as_deref(),
            self.tls_ca.as_deref(),
            tls_name,
        )
        .await
    }

    fn listen_addr(&self) -> Result<SocketAddr, SettingsError> {
        warden_common::settings::listen("TASK_ADDR", &self.listen)
    }

    /// Every setting parsed, Better Auth's variable names read from the process environment.
    pub fn into_config(self) -> Result<Config, SettingsError> {
        self.resolve(&warden_common::settings::process_env)
    }

    /// Every setting parsed, Better Auth's variable names read through `env`.
    pub fn resolve(self, env: &impl Env) -> Result<Config, SettingsError> {
        let mut config = Config::new(self.database.url()?);
        config.listen = self.listen_addr()?;
        config.db_max_connections = self.database.max_connections();
        config.auth_url = UpstreamUrl::parse("AUTH_URL", &self.auth_url)?;
        config.base_url = self.public.base_url(env)?;
        config.trusted_origins = self.public.trusted_origins(env)?;
        config.migrate = self.migrate;
        config.tls = self.tls.resolve()?;
        config.tls_ca = warden_common::tls::read_ca(self.tls_ca.as_deref())?;
        config.metrics_listen =
            warden_common::settings::optional_listen("METRICS_ADDR", &self.metrics_addr)?;
        config.drain_delay = self.drain.delay();
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flags as clap fills them with nothing set, built by hand so the environment cannot interfere.
    fn cli() -> Cli {
        Cli {
            listen: DEFAULT_LISTEN.into(),
            database: DatabaseArgs {
                database_url: Some("postgres://127.0.0.1/warden".into()),
                db_max_connections: 10,
            },
            auth_url: DEFAULT_AUTH_URL.into(),
            public: PublicArgs {
                base_url: None,
                trusted_origins: Some(String::new()),
            },
            migrate: false,
            tls: ServerTlsArgs::default(),
            tls_ca: None,
            metrics_addr: DEFAULT_METRICS_ADDR.into(),
            drain: DrainArgs::default(),
            runtime: Default::default(),
            command: None,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn message(cli: Cli) -> String {
        cli.resolve(&no_env).unwrap_err().to_string()
    }

    #[test]
    fn defaults_fill_everything_but_the_database() {
        let config = Cli {
            public: PublicArgs {
                base_url: Some("http://a.example/".into()),
                trusted_origins: None,
            },
            ..cli()
        }
        .resolve(&no_env)
        .unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.auth_url.as_str(), DEFAULT_AUTH_URL);
        assert_eq!(
            config.base_url.as_str(),
            "http://a.example",
            "trailing slash dropped"
        );
        assert_eq!(config.jwks_refetch_interval, Duration::from_secs(5));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let missing = Cli {
            database: DatabaseArgs::default(),
            ..cli()
        };
        assert!(message(missing).starts_with("DATABASE_URL"));
        let mysql = Cli {
            database: DatabaseArgs {
                database_url: Some("mysql://x".into()),
                db_max_connections: 10,
            },
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
            public: PublicArgs {
                base_url: Some("example.com".into()),
                trusted_origins: None,
            },
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
        let config = cli().resolve(&no_env).unwrap();
        assert_eq!(
            config.metrics_listen,
            Some(DEFAULT_METRICS_ADDR.parse().unwrap())
        );
        let off = Cli {
            metrics_addr: "off".into(),
            ..cli()
        };
        assert_eq!(off.resolve(&no_env).unwrap().metrics_listen, None);
    }

    #[test]
    fn trusted_origins_are_a_comma_list() {
        let config = Cli {
            public: PublicArgs {
                base_url: None,
                trusted_origins: Some("http://a.example, http://b.example,".into()),
            },
            ..cli()
        }
        .resolve(&no_env)
        .unwrap();
        assert_eq!(
            config.trusted_origins.patterns(),
            ["http://a.example", "http://b.example"]
        );
    }

    #[test]
    fn the_flags_parse() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
