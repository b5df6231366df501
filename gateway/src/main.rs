use std::process::ExitCode;

use gateway::GatewayServer;
use gateway::config::{Cli, Command};

/// mimalloc rather than glibc's malloc: see the workspace's Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli: Cli = warden_common::settings::parse_args();
    match cli.runtime.build() {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(error) => {
            eprintln!("error: starting the runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> ExitCode {
    if let Some(Command::Healthcheck) = cli.command {
        warden_common::telemetry::init();
        return match cli.healthcheck().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match cli.into_config() {
        Ok(config) => config,
        Err(error) => return warden_common::settings::exit(&error),
    };
    warden_common::telemetry::init();
    let server = match GatewayServer::build(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    // Signal handlers first: whoever reads the line below may send SIGTERM at once.
    let shutdown = warden_common::shutdown::shutdown_signal();
    tracing::info!(url = %format!("http://{}", server.local_addr()), "gateway listening");
    match server.run_until_stopped(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "gateway stopped");
            ExitCode::FAILURE
        }
    }
}
