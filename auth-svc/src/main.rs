use std::process::ExitCode;

use anyhow::Context;
use auth_svc::config::{Cli, Command, Config};

/// mimalloc rather than glibc's malloc: see the workspace's Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    warden_common::telemetry::init();
    let cli: Cli = warden_common::settings::parse_args();
    let runtime = match cli.runtime.build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(Command::Healthcheck { tls_name }) = &cli.command {
        return match runtime.block_on(cli.healthcheck(tls_name)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    let command = cli.command.clone();
    let config = match cli.into_config() {
        Ok(config) => config,
        Err(error) => return warden_common::settings::exit(&error),
    };
    match runtime.block_on(run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Option<Command>, config: Config) -> anyhow::Result<()> {
    match command {
        Some(Command::RotateKeys) => {
            let store = auth_svc::store::Store::connect(config.database_url.expose(), 1)
                .await
                .context("connecting to DATABASE_URL")?;
            let kid = auth_svc::core::jwt::rotate(&store, &config.secret).await?;
            println!("{kid}");
            Ok(())
        }
        Some(Command::Healthcheck { .. }) | None => {
            let server = auth_svc::AuthServer::build(config).await?;
            // Signal handlers first: whoever reads the line below may send SIGTERM at once.
            let shutdown = warden_common::shutdown::shutdown_signal();
            println!("auth-svc listening on {}", server.local_addr());
            server.run_until_stopped(shutdown).await
        }
    }
}
