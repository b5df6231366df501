//! What every handler shares: the auth-svc and task-svc clients, the secret, cookie settings and trusted origins;
//! and what the layers around them need: trusted proxies, the rate limiter, size and time limits.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use warden_common::AuthSecret;
use warden_common::in_process::{InProcessPort, Transport};
use warden_common::metrics::Metrics;
use warden_common::settings::Plugins;
use warden_proto::auth::v1::admin_service_client::AdminServiceClient;
use warden_proto::auth::v1::api_key_service_client::ApiKeyServiceClient;
use warden_proto::auth::v1::auth_service_client::AuthServiceClient;
use warden_proto::auth::v1::dev_service_client::DevServiceClient;
use warden_proto::auth::v1::passkey_service_client::PasskeyServiceClient;
use warden_proto::auth::v1::social_service_client::SocialServiceClient;
use warden_proto::auth::v1::two_factor_service_client::TwoFactorServiceClient;
use warden_ratelimit::RateLimiter;

use crate::client_ip::TrustedProxies;
use crate::config::{Config, Limits};
use crate::cookies::CookieSettings;
use crate::origin::OriginPolicy;
use crate::readiness::Readiness;
use crate::transcode::Transcoder;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// The handlers' shared state, behind one `Arc`: every request clones it (axum's `State`), and cloning the gRPC
/// clients and settings one by one showed up in profiles of the gateway.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Clone)]
pub struct Shared {
    pub auth: AuthServiceClient<Transport>,
    /// auth-svc's AdminService, on the same channel.
    pub admin: AdminServiceClient<Transport>,
    /// auth-svc's DevService (the development outbox), on the same channel; absent when auth-svc sends over SMTP.
    pub dev: DevServiceClient<Transport>,
    /// auth-svc's SocialService (sign-in with other providers, linked accounts), on the same channel.
    pub social: SocialServiceClient<Transport>,
    /// auth-svc's TwoFactorService, on the same channel.
    pub two_factor: TwoFactorServiceClient<Transport>,
    /// auth-svc's PasskeyService, on the same channel.
    pub passkeys: PasskeyServiceClient<Transport>,
    /// auth-svc's ApiKeyService, on the same channel.
    pub api_keys: ApiKeyServiceClient<Transport>,
    /// The `/api/v1/*` routes, served from TaskService's annotations.
    pub transcoder: Arc<Transcoder>,
    /// grpc.health.v1 on auth-svc's and task-svc's channels, for `/readyz`.
    pub readiness: Readiness,
    pub secret: AuthSecret,
    pub cookies: Arc<CookieSettings>,
    /// `BASE_URL`, against which relative callback URLs resolve.
    pub base_url: Arc<str>,
    pub origins: Arc<OriginPolicy>,
    pub proxies: TrustedProxies,
    /// None when rate limiting is off.
    pub limiter: Option<RateLimiter>,
    pub limits: Arc<Limits>,
    /// Whether the public URL is https (turns on HSTS).
    pub https: bool,
    /// The Better Auth plugins served (`PLUGINS`).
    pub plugins: Plugins,
    /// The OpenAPI document, built once.
    pub openapi: crate::openapi::Document,
    /// The process's metrics: this gateway's requests, and whatever else runs in the process.
    pub metrics: Metrics,
}

/// `/readyz` needs only the health clients.
impl axum::extract::FromRef<AppState> for Readiness {
    fn from_ref(state: &AppState) -> Self {
        state.readiness.clone()
    }
}

impl AppState {
    /// Builds the state; the gRPC channels connect lazily, so the services may start later. Needs a Tokio runtime.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let auth = lazy_channel(config.auth_url.as_str(), "AUTH_URL", config)?;
        let tasks = lazy_channel(config.task_url.as_str(), "TASK_URL", config)?;
        Ok(Self(Arc::new(Shared::new(config, auth, tasks)?)))
    }

    /// As [`Self::new`], reaching auth-svc and task-svc through in-process ports instead of `AUTH_URL` and `TASK_URL`
    /// (the all-in-one).
    pub fn in_process(
        config: &Config,
        auth: &InProcessPort,
        tasks: &InProcessPort,
    ) -> anyhow::Result<Self> {
        Ok(Self(Arc::new(Shared::new(
            config,
            Transport::InProcess(auth.clone()),
            Transport::InProcess(tasks.clone()),
        )?)))
    }

    /// Serves the `/api/v1/*` bindings of `transcoder` in place of Warden's own (a service of another descriptor
    /// set, in tests), and describes them in the OpenAPI document.
    pub fn set_transcoder(&mut self, transcoder: Transcoder) {
        let shared = Arc::make_mut(&mut self.0);
        shared.transcoder = Arc::new(transcoder);
        shared.openapi = crate::openapi::Document::new(shared.plugins, &shared.transcoder);
    }

    /// Records into `metrics` instead (the all-in-one shares one registry between its servers).
    pub fn set_metrics(&mut self, metrics: Metrics) {
        Arc::make_mut(&mut self.0).metrics = metrics;
    }
}

impl Shared {
    fn new(config: &Config, auth: Transport, tasks: Transport) -> anyhow::Result<Self> {
        let transcoder = Arc::new(Transcoder::warden(tasks.clone())?);
        Ok(Self {
            auth: AuthServiceClient::new(auth.clone()),
            admin: AdminServiceClient::new(auth.clone()),
            readiness: Readiness::new(auth.clone(), tasks),
            social: SocialServiceClient::new(auth.clone()),
            two_factor: TwoFactorServiceClient::new(auth.clone()),
            passkeys: PasskeyServiceClient::new(auth.clone()),
            api_keys: ApiKeyServiceClient::new(auth.clone()),
            dev: DevServiceClient::new(auth),
            openapi: crate::openapi::Document::new(config.plugins, &transcoder),
            transcoder,
            secret: config.secret.clone(),
            cookies: Arc::new(CookieSettings::with_options(
                config.secure_cookies(),
                &config.cookies,
            )),
            base_url: config.base_url.as_str().into(),
            origins: Arc::new(OriginPolicy::new(&config.base_url, &config.trusted_origins)),
            proxies: TrustedProxies::new(&config.limits.trusted_proxies),
            limiter: crate::limits::limiter(&config.limits)?,
            limits: Arc::new(config.limits.clone()),
            https: config.secure_cookies(),
            plugins: config.plugins,
            metrics: Metrics::new(),
        })
    }
}

/// A channel to `url`, over TLS verified against `TLS_CA` when it is https.
fn lazy_channel(url: &str, variable: &str, config: &Config) -> anyhow::Result<Transport> {
    let endpoint = warden_common::tls::endpoint(url, config.tls_ca.as_ref())
        .with_context(|| format!("{variable}: not a valid URI"))?
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CALL_TIMEOUT);
    Ok(Transport::Network(endpoint.connect_lazy()))
}
