use anyhow::Context;
use auth_svc::config::{Cli, Command};
use clap::Parser;

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
    if let Some(Command::Healthcheck { tls_name }) = &cli.command {
        if let Err(error) = cli.healthcheck(tls_name).await {
            eprintln!("error: {error:#}");
            std::process::exit(1);
        }
        return Ok(());
    }
    let command = cli.command.clone();
    let config = cli.into_config()?;
    match command {
        Some(Command::RotateKeys) => {
            let store = auth_svc::store::Store::connect(&config.database_url, 1)
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
