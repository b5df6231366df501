//! A whole run: checks every target is on loopback, then sets up, warms up and measures each scenario in turn, and
//! in `all` reports each Warden scenario against the ceiling measured in the same run.

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context;
use http::{Method, StatusCode};

use crate::ceiling;
use crate::cli::{Args, Scenario};
use crate::grpc::{self, GrpcCaller};
use crate::hashing;
use crate::http_client::{Body, Template};
use crate::load::{self, Caller, Measurement, Plan};
use crate::report::{Failure, Report, Row, Settings};
use crate::rest;
use crate::rss::Sampler;
use crate::target::{self, HttpTarget, TargetError};

/// How many verifies are timed for the hashing limit.
const HASHING_SAMPLES: usize = 7;

/// The targets and settings of a run, checked.
pub struct Runner {
    http: HttpTarget,
    grpc_auth: String,
    grpc_task: String,
    redis: String,
    connections: usize,
    plan: Plan,
    warmup: Duration,
    pids: Vec<u32>,
    run_id: String,
    settings: Settings,
}

impl Runner {
    /// Refuses any address that is not on loopback, before anything is sent anywhere.
    pub fn new(args: &Args) -> Result<Self, TargetError> {
        let http = HttpTarget::parse(&args.url)?;
        let grpc_auth = target::grpc_endpoint(&args.grpc_auth)?;
        let grpc_task = target::grpc_endpoint(&args.grpc_task)?;
        let redis = target::redis_url(&args.redis)?;
        let plan = Plan {
            duration: args.duration,
            rate: args.rate,
            max_requests: args.max_requests,
            timeout: args.timeout,
        };
        Ok(Self {
            settings: Settings {
                connections: args.connections,
                duration_s: args.duration.as_secs_f64(),
                warmup_s: args.warmup.as_secs_f64(),
                rate: (args.rate > 0.0).then_some(args.rate),
                max_requests: args.max_requests,
                timeout_s: args.timeout.as_secs_f64(),
                url: http.origin.clone(),
                grpc_auth: grpc_auth.clone(),
                grpc_task: grpc_task.clone(),
            },
            http,
            grpc_auth,
            grpc_task,
            redis,
            connections: args.connections,
            plan,
            warmup: args.warmup,
            pids: args.pids.clone(),
            run_id: uuid::Uuid::now_v7().simple().to_string(),
        })
    }

    /// Runs `scenario` (every one for `all`); a scenario that fails is listed in the report and the others still run.
    pub async fn run(&self, scenario: Scenario) -> Report {
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let scenarios: Vec<Scenario> = if scenario == Scenario::All {
            Scenario::ALL.to_vec()
        } else {
            vec![scenario]
        };
        let mut rows: Vec<Row> = Vec::new();
        let mut failures = Vec::new();
        let mut ceilings: BTreeMap<&'static str, f64> = BTreeMap::new();
        for scenario in scenarios {
            eprintln!("[bench] {}: setting up", scenario.name());
            match self.scenario(scenario).await {
                Ok(measured) => {
                    for mut row in measured {
                        if let Some(ceiling) = scenario.ceiling() {
                            if let Some(&ceiling_rps) = ceilings.get(ceiling.name()) {
                                row.ceiling = Some(ceiling.name().to_owned());
                                row.ratio_to_ceiling = (ceiling_rps > 0.0)
                                    .then(|| row.requests_per_second / ceiling_rps);
                            }
                        } else {
                            ceilings.insert(scenario.name(), row.requests_per_second);
                        }
                        eprintln!(
                            "[bench] {}: {:.1} req/s, p99 {:.2} ms, {} errors",
                            row.scenario, row.requests_per_second, row.latency_ms.p99, row.errors
                        );
                        rows.push(row);
                    }
                }
                Err(error) => {
                    eprintln!("[bench] {}: FAILED: {error:#}", scenario.name());
                    failures.push(Failure {
                        scenario: scenario.name().to_owned(),
                        error: format!("{error:#}"),
                    });
                }
            }
        }
        Report {
            tool: "warden-bench",
            version: env!("CARGO_PKG_VERSION"),
            started_at,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            settings: self.settings.clone(),
            scenarios: rows,
            failures,
        }
    }

    async fn scenario(&self, scenario: Scenario) -> anyhow::Result<Vec<Row>> {
        let rest_target = |template: &Template| {
            format!("{} {}{}", template.method, self.http.origin, template.uri)
        };
        match scenario {
            Scenario::GetSession
            | Scenario::ListTasks
            | Scenario::CreateTask
            | Scenario::SignUp => {
                let template =
                    rest::template(scenario, &self.http, &self.run_id, scenario.name()).await?;
                let target = rest_target(&template);
                let callers = rest::callers(&self.http, template, self.connections);
                let (measured, rss) = self.measure(callers).await;
                Ok(vec![self.row(scenario.name(), target, &measured, rss)])
            }
            Scenario::SignIn => {
                let template =
                    rest::template(scenario, &self.http, &self.run_id, scenario.name()).await?;
                let target = rest_target(&template);
                let limit = hashing::measure(HASHING_SAMPLES).await?;
                let callers = rest::callers(&self.http, template, self.connections);
                let (measured, rss) = self.measure(callers).await;
                let mut row = self.row(scenario.name(), target, &measured, rss);
                row.ratio_to_hashing_limit = Some(row.requests_per_second / limit.per_second);
                row.hashing_limit = Some(limit);
                Ok(vec![row])
            }
            Scenario::GetSessionDuringSignIn => self.get_session_during_sign_in().await,
            Scenario::GrpcGetSession
            | Scenario::GrpcListTasks
            | Scenario::GrpcListTasksApiKey
            | Scenario::GrpcCreateTask => {
                let callers = grpc::callers(
                    scenario,
                    &self.grpc_auth,
                    &self.grpc_task,
                    self.connections,
                    &self.run_id,
                )
                .await?;
                let target = match scenario {
                    Scenario::GrpcGetSession => {
                        format!("AuthService/GetSession {}", self.grpc_auth)
                    }
                    Scenario::GrpcListTasks => format!("TaskService/ListTasks {}", self.grpc_task),
                    Scenario::GrpcListTasksApiKey => {
                        format!("TaskService/ListTasks (x-api-key) {}", self.grpc_task)
                    }
                    _ => format!("TaskService/CreateTask {}", self.grpc_task),
                };
                let (measured, rss) = self.measure(callers).await;
                Ok(vec![self.row(scenario.name(), target, &measured, rss)])
            }
            Scenario::CeilingAxumRedis => {
                let server = ceiling::CeilingServer::spawn(
                    ceiling::Kind::AxumRedis,
                    &self.redis,
                    &self.run_id,
                )
                .await?;
                let local = HttpTarget::parse(&format!("http://{}", server.addr))?;
                let template = Template::new(
                    Method::GET,
                    rest::GET_SESSION,
                    &local.authority,
                    &local.origin,
                    Body::Empty,
                    StatusCode::OK,
                )
                .with_cookie("better-auth.session_token=ceiling");
                let target = format!("GET {}{} (one Redis GET)", local.origin, rest::GET_SESSION);
                let callers = rest::callers(&local, template, self.connections);
                let (measured, _) = self.measure(callers).await;
                drop(server);
                Ok(vec![self.row(
                    scenario.name(),
                    target,
                    &measured,
                    BTreeMap::new(),
                )])
            }
            Scenario::CeilingTonicEcho => {
                let server = ceiling::CeilingServer::spawn(
                    ceiling::Kind::TonicEcho,
                    &self.redis,
                    &self.run_id,
                )
                .await?;
                let endpoint = format!("http://{}", server.addr);
                let callers = grpc::channels(&endpoint, self.connections)
                    .await?
                    .into_iter()
                    .map(|channel| GrpcCaller::Echo {
                        client: crate::echo::echo_client::EchoClient::new(channel),
                    })
                    .collect();
                let (measured, _) = self.measure::<GrpcCaller>(callers).await;
                drop(server);
                let target = format!("Echo/Echo {endpoint}");
                Ok(vec![self.row(
                    scenario.name(),
                    target,
                    &measured,
                    BTreeMap::new(),
                )])
            }
            Scenario::All => anyhow::bail!("`all` is a list of scenarios, not one"),
        }
    }

    /// get-session and sign-in at once, each on `connections` connections of its own, so sign-ins keep the
    /// password hashing busy while get-session latency is measured.
    async fn get_session_during_sign_in(&self) -> anyhow::Result<Vec<Row>> {
        let session = rest::template(
            Scenario::GetSession,
            &self.http,
            &self.run_id,
            "get-session-during-sign-in",
        )
        .await
        .context("get-session")?;
        let sign_in = rest::template(
            Scenario::SignIn,
            &self.http,
            &self.run_id,
            "sign-in-during-get-session",
        )
        .await
        .context("sign-in")?;
        let session_target = format!("GET {}{}", self.http.origin, session.uri);
        let sign_in_target = format!("POST {}{}", self.http.origin, sign_in.uri);
        let mut session_callers = rest::callers(&self.http, session, self.connections);
        let mut sign_in_callers = rest::callers(&self.http, sign_in, self.connections);
        if !self.warmup.is_zero() {
            let warmup = self.warmup_plan();
            (session_callers, sign_in_callers) = tokio::join!(
                async { load::run(session_callers, warmup).await.0 },
                async { load::run(sign_in_callers, warmup).await.0 },
            );
        }
        let sampler = Sampler::start(&self.pids);
        let ((_, session_measured), (_, sign_in_measured)) = tokio::join!(
            load::run(session_callers, self.plan),
            load::run(sign_in_callers, self.plan)
        );
        let rss = sampler.peak().await;
        Ok(vec![
            self.row(
                "get-session-during-sign-in",
                session_target,
                &session_measured,
                rss.clone(),
            ),
            self.row(
                "sign-in-during-get-session",
                sign_in_target,
                &sign_in_measured,
                rss,
            ),
        ])
    }

    /// Warms up (not recorded), then measures while sampling the target's memory.
    async fn measure<C: Caller>(&self, callers: Vec<C>) -> (Measurement, BTreeMap<u32, f64>) {
        let callers = if self.warmup.is_zero() {
            callers
        } else {
            eprintln!("[bench]   warming up for {:?}", self.warmup);
            load::run(callers, self.warmup_plan()).await.0
        };
        eprintln!(
            "[bench]   measuring for {:?} on {} connections",
            self.plan.duration, self.connections
        );
        let sampler = Sampler::start(&self.pids);
        let (_, measured) = load::run(callers, self.plan).await;
        (measured, sampler.peak().await)
    }

    fn warmup_plan(&self) -> Plan {
        Plan {
            duration: self.warmup,
            ..self.plan
        }
    }

    fn row(
        &self,
        scenario: &str,
        target: String,
        measured: &Measurement,
        rss: BTreeMap<u32, f64>,
    ) -> Row {
        let mut row = Row::new(scenario, target, self.connections, measured);
        row.peak_rss_mib = rss;
        row
    }
}
