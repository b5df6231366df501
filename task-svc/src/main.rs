use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: see the workspace's Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli: task_svc::config::Cli = warden_common::settings::parse_args();
    let runtime = match cli.runtime.build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    warden_common::telemetry::init();
    if let Some(task_svc::config::Command::Healthcheck { tls_name }) = &cli.command {
        return match runtime.block_on(cli.healthcheck(tls_name)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {}", warden_common::telemetry::one_line(&error));
                ExitCode::FAILURE
            }
        };
    }
    let config = match cli.into_config() {
        Ok(config) => config,
        Err(error) => return warden_common::settings::exit(&error),
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", warden_common::telemetry::one_line(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(config: task_svc::Config) -> anyhow::Result<()> {
    let server = task_svc::TaskServer::build(config).await?;
    // Signal handlers first: whoever reads the line below may send SIGTERM at once.
    let shutdown = warden_common::shutdown::shutdown_signal();
    println!("task-svc listening on {}", server.local_addr());
    server.run_until_stopped(shutdown).await
}
