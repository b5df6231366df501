//! Builds the server (storage, the auth-svc client, authentication, the gRPC service) and runs it until shutdown.
//!
//! One port serves gRPC, gRPC-web (tonic-web behind CORS for the trusted origins), server reflection (v1 and
//! v1alpha) and `grpc.health.v1`. Only the TaskService sits behind authentication; health and reflection are open.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::cors::CorsLayer;
use warden_common::grpc;
use warden_common::metrics::{AdminPort, Metrics};
use warden_common::settings::TrustedOrigins;

use crate::{
    auth::{AuthLayer, AuthMetrics, Authenticator},
    config::Config,
    grpc::{GrpcTasks, TaskServiceServer},
    metrics::TaskProbe,
    service::TaskCore,
    store::Store,
};

pub struct TaskServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    tasks: GrpcTasks,
    authenticator: Authenticator,
    cors: CorsLayer,
    tls: Option<tonic::transport::ServerTlsConfig>,
    metrics: Metrics,
    metrics_port: Option<AdminPort>,
    probe: TaskProbe,
    database: sea_orm::DatabaseConnection,
    drain_delay: std::time::Duration,
    wiring: grpc::Wiring,
}

impl TaskServer {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        if config.migrate {
            migrations::migrate(config.database_url.expose())
                .await
                .context("migrating the database")?;
        }
        let store = Store::connect(config.database_url.expose(), config.db_max_connections)
            .await
            .context("connecting to DATABASE_URL")?;
        // Lazy: auth-svc may start after task-svc.
        let channel =
            warden_common::tls::endpoint(config.auth_url.as_str(), config.tls_ca.as_ref())
                .context("AUTH_URL is not a valid URL")?
                .connect_timeout(Duration::from_secs(3))
                .timeout(Duration::from_secs(10))
                .connect_lazy();
        let authenticator = Authenticator::new(
            channel,
            config.base_url.as_str(),
            config.jwks_refetch_interval,
        );
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding TASK_ADDR {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        let metrics_port = match config.metrics_listen {
            Some(addr) => Some(AdminPort::bind(addr).await?),
            None => None,
        };
        let probe = TaskProbe::new(authenticator.metrics(), store.connection().clone());
        let database = store.connection().clone();
        Ok(Self {
            listener,
            local_addr,
            tasks: GrpcTasks::new(TaskCore::new(store)),
            authenticator,
            cors: grpc::grpc_web_cors(TrustedOrigins::for_site(
                &config.base_url,
                &config.trusted_origins,
            )),
            tls: config.tls,
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

    /// What authentication has cost auth-svc so far (JWKS fetches, session lookups).
    pub fn auth_metrics(&self) -> Arc<AuthMetrics> {
        self.authenticator.metrics()
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
        let tasks = AuthLayer::new(self.authenticator).layer(TaskServiceServer::new(self.tasks));
        let probe = self.probe;
        let _probe = self.metrics.attach(move |samples| probe.sample(samples));
        let database = self.database;
        let _metrics_port = self
            .metrics_port
            .map(|port| port.spawn(self.metrics.clone()));
        grpc::serve(
            grpc::Services::new(tasks)
                .with_tls(self.tls)
                .observed_by(&self.metrics)
                .ready_when(move || {
                    let database = database.clone();
                    async move { database.ping().await.is_ok() }
                })
                .wired(self.drain_delay, self.wiring),
            warden_proto::FILE_DESCRIPTOR_SET,
            self.listener,
            self.cors,
            shutdown,
        )
        .await
    }
}
