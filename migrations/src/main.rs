//! `migrations up | down [-n N] | status`: applies, rolls back or lists Warden's migrations.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migrations::{Migrator, MigratorTrait};
use warden_common::settings::DatabaseUrl;

#[derive(Parser)]
#[command(
    version,
    about = "Apply, roll back or list Warden's database migrations"
)]
struct Cli {
    /// postgres://… or sqlite://… (a SQLite file is created if missing)
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply every pending migration
    Up,
    /// Roll back the most recent migrations
    Down {
        /// How many to roll back
        #[arg(short = 'n', long, default_value_t = 1)]
        steps: u32,
    },
    /// List each migration and whether it is applied
    Status,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = warden_common::settings::parse_args();
    let url = match DatabaseUrl::parse(cli.database_url.as_deref().unwrap_or("")) {
        Ok(url) => url,
        Err(error) => return warden_common::settings::exit(&error),
    };
    warden_common::telemetry::init();
    match run(cli.command, url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", warden_common::telemetry::one_line(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, url: DatabaseUrl) -> anyhow::Result<()> {
    let conn = migrations::connect(url.expose()).await?;
    match command {
        Command::Up => migrations::migrate_connection(&conn).await?,
        Command::Down { steps } => migrations::rollback_connection(&conn, steps).await?,
        Command::Status => {
            for migration in Migrator::get_migration_with_status_read_only(&conn).await? {
                println!("{:<9} {}", migration.status().to_string(), migration.name());
            }
        }
    }
    conn.close().await?;
    Ok(())
}
