//! What a run found: one row per scenario, printed as a table and written as JSON.

use std::{collections::BTreeMap, fmt::Write as _, path::Path};

use anyhow::Context;
use serde::Serialize;

use crate::hashing::HashingLimit;
use crate::load::Measurement;

#[derive(Debug, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    /// Seconds since the Unix epoch when the run started.
    pub started_at: u64,
    pub cores: usize,
    pub settings: Settings,
    pub scenarios: Vec<Row>,
    /// Scenarios that could not be set up or run, with why.
    pub failures: Vec<Failure>,
}

/// A scenario that could not be set up or run.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub scenario: String,
    pub error: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    pub connections: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    /// Requests per second; `None` for closed loop.
    pub rate: Option<f64>,
    pub max_requests: u64,
    pub timeout_s: f64,
    pub url: String,
    pub grpc_auth: String,
    pub grpc_task: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

/// One measured scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub scenario: String,
    /// What was loaded: a URL or a gRPC method with its address.
    pub target: String,
    pub connections: usize,
    pub duration_s: f64,
    /// Successful requests.
    pub requests: u64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    pub requests_per_second: f64,
    /// Of the successful requests, in milliseconds.
    pub latency_ms: Latency,
    /// The ceiling scenario this one is compared with, when it ran in the same run.
    pub ceiling: Option<String>,
    /// This scenario's requests/s divided by the ceiling's.
    pub ratio_to_ceiling: Option<f64>,
    /// For sign-in: the machine's argon2id verify limit, measured in the same run.
    pub hashing_limit: Option<HashingLimit>,
    pub ratio_to_hashing_limit: Option<f64>,
    /// Peak resident memory of each `--pid` while this scenario was measured, in MiB.
    pub peak_rss_mib: BTreeMap<u32, f64>,
}

impl Row {
    pub fn new(
        scenario: impl Into<String>,
        target: impl Into<String>,
        connections: usize,
        measured: &Measurement,
    ) -> Self {
        let histogram = &measured.latencies;
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            scenario: scenario.into(),
            target: target.into(),
            connections,
            duration_s: measured.elapsed.as_secs_f64(),
            requests: measured.successes(),
            errors: measured.error_count(),
            error_kinds: measured.errors.clone(),
            requests_per_second: measured.throughput(),
            latency_ms: Latency {
                p50: measured.quantile_ms(0.50),
                p90: measured.quantile_ms(0.90),
                p99: measured.quantile_ms(0.99),
                p999: measured.quantile_ms(0.999),
                max: ms(histogram.max()),
                mean: histogram.mean() / 1000.0,
            },
            ceiling: None,
            ratio_to_ceiling: None,
            hashing_limit: None,
            ratio_to_hashing_limit: None,
            peak_rss_mib: BTreeMap::new(),
        }
    }
}

impl Report {
    /// The rows as an aligned text table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<28} {:>10} {:>9} {:>9} {:>9} {:>8}  {:<30} peak RSS MiB",
            "scenario", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "vs ceiling"
        );
        for row in &self.scenarios {
            let versus = match (&row.ratio_to_ceiling, &row.ceiling) {
                (Some(ratio), Some(ceiling)) => format!("{:.0}% of {ceiling}", ratio * 100.0),
                _ => String::new(),
            };
            let rss = row
                .peak_rss_mib
                .iter()
                .map(|(pid, mib)| format!("{pid}:{mib:.0}"))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(
                out,
                "{:<28} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>8}  {:<30} {}",
                row.scenario,
                row.requests_per_second,
                row.latency_ms.p50,
                row.latency_ms.p99,
                row.latency_ms.p999,
                row.errors,
                versus,
                rss
            );
        }
        for row in &self.scenarios {
            if let (Some(limit), Some(ratio)) = (&row.hashing_limit, row.ratio_to_hashing_limit) {
                let _ = writeln!(
                    out,
                    "{}: one argon2id verify takes {:.1} ms, so {} cores allow {:.1} sign-ins/s; measured {:.1}/s = {:.0}% of it",
                    row.scenario,
                    limit.verify_ms,
                    limit.cores,
                    limit.per_second,
                    row.requests_per_second,
                    ratio * 100.0
                );
            }
            if !row.error_kinds.is_empty() {
                let kinds = row
                    .error_kinds
                    .iter()
                    .map(|(kind, count)| format!("{count} × {kind}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(out, "{} errors: {kinds}", row.scenario);
            }
        }
        out
    }

    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
    }
}
