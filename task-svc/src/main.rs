use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's malloc: see the workspace's Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = task_svc::config::Cli::parse();
    let runtime = match cli.runtime.build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    warden_common::telemetry::init();
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: task_svc::config::Cli) -> anyhow::Result<()> {
    if let Some(task_svc::config::Command::Healthcheck { tls_name }) = &cli.command {
        return cli.healthcheck(tls_name).await;
    }
    let server = task_svc::TaskServer::build(cli.into_config()?).await?;
    // Signal handlers first: whoever reads the line below may send SIGTERM at once.
    let shutdown = warden_common::shutdown::shutdown_signal();
    println!("task-svc listening on {}", server.local_addr());
    server.run_until_stopped(shutdown).await
}

/// The error and its causes on one line, skipping a cause whose text the line already holds (database errors repeat
/// their source in their own message).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
