//! The all-in-one Warden: auth-svc, task-svc and the gateway in one process, on SQLite in a data directory with the
//! in-process session cache. The same code paths as the separate binaries; only the wiring differs.
//!
//! The services still talk gRPC to each other over loopback, so what runs here is what runs split apart. They share
//! one metrics registry, served at the gateway's `/metrics`; the services open no admin ports of their own.
//!
//! [`config::Cli`] reads the same settings as the split binaries, through the same groups, into [`Settings`];
//! [`Warden::build`] hands them to each server's `Config`.

pub mod config;

use std::{
    future::Future,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use secrecy::SecretString;
use tonic::transport::{Certificate, ServerTlsConfig};
use warden_common::settings::{
    DatabaseUrl, Networks, Plugins, PublicUrl, SettingsError, TrustedOrigins, UpstreamUrl,
};
use warden_common::{AuthSecret, grpc, in_process::InProcessListener};

/// Where and how the all-in-one runs: every value parsed (see [`config::Cli`]).
#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub gateway_addr: SocketAddr,
    pub auth_addr: SocketAddr,
    pub task_addr: SocketAddr,
    /// `DATABASE_URL`: a database of its own instead of SQLite in the data directory.
    pub database_url: Option<DatabaseUrl>,
    /// `DATABASE_MAX_CONNECTIONS`: each service's pool size.
    pub db_max_connections: u32,
    /// Overrides the generated secret kept in the data directory.
    pub secret: Option<SecretString>,
    /// Secret rotation (`AUTH_SECRETS`), newest first: the first signs and encrypts, every one (and the secret
    /// above, or the one kept in the data directory) verifies and decrypts.
    pub secrets: Option<SecretString>,
    /// Cookie names and domain (`COOKIE_PREFIX`, `COOKIE_DOMAIN`) and the session cookie's lifetime.
    pub cookies: gateway::config::CookieOptions,
    /// Accounts and sessions: lifetimes, session cache, key refresh, mail, administrators, cleanup.
    pub account: auth_svc::config::Account,
    /// Defaults to `http://<gateway_addr>`.
    pub base_url: Option<PublicUrl>,
    pub trusted_origins: TrustedOrigins,
    /// Better Auth's rate limits and the failed sign-in back-off, counted in process.
    pub rate_limit_enabled: bool,
    /// Proxies in front of the gateway whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: Networks,
    /// Clients that may read the gateway's `GET /metrics` (`METRICS_ALLOW`).
    pub metrics_allow: Networks,
    /// The gateway's largest request body and longest request (`BODY_LIMIT`, `REQUEST_TIMEOUT`).
    pub body_limit: usize,
    pub request_timeout: Duration,
    /// TLS on the gRPC ports (`TLS_CERT`, `TLS_KEY`).
    pub tls: Option<ServerTlsConfig>,
    /// What task-svc verifies auth-svc's certificate against when TLS is on (`TLS_CA`, else `TLS_CERT`).
    pub tls_ca: Option<Certificate>,
    /// How long a drain keeps serving after readiness turns (`DRAIN_DELAY`).
    pub drain_delay: Duration,
    /// The Better Auth plugins served (`PLUGINS`).
    pub plugins: Plugins,
}

impl Settings {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let limits = gateway::config::Limits::default();
        Self {
            data_dir: data_dir.into(),
            gateway_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            auth_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            task_addr: SocketAddr::from(([127, 0, 0, 1], 50052)),
            database_url: None,
            db_max_connections: 10,
            secret: None,
            secrets: None,
            cookies: gateway::config::CookieOptions::default(),
            account: auth_svc::config::Account::default(),
            base_url: None,
            trusted_origins: TrustedOrigins::default(),
            rate_limit_enabled: true,
            trusted_proxies: limits.trusted_proxies,
            metrics_allow: limits.metrics_allow,
            body_limit: limits.body_limit,
            request_timeout: limits.request_timeout,
            tls: None,
            tls_ca: None,
            drain_delay: warden_common::shutdown::DEFAULT_DRAIN_DELAY,
            plugins: Plugins::all(),
        }
    }
}

pub struct Warden {
    auth: auth_svc::AuthServer,
    task: task_svc::TaskServer,
    gateway: gateway::GatewayServer,
    base_url: PublicUrl,
    /// Where auth-svc and task-svc answer the gateway's calls in process.
    auth_port: InProcessListener,
    task_port: InProcessListener,
}

impl Warden {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "creating the data directory {}",
                settings.data_dir.display()
            )
        })?;
        let secret = match (settings.secret, settings.secrets) {
            (None, None) => persisted_secret(&settings.data_dir)?,
            (secret, secrets) => {
                // A rotation list on a data directory that ran with a generated secret keeps that one verifying.
                let secret = match (secret, &secrets) {
                    (None, Some(_)) => kept_secret(&settings.data_dir)?,
                    (secret, _) => secret,
                };
                AuthSecret::from_settings(secrets.as_ref(), secret).map_err(SettingsError::from)?
            }
        };
        let database_url = match settings.database_url {
            Some(url) => url,
            None => DatabaseUrl::parse(&format!(
                "sqlite://{}?mode=rwc",
                settings.data_dir.join("warden.db").display()
            ))?,
        };

        // The gateway's address decides BASE_URL, which the services need for JWT issuer and audience.
        let gateway_listener = tokio::net::TcpListener::bind(settings.gateway_addr)
            .await
            .with_context(|| format!("binding GATEWAY_ADDR {}", settings.gateway_addr))?;
        let gateway_addr = gateway_listener.local_addr()?;
        let base_url = match settings.base_url {
            Some(url) => url,
            None => PublicUrl::parse(&format!("http://{gateway_addr}"))?,
        };
        let mut trusted_origins = settings.trusted_origins;
        if gateway_addr.ip().is_loopback() {
            trusted_origins.push(&format!("http://localhost:{}", gateway_addr.port()))?;
            trusted_origins.push(&format!("http://127.0.0.1:{}", gateway_addr.port()))?;
        }

        let mut auth_config = auth_svc::Config::new(database_url.clone(), secret.clone());
        auth_config.listen = settings.auth_addr;
        auth_config.db_max_connections = settings.db_max_connections;
        auth_config.base_url = base_url.clone();
        auth_config.trusted_origins = trusted_origins.clone();
        auth_config.migrate = true;
        settings.account.apply_to(&mut auth_config);
        auth_config.rate_limit_enabled = settings.rate_limit_enabled;
        auth_config.tls = settings.tls.clone();
        auth_config.drain_delay = settings.drain_delay;
        auth_config.plugins = settings.plugins;
        // One registry for the process: the gateway's /metrics shows all three servers.
        let metrics = warden_common::metrics::Metrics::new();
        // The gateway calls the services in process (gRPC without a connection); their TCP ports stay open for
        // other clients.
        let (auth_client, auth_port) = warden_common::in_process::port();
        let (task_client, task_port) = warden_common::in_process::port();
        let auth = auth_svc::AuthServer::build(auth_config)
            .await?
            .with_metrics(metrics.clone());

        let mut task_config = task_svc::Config::new(database_url);
        task_config.listen = settings.task_addr;
        task_config.db_max_connections = settings.db_max_connections;
        // task-svc fetches auth-svc's keys over its TCP port: with TLS on, by the name the certificate holds.
        task_config.auth_url = match settings.tls {
            Some(_) => UpstreamUrl::parse(
                "AUTH_URL",
                &format!("https://localhost:{}", auth.local_addr().port()),
            )?,
            None => UpstreamUrl::http(auth.local_addr()),
        };
        task_config.tls = settings.tls;
        task_config.tls_ca = settings.tls_ca;
        task_config.base_url = base_url.clone();
        task_config.trusted_origins = trusted_origins.clone();
        task_config.drain_delay = settings.drain_delay;
        let task = task_svc::TaskServer::build(task_config)
            .await?
            .with_metrics(metrics.clone());

        let gateway = gateway::GatewayServer::build_in_process(
            gateway::Config {
                listen: gateway_addr,
                auth_url: UpstreamUrl::http(auth.local_addr()),
                task_url: UpstreamUrl::http(task.local_addr()),
                secret,
                base_url: base_url.clone(),
                trusted_origins,
                limits: gateway::config::Limits {
                    rate_limit_enabled: settings.rate_limit_enabled,
                    trusted_proxies: settings.trusted_proxies,
                    metrics_allow: settings.metrics_allow,
                    body_limit: settings.body_limit,
                    request_timeout: settings.request_timeout,
                    drain_delay: settings.drain_delay,
                    ..Default::default()
                },
                tls_ca: None,
                cookies: settings.cookies,
                plugins: settings.plugins,
            },
            gateway_listener,
            &auth_client,
            &task_client,
        )?
        .with_metrics(metrics);
        Ok(Self {
            auth,
            task,
            gateway,
            base_url,
            auth_port,
            task_port,
        })
    }

    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway.local_addr()
    }

    pub fn auth_addr(&self) -> SocketAddr {
        self.auth.local_addr()
    }

    pub fn task_addr(&self) -> SocketAddr {
        self.task.local_addr()
    }

    pub fn base_url(&self) -> &str {
        self.base_url.as_str()
    }

    /// Runs every server until `shutdown` resolves, then drains them all: each reports it is stopping at once
    /// (health NOT_SERVING, `/readyz` 503) and keeps serving for the drain delay; then the gateway finishes its
    /// requests, and only after that do the services close, since requests the gateway accepted still call them.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (signal, signalled) = tokio::sync::watch::channel(false);
        let (drained, gateway_drained) = tokio::sync::watch::channel(false);
        let on = |receiver: &tokio::sync::watch::Receiver<bool>| {
            let mut receiver = receiver.clone();
            async move {
                let _ = receiver.wait_for(|set| *set).await;
            }
        };
        let wiring = |port| grpc::Wiring {
            in_process: Some(port),
            drain_after: Some(Box::pin(on(&gateway_drained))),
        };
        let auth = tokio::spawn(
            self.auth
                .wired(wiring(self.auth_port))
                .run_until_stopped(on(&signalled)),
        );
        let task = tokio::spawn(
            self.task
                .wired(wiring(self.task_port))
                .run_until_stopped(on(&signalled)),
        );
        let gateway = tokio::spawn(self.gateway.run_until_stopped(on(&signalled)));
        shutdown.await;
        let _ = signal.send(true);
        let gateway = gateway.await;
        let _ = drained.send(true);
        let (auth, task) = tokio::join!(auth, task);
        task.context("task-svc task")??;
        auth.context("auth-svc task")??;
        gateway.context("gateway task")??;
        Ok(())
    }
}

/// The secret kept in `<data_dir>/secret`, generated on first start.
fn persisted_secret(data_dir: &Path) -> anyhow::Result<AuthSecret> {
    let path = data_dir.join("secret");
    let secret = match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().to_owned(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let generated = auth_svc::domain::generate_id() + &auth_svc::domain::generate_id();
            write_private(&path, &generated)?;
            tracing::warn!(
                path = %path.display(),
                "AUTH_SECRET is not set: generated one and kept it in the data directory; set AUTH_SECRET in production"
            );
            generated
        }
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    };
    AuthSecret::parse(secret.into())
        .with_context(|| format!("the secret in {} is too short", path.display()))
}

/// The secret kept in `<data_dir>/secret`, if one was generated there before.
fn kept_secret(data_dir: &Path) -> anyhow::Result<Option<SecretString>> {
    let path = data_dir.join("secret");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned().into())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}
