//! Builds the server (storage, cache, hasher, gRPC services) and runs it until shutdown.
//!
//! One port serves gRPC, gRPC-web (tonic-web behind CORS for the trusted origins), server reflection (v1 and
//! v1alpha) and `grpc.health.v1`.

use std::{future::Future, net::SocketAddr};

use anyhow::Context;
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;
use warden_common::grpc;
use warden_common::metrics::{AdminPort, Metrics};
use warden_common::settings::{Plugin, TrustedOrigins};

use warden_ratelimit::{Backoff, RateLimiter, Rules};

use crate::{
    cache::SessionCache,
    config::Config,
    core::{
        account::{Account, Emails},
        admin::Admin,
        api_key::ApiKeys,
        auth::AuthCore,
        cleanup::Cleanup,
        jwt::Keys,
        passkey::Passkeys,
        sessions::{Sessions, throttle::SignInThrottle},
        social::SocialCore,
        two_factor::TwoFactor,
    },
    grpc::{
        Caller,
        admin::{AdminServiceServer, GrpcAdmin},
        api_key::{ApiKeyServiceServer, GrpcApiKeys},
        auth::{AuthServiceServer, GrpcAuth},
        dev::{DevServiceServer, GrpcDev},
        limits::Limits,
        passkey::{GrpcPasskeys, PasskeyServiceServer},
        social::{GrpcSocial, SocialServiceServer},
        two_factor::{GrpcTwoFactor, TwoFactorServiceServer},
    },
    mail::Mailer,
    metrics::AuthProbe,
    passwords::Hasher,
    store::Store,
};

/// The per-peer rate limit and the per-account sign-in back-off `config` asks for, sharing one store.
fn abuse_limits(config: &Config) -> anyhow::Result<(Limits, SignInThrottle)> {
    if !config.rate_limit_enabled {
        return Ok((
            Limits::new(None, &config.trusted_proxies),
            SignInThrottle::disabled(),
        ));
    }
    let store = match &config.redis_url {
        Some(url) => warden_ratelimit::Store::redis(url.expose(), &config.redis_key_prefix)?,
        None => warden_ratelimit::Store::memory(),
    };
    let limiter = RateLimiter::new(store.clone(), Rules::better_auth());
    Ok((
        Limits::new(Some(limiter), &config.trusted_proxies),
        SignInThrottle::new(store, Backoff::with_base(config.throttle_base)),
    ))
}

pub struct AuthServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    auth: GrpcAuth,
    /// Better Auth's admin plugin; absent when `PLUGINS` leaves it out, so its RPCs answer `UNIMPLEMENTED`.
    admin: Option<GrpcAdmin>,
    /// The development outbox, served only while no SMTP server is configured.
    dev: Option<GrpcDev>,
    social: GrpcSocial,
    two_factor: Option<GrpcTwoFactor>,
    passkeys: Option<GrpcPasskeys>,
    api_keys: Option<GrpcApiKeys>,
    /// The api-key plugin's write-back and sweep, and how often.
    key_jobs: Option<(ApiKeys, std::time::Duration)>,
    limits: Limits,
    cors: CorsLayer,
    tls: Option<tonic::transport::ServerTlsConfig>,
    cleanup: Cleanup,
    metrics: Metrics,
    metrics_port: Option<AdminPort>,
    probe: AuthProbe,
    database: sea_orm::DatabaseConnection,
    drain_delay: std::time::Duration,
    wiring: grpc::Wiring,
}

impl AuthServer {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        if config.migrate {
            migrations::migrate(config.database_url.expose())
                .await
                .context("migrating the database")?;
        }
        let store = Store::connect(config.database_url.expose(), config.db_max_connections)
            .await
            .context("connecting to DATABASE_URL")?;
        let legacy = store
            .has_legacy_hashes()
            .await
            .context("reading the account table (are migrations applied?)")?;
        let cache = match &config.redis_url {
            Some(url) => SessionCache::redis(
                url.expose(),
                &config.redis_key_prefix,
                config.session_cache_ttl,
            )
            .context("REDIS_URL is not a valid Redis URL")?,
            None => SessionCache::memory(config.session_cache_ttl),
        };
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let hasher = Hasher::new(cores, legacy)?;
        let probe = AuthProbe::new(cache.clone(), hasher.clone(), store.connection().clone());
        let database = store.connection().clone();
        let keys = Keys::new(
            store.clone(),
            config.secret.clone(),
            &config.base_url,
            config.key_refresh,
        )
        .with_two_factor(config.plugins.is_enabled(Plugin::TwoFactor));
        let sessions = Sessions::new(store.clone(), cache)
            .with_lifetimes(config.sessions)
            .with_verified_email_required(config.require_email_verification);
        let key_core = config.plugins.is_enabled(Plugin::ApiKey).then(|| {
            ApiKeys::new(
                store.clone(),
                sessions.clone(),
                config.api_key.clone(),
                config.admin_user_ids.clone(),
            )
        });
        let admin = Admin::new(
            store.clone(),
            sessions.clone(),
            hasher.clone(),
            config.admin_user_ids.clone(),
        )
        .with_api_keys(key_core.clone());
        let caller = Caller::new(config.secret.clone(), &config.trusted_proxies);
        let admin = config
            .plugins
            .is_enabled(Plugin::Admin)
            .then(|| GrpcAdmin::new(admin, caller.clone()));
        let mailer = Mailer::from_settings(config.smtp.clone());
        let dev = mailer
            .outbox()
            .map(|outbox| GrpcDev::new(outbox.clone(), config.trusted_proxies.to_vec()));
        let emails = Emails::new(
            mailer,
            config.secret.clone(),
            &config.base_url,
            config.require_email_verification,
        );
        let account = Account::new(
            store.clone(),
            sessions.clone(),
            hasher.clone(),
            emails.clone(),
        );
        let social = GrpcSocial::new(
            SocialCore::new(
                store.clone(),
                sessions.clone(),
                config.social.clone(),
                config.secret.clone(),
                config.base_url.clone(),
                &config.trusted_origins,
            ),
            caller.clone(),
        );
        let cleanup = Cleanup::new(store.clone(), config.cleanup_interval);
        let core = AuthCore::new(
            store.clone(),
            sessions.clone(),
            hasher,
            keys,
            emails.clone(),
        );
        let (limits, throttle) = abuse_limits(&config).context("REDIS_URL")?;
        let account = account
            .with_throttle(throttle.clone())
            .with_delete_user_verification(config.delete_user_verification);
        let mut core = core.with_throttle(throttle);
        let two_factor = config.plugins.is_enabled(Plugin::TwoFactor).then(|| {
            let two_factor = TwoFactor::new(
                store.clone(),
                sessions.clone(),
                account.clone(),
                emails,
                config.secret.clone(),
            )
            .with_issuer(config.two_factor_issuer.clone());
            core = core.clone().with_two_factor(two_factor.clone());
            GrpcTwoFactor::new(two_factor, caller.clone())
        });
        let passkeys = config.plugins.is_enabled(Plugin::Passkey).then(|| {
            let rp = config
                .passkey
                .relying_party(&config.base_url, &config.trusted_origins);
            if rp.id.parse::<std::net::IpAddr>().is_ok() || rp.id.starts_with('[') {
                tracing::warn!(
                    rp_id = %rp.id,
                    "passkeys need a domain name: browsers refuse an IP address as relying party; set BASE_URL \
                     (http://localhost:8080 for development) or PASSKEY_RP_ID"
                );
            }
            GrpcPasskeys::new(
                Passkeys::new(store.clone(), sessions.clone(), rp),
                caller.clone(),
            )
        });
        let key_jobs = key_core
            .clone()
            .map(|keys| (keys, config.api_key.write_back));
        let auth_keys = key_core.clone();
        let api_keys = key_core.map(|keys| GrpcApiKeys::new(keys, caller.clone()));
        let auth = GrpcAuth::new(core, account, caller)
            .with_jwt_routes(config.plugins.is_enabled(Plugin::Jwt))
            .with_api_keys(auth_keys);
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding AUTH_ADDR {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        let metrics_port = match config.metrics_listen {
            Some(addr) => Some(AdminPort::bind(addr).await?),
            None => None,
        };
        Ok(Self {
            listener,
            local_addr,
            auth,
            admin,
            dev,
            social,
            two_factor,
            passkeys,
            api_keys,
            key_jobs,
            limits,
            cors: grpc::grpc_web_cors(TrustedOrigins::for_site(
                &config.base_url,
                &config.trusted_origins,
            )),
            tls: config.tls,
            cleanup,
            metrics: Metrics::new(),
            metrics_port,
            probe,
            database,
            drain_delay: config.drain_delay,
            wiring: grpc::Wiring::default(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The admin port serving `/metrics`, when `METRICS_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_port.as_ref().map(AdminPort::local_addr)
    }

    /// Records into `metrics`, shared with the other servers in the process (the all-in-one), instead of a
    /// registry of its own.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Wires the server into a process that runs more than it (the all-in-one).
    pub fn wired(mut self, wiring: grpc::Wiring) -> Self {
        self.wiring = wiring;
        self
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let mut services = grpc::Services::new(self.limits.wrap(AuthServiceServer::new(self.auth)));
        if let Some(admin) = self.admin {
            services = services.with(self.limits.wrap(AdminServiceServer::new(admin)));
        }
        services = services.with(self.limits.wrap(SocialServiceServer::new(self.social)));
        if let Some(two_factor) = self.two_factor {
            services = services.with(self.limits.wrap(TwoFactorServiceServer::new(two_factor)));
        }
        if let Some(passkeys) = self.passkeys {
            services = services.with(self.limits.wrap(PasskeyServiceServer::new(passkeys)));
        }
        if let Some(api_keys) = self.api_keys {
            services = services.with(self.limits.wrap(ApiKeyServiceServer::new(api_keys)));
        }
        if let Some(dev) = self.dev {
            services = services.with(self.limits.wrap(DevServiceServer::new(dev)));
        }
        let cleanup = self.cleanup.spawn();
        let key_jobs = self
            .key_jobs
            .map(|(keys, every)| keys.spawn_background(every));
        let probe = self.probe;
        let _probe = self.metrics.attach(move |samples| probe.sample(samples));
        let _metrics_port = self
            .metrics_port
            .map(|port| port.spawn(self.metrics.clone()));
        let database = self.database;
        let services = services
            .with_tls(self.tls)
            .observed_by(&self.metrics)
            .ready_when(move || {
                let database = database.clone();
                async move { database.ping().await.is_ok() }
            })
            .wired(self.drain_delay, self.wiring);
        let served = grpc::serve(
            services,
            warden_proto::FILE_DESCRIPTOR_SET,
            self.listener,
            self.cors,
            shutdown,
        )
        .await;
        cleanup.stop().await;
        if let Some(jobs) = key_jobs {
            jobs.stop().await;
        }
        served
    }
}
