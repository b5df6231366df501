//! `cargo run`: the whole of Warden in one process, on SQLite in `./.warden/` with the in-process cache.

use std::io::Write;
use std::process::ExitCode;

use warden::config::Cli;
use warden_common::settings::SettingsError;

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
    let settings = match cli.into_settings() {
        Ok(settings) => settings,
        Err(error) => return warden_common::settings::exit(&error),
    };
    match runtime.block_on(run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        // A setting that only the data directory could complete (the secret kept there) is reported as any other.
        Err(error) => match error.downcast_ref::<SettingsError>() {
            Some(error) => warden_common::settings::exit(error),
            None => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn run(settings: warden::Settings) -> anyhow::Result<()> {
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
