//! `cargo run --release -p bench -- <scenario>`: parses the command line, runs, prints the table, writes the JSON.

use std::process::ExitCode;

use bench::{cli::Args, run::Runner};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(problem) = args.check() {
        eprintln!("bench: {problem}");
        return ExitCode::from(2);
    }
    let runner = match Runner::new(&args) {
        Ok(runner) => runner,
        Err(refused) => {
            eprintln!("bench: {refused}");
            return ExitCode::from(2);
        }
    };
    let report = runner.run(args.scenario).await;
    print!("{}", report.table());
    if let Some(path) = &args.json
        && let Err(error) = report.write_json(path)
    {
        eprintln!("bench: {error:#}");
        return ExitCode::FAILURE;
    }
    for failure in &report.failures {
        eprintln!("bench: {} failed: {}", failure.scenario, failure.error);
    }
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
