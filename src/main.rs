//! `cargo run`: the whole of Warden in one process, on SQLite in `./.warden/` with the in-process cache.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use std::io::Write;

use clap::Parser;
use secrecy::SecretString;

/// Warden all-in-one: auth-svc, task-svc and the gateway in one process, on SQLite, no other services needed.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Where the SQLite database and the generated secret live.
    #[arg(long, env = "WARDEN_DATA_DIR", default_value = ".warden")]
    data_dir: PathBuf,
    /// The HTTP gateway's address.
    #[arg(long, env = "GATEWAY_ADDR", default_value = "127.0.0.1:8080")]
    gateway_addr: SocketAddr,
    /// AuthService's gRPC address.
    #[arg(long, env = "AUTH_ADDR", default_value = "127.0.0.1:50051")]
    auth_addr: SocketAddr,
    /// TaskService's gRPC address.
    #[arg(long, env = "TASK_ADDR", default_value = "127.0.0.1:50052")]
    task_addr: SocketAddr,
    /// At least 32 characters; generated and kept in the data directory when unset.
    #[arg(long, env = "AUTH_SECRET", hide_env_values = true)]
    secret: Option<SecretString>,
    /// Secret rotation, newest first: `<version>:<secret>,…` (as Better Auth's BETTER_AUTH_SECRETS) or bare
    /// secrets. The first signs and encrypts; every one, and AUTH_SECRET, verifies and decrypts.
    #[arg(long, env = "AUTH_SECRETS", hide_env_values = true)]
    secrets: Option<SecretString>,
    /// First part of every cookie name (Better Auth's advanced.cookiePrefix).
    #[arg(long, env = "COOKIE_PREFIX", default_value = "better-auth")]
    cookie_prefix: String,
    /// Domain of every cookie, to share sessions with subdomains (Better Auth's crossSubDomainCookies).
    #[arg(long, env = "COOKIE_DOMAIN")]
    cookie_domain: Option<String>,
    /// Session lifetime in seconds, extended on use (Better Auth's session.expiresIn).
    #[arg(long, env = "SESSION_EXPIRES_IN", default_value_t = 604_800)]
    session_expires_in: u64,
    /// Seconds between two extensions of a session (Better Auth's session.updateAge).
    #[arg(long, env = "SESSION_UPDATE_AGE", default_value_t = 86_400)]
    session_update_age: u64,
    /// How recent, in seconds, a sign-in must be for sensitive requests; 0 turns it off (session.freshAge).
    #[arg(long, env = "SESSION_FRESH_AGE", default_value_t = 86_400)]
    session_fresh_age: u64,
    /// Public URL (defaults to http://<gateway address>).
    #[arg(long, env = "BASE_URL")]
    base_url: Option<String>,
    /// Comma-separated extra trusted origins.
    #[arg(long, env = "TRUSTED_ORIGINS", value_delimiter = ',')]
    trusted_origins: Vec<String>,
    /// Comma-separated user ids that are administrators whatever their role.
    #[arg(long, env = "ADMIN_USER_IDS", value_delimiter = ',')]
    admin_user_ids: Vec<String>,
    /// Better Auth's rate limits and the failed sign-in back-off (true or false).
    #[arg(long, env = "RATE_LIMIT_ENABLED", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    rate_limit_enabled: bool,
    /// No session until the email address is verified (true or false).
    #[arg(long, env = "REQUIRE_EMAIL_VERIFICATION", default_value_t = false, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    require_email_verification: bool,
    /// delete-user mails a link that confirms the deletion instead of deleting at once (true or false).
    #[arg(long, env = "DELETE_USER_VERIFICATION", default_value_t = false, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    delete_user_verification: bool,
    /// SMTP server for outgoing mail: smtp://[user:password@]host[:port][?tls=starttls] or smtps://…; unset keeps
    /// mail in a development outbox (logged, readable at /api/dev/outbox from this machine).
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    smtp_url: Option<SecretString>,
    /// Sender of every mail [default: Warden <no-reply@localhost>].
    #[arg(long, env = "MAIL_FROM")]
    mail_from: Option<String>,
    /// Seconds to keep serving after Ctrl-C or SIGTERM while health and /readyz already report the stop.
    #[arg(long, env = "DRAIN_DELAY", default_value_t = warden_common::shutdown::DEFAULT_DRAIN_DELAY.as_secs())]
    drain_delay: u64,
    #[command(flatten)]
    runtime: warden_common::runtime::RuntimeArgs,
}

/// mimalloc rather than glibc's malloc: see the workspace's Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    warden_common::telemetry::init();
    let cli = Cli::parse();
    cli.runtime
        .build()
        .context("starting the runtime")?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let sessions = auth_svc::core::sessions::SessionLifetimes::from_secs(
        cli.session_expires_in,
        cli.session_update_age,
        cli.session_fresh_age,
    )
    .context(
        "SESSION_EXPIRES_IN must be at least 1 second (and the session ages a number of seconds)",
    )?;
    let settings = warden::Settings {
        data_dir: cli.data_dir,
        gateway_addr: cli.gateway_addr,
        auth_addr: cli.auth_addr,
        task_addr: cli.task_addr,
        secret: cli.secret,
        secrets: cli.secrets,
        cookie_prefix: cli.cookie_prefix,
        cookie_domain: cli.cookie_domain.filter(|domain| !domain.trim().is_empty()),
        sessions,
        base_url: cli.base_url,
        trusted_origins: cli.trusted_origins,
        admin_user_ids: cli.admin_user_ids,
        rate_limit_enabled: cli.rate_limit_enabled,
        require_email_verification: cli.require_email_verification,
        delete_user_verification: cli.delete_user_verification,
        smtp_url: cli.smtp_url,
        mail_from: cli.mail_from,
        drain_delay: std::time::Duration::from_secs(cli.drain_delay),
    };
    let warden = warden::Warden::build(settings).await?;
    // Signal handlers first: whoever reads the line below may send SIGTERM at once.
    let shutdown = warden_common::shutdown::shutdown_signal();
    println!(
        "Warden is running at {} (gRPC: auth {}, tasks {}). Press Ctrl-C to stop.",
        warden.base_url(),
        warden.auth_addr(),
        warden.task_addr()
    );
    warden.run_until_stopped(shutdown).await?;
    // stdout may be gone by now (a closed pipe); stopping cleanly matters more than saying so.
    let _ = writeln!(std::io::stdout(), "Warden stopped.");
    Ok(())
}
