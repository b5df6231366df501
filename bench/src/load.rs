//! The load loop: one task per connection, closed loop or at a fixed rate, bounded in time and request count.
//!
//! In closed loop each connection sends its next request as soon as the last one is answered and latency is the
//! request's own time. At a fixed rate request `n` is due at `start + n / rate`; a connection takes the next due
//! request, waits for its time and sends it, and latency counts from when it was due, so a stalled server shows up
//! as latency instead of being hidden by requests that were never sent (coordinated omission).

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use hdrhistogram::Histogram;
use tokio::time::Instant;

/// Latencies are kept in microseconds, from 1 µs to one minute, to three significant digits.
const HIGHEST_MICROS: u64 = 60_000_000;

/// One connection's worth of requests of one scenario.
pub trait Caller: Send + 'static {
    /// Sends request number `seq` and waits for its whole answer; an error names what went wrong, such as
    /// `HTTP 500` or `gRPC Unavailable`, and is counted under that name.
    fn call(&mut self, seq: u64) -> impl Future<Output = Result<(), String>> + Send;

    /// Called after a request was abandoned at the time limit, when the connection may be mid-answer.
    fn reset(&mut self) {}
}

/// How hard and how long to load.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub duration: Duration,
    /// Requests per second over all connections; 0 is closed loop.
    pub rate: f64,
    pub max_requests: u64,
    /// A request not answered within this counts as a `timeout` error.
    pub timeout: Duration,
}

/// What one run of a scenario measured.
#[derive(Debug)]
pub struct Measurement {
    /// Latencies of the successful requests, in microseconds.
    pub latencies: Histogram<u64>,
    pub errors: BTreeMap<String, u64>,
    /// From the start until the last answer came back.
    pub elapsed: Duration,
}

impl Measurement {
    fn empty() -> Self {
        Self {
            latencies: new_histogram(),
            errors: BTreeMap::new(),
            elapsed: Duration::ZERO,
        }
    }

    pub fn successes(&self) -> u64 {
        self.latencies.len()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.successes() as f64 / seconds
        } else {
            0.0
        }
    }

    /// A latency quantile in milliseconds (0 when nothing succeeded).
    pub fn quantile_ms(&self, quantile: f64) -> f64 {
        self.latencies.value_at_quantile(quantile) as f64 / 1000.0
    }

    fn absorb(&mut self, other: Measurement) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latencies.add(&other.latencies);
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_MICROS, 3).expect("static histogram bounds are valid")
}

struct Schedule {
    start: Instant,
    deadline: Instant,
    rate: f64,
    max_requests: u64,
    timeout: Duration,
    next: AtomicU64,
}

impl Schedule {
    /// The next request's number and the time it counts from, or `None` once the run is over.
    async fn next(&self) -> Option<(u64, Instant)> {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        if seq >= self.max_requests {
            return None;
        }
        if self.rate > 0.0 {
            let due = self.start + Duration::from_secs_f64(seq as f64 / self.rate);
            if due >= self.deadline {
                return None;
            }
            tokio::time::sleep_until(due).await;
            Some((seq, due))
        } else {
            let now = Instant::now();
            (now < self.deadline).then_some((seq, now))
        }
    }
}

/// Runs `callers` (one per connection) under `plan` and gives them back with what was measured.
pub async fn run<C: Caller>(callers: Vec<C>, plan: Plan) -> (Vec<C>, Measurement) {
    let start = Instant::now();
    let schedule = Arc::new(Schedule {
        start,
        deadline: start + plan.duration,
        rate: plan.rate,
        max_requests: plan.max_requests,
        timeout: plan.timeout,
        next: AtomicU64::new(0),
    });
    let tasks: Vec<_> = callers
        .into_iter()
        .map(|caller| tokio::spawn(drive(caller, schedule.clone())))
        .collect();
    let mut total = Measurement::empty();
    let mut returned = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok((caller, measured)) => {
                total.absorb(measured);
                returned.push(caller);
            }
            Err(error) => {
                *total
                    .errors
                    .entry(format!("load task failed: {error}"))
                    .or_default() += 1;
            }
        }
    }
    total.elapsed = start.elapsed();
    (returned, total)
}

async fn drive<C: Caller>(mut caller: C, schedule: Arc<Schedule>) -> (C, Measurement) {
    let mut measured = Measurement::empty();
    while let Some((seq, counted_from)) = schedule.next().await {
        let outcome = tokio::time::timeout(schedule.timeout, caller.call(seq)).await;
        let micros = counted_from.elapsed().as_micros();
        match outcome {
            Ok(Ok(())) => measured
                .latencies
                .saturating_record(u64::try_from(micros).unwrap_or(HIGHEST_MICROS)),
            Ok(Err(kind)) => *measured.errors.entry(kind).or_default() += 1,
            Err(_) => {
                caller.reset();
                *measured.errors.entry("timeout".into()).or_default() += 1;
            }
        }
    }
    (caller, measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Sleeper(Duration);

    impl Caller for Sleeper {
        async fn call(&mut self, seq: u64) -> Result<(), String> {
            tokio::time::sleep(self.0).await;
            if seq % 10 == 9 {
                Err("every tenth".into())
            } else {
                Ok(())
            }
        }
    }

    fn plan(duration_ms: u64, rate: f64, max_requests: u64) -> Plan {
        Plan {
            duration: Duration::from_millis(duration_ms),
            rate,
            max_requests,
            timeout: Duration::from_secs(1),
        }
    }

    #[tokio::test]
    async fn a_closed_loop_counts_successes_and_names_errors() {
        let callers = vec![Sleeper(Duration::from_millis(5)); 2];
        let (callers, measured) = run(callers, plan(300, 0.0, 1_000_000)).await;
        assert_eq!(callers.len(), 2);
        assert!(measured.successes() > 20, "{measured:?}");
        assert!(measured.errors["every tenth"] > 0);
        assert!(measured.quantile_ms(0.5) >= 5.0);
        assert!(measured.elapsed >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn the_request_count_bounds_a_run() {
        let callers = vec![Sleeper(Duration::from_millis(1)); 4];
        let (_, measured) = run(callers, plan(10_000, 0.0, 25)).await;
        assert_eq!(measured.successes() + measured.error_count(), 25);
        assert!(measured.elapsed < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_fixed_rate_sends_about_rate_times_duration() {
        let callers = vec![Sleeper(Duration::from_millis(1)); 4];
        let (_, measured) = run(callers, plan(500, 100.0, 1_000_000)).await;
        let sent = measured.successes() + measured.error_count();
        assert!((45..=51).contains(&sent), "{sent}");
    }

    #[tokio::test]
    async fn latency_at_a_fixed_rate_counts_from_when_a_request_was_due() {
        // One connection, 200 requests/s, each taking 20 ms: requests fall behind, and that wait is latency.
        let callers = vec![Sleeper(Duration::from_millis(20))];
        let (_, measured) = run(callers, plan(400, 200.0, 1_000_000)).await;
        assert!(measured.quantile_ms(0.99) > 100.0, "{measured:?}");
    }

    #[tokio::test]
    async fn a_request_past_the_time_limit_is_a_timeout() {
        let callers = vec![Sleeper(Duration::from_secs(5))];
        let mut plan = plan(100, 0.0, 1);
        plan.timeout = Duration::from_millis(50);
        let (_, measured) = run(callers, plan).await;
        assert_eq!(measured.errors.get("timeout"), Some(&1));
    }
}
