//! The command line: which scenario, against what, for how long and how hard.

use std::{path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};

/// The longest a scenario may run, so a mistyped duration cannot load the machine for hours.
pub const MAX_DURATION: Duration = Duration::from_secs(300);

/// Warden's load tool: REST through the gateway and gRPC straight to the services, on loopback only.
///
/// Run the target with RATE_LIMIT_ENABLED=false: every scenario signs up users and calls from one address, so
/// Better Auth's limits would otherwise turn the run into a count of 429s.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Args {
    /// What to run; `all` runs every scenario and both ceilings and reports each scenario against its ceiling.
    #[arg(value_enum)]
    pub scenario: Scenario,
    /// Connections held open (HTTP/1.1 keep-alive, or one HTTP/2 channel each for gRPC); one request in flight on each.
    #[arg(long, short = 'c', default_value_t = 32)]
    pub connections: usize,
    /// How long each scenario is measured, such as 10s, 500ms or 2m (at most 300s).
    #[arg(long, short = 'd', default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Load before each measurement, not recorded (0s skips it).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Requests per second for the whole run, spread over the connections (open loop, latency counted from each
    /// request's scheduled time); 0 sends as fast as the answers come back (closed loop).
    #[arg(long, short = 'r', default_value_t = 0.0)]
    pub rate: f64,
    /// Stop a scenario after this many requests even if its duration has not run out.
    #[arg(long, default_value_t = 5_000_000)]
    pub max_requests: u64,
    /// The gateway's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// AuthService's gRPC address.
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub grpc_auth: String,
    /// TaskService's gRPC address.
    #[arg(long, default_value = "127.0.0.1:50052")]
    pub grpc_task: String,
    /// The Redis that the axum + Redis ceiling reads.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub redis: String,
    /// Processes whose resident memory is sampled while each scenario is measured (repeatable).
    #[arg(long = "pid")]
    pub pids: Vec<u32>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A request that takes longer than this counts as an error.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// `bench serve-ceiling <kind>`: how a run starts the ceiling servers, each in a process of its own. It listens on a
/// loopback port, prints `listening on <address>`, and serves until its stdin closes.
#[derive(Debug, Parser)]
#[command(name = "serve-ceiling")]
pub struct ServeCeiling {
    #[arg(value_enum)]
    pub kind: crate::ceiling::Kind,
    /// The Redis that the axum ceiling reads.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub redis: String,
    /// Names the Redis key, so that runs side by side do not share one.
    #[arg(long, default_value = "manual")]
    pub run_id: String,
}

impl ServeCeiling {
    pub const COMMAND: &str = crate::ceiling::SERVE_COMMAND;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// GET /api/auth/get-session with the cookie of a user signed up beforehand.
    GetSession,
    /// GET /api/v1/tasks?pageSize=20 for a user with 20 tasks.
    ListTasks,
    /// POST /api/v1/tasks.
    CreateTask,
    /// POST /api/auth/sign-in/email with a valid password; also times one argon2id verify for the hashing limit.
    SignIn,
    /// POST /api/auth/sign-up/email, a new email each time.
    SignUp,
    /// get-session while sign-in saturates the password hashing, each on its own connections.
    GetSessionDuringSignIn,
    /// AuthService/GetSession with a session token.
    GrpcGetSession,
    /// TaskService/ListTasks, page size 20, for a user with 20 tasks, with a JWT.
    GrpcListTasks,
    /// The same ListTasks with an API key (`x-api-key`) instead of the JWT: auth-svc checks the key and counts the
    /// use on every call.
    GrpcListTasksApiKey,
    /// TaskService/CreateTask with a JWT.
    GrpcCreateTask,
    /// A bare axum server in a process of its own whose one handler does one Redis GET, loaded like get-session.
    CeilingAxumRedis,
    /// A bare tonic unary echo server in a process of its own.
    CeilingTonicEcho,
    /// Every scenario above, with the ratios to the ceilings.
    All,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::GetSession => "get-session",
            Scenario::ListTasks => "list-tasks",
            Scenario::CreateTask => "create-task",
            Scenario::SignIn => "sign-in",
            Scenario::SignUp => "sign-up",
            Scenario::GetSessionDuringSignIn => "get-session-during-sign-in",
            Scenario::GrpcGetSession => "grpc-get-session",
            Scenario::GrpcListTasks => "grpc-list-tasks",
            Scenario::GrpcListTasksApiKey => "grpc-list-tasks-api-key",
            Scenario::GrpcCreateTask => "grpc-create-task",
            Scenario::CeilingAxumRedis => "ceiling-axum-redis",
            Scenario::CeilingTonicEcho => "ceiling-tonic-echo",
            Scenario::All => "all",
        }
    }

    /// The ceiling a Warden scenario is compared with in `all`.
    pub fn ceiling(self) -> Option<Scenario> {
        match self {
            Scenario::GetSession
            | Scenario::ListTasks
            | Scenario::CreateTask
            | Scenario::SignIn
            | Scenario::SignUp
            | Scenario::GetSessionDuringSignIn => Some(Scenario::CeilingAxumRedis),
            Scenario::GrpcGetSession
            | Scenario::GrpcListTasks
            | Scenario::GrpcListTasksApiKey
            | Scenario::GrpcCreateTask => Some(Scenario::CeilingTonicEcho),
            Scenario::CeilingAxumRedis | Scenario::CeilingTonicEcho | Scenario::All => None,
        }
    }

    /// What `all` runs, in order: each ceiling right before the scenarios measured against it.
    pub const ALL: [Scenario; 12] = [
        Scenario::CeilingAxumRedis,
        Scenario::GetSession,
        Scenario::ListTasks,
        Scenario::CreateTask,
        Scenario::SignIn,
        Scenario::SignUp,
        Scenario::GetSessionDuringSignIn,
        Scenario::CeilingTonicEcho,
        Scenario::GrpcGetSession,
        Scenario::GrpcListTasks,
        Scenario::GrpcListTasksApiKey,
        Scenario::GrpcCreateTask,
    ];
}

/// `10s`, `500ms`, `2m`, or a bare number of seconds; never more than [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 10s, 500ms or 2m"))?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        _ => return Err(format!("`{text}`: the unit must be ms, s or m")),
    };
    if !seconds.is_finite() || seconds > MAX_DURATION.as_secs_f64() {
        return Err(format!(
            "`{text}` is longer than the {}s a run may last",
            MAX_DURATION.as_secs()
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

impl Args {
    /// Settings clap cannot check on its own.
    pub fn check(&self) -> Result<(), String> {
        if self.connections == 0 || self.connections > 1024 {
            return Err("--connections must be between 1 and 1024".into());
        }
        if !self.rate.is_finite() || self.rate < 0.0 {
            return Err(
                "--rate must be 0 (closed loop) or a positive number of requests per second".into(),
            );
        }
        if self.duration.is_zero() {
            return Err("--duration must be more than 0s".into());
        }
        if self.timeout.is_zero() {
            return Err("--timeout must be more than 0s".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_milliseconds_and_minutes() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn durations_past_the_cap_or_without_a_known_unit_are_refused() {
        assert!(parse_duration("301s").is_err());
        assert!(parse_duration("1h").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }
}
