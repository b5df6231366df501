//! `cargo run --release -p bench -- <scenario>`: parses the command line, runs, prints the table, writes the JSON.

use std::process::ExitCode;

use bench::{
    ceiling,
    cli::{Args, ServeCeiling},
    run::Runner,
    target,
};
use clap::Parser;

/// mimalloc, as Warden's binaries: the ceilings this binary serves allocate as the servers they are compared with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|first| first == ServeCeiling::COMMAND)
    {
        return serve_ceiling(ServeCeiling::parse_from(std::env::args_os().skip(1))).await;
    }
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

/// What a run starts itself as to serve a ceiling (see [`ceiling`]).
async fn serve_ceiling(args: ServeCeiling) -> ExitCode {
    let served = match target::redis_url(&args.redis) {
        Ok(redis) => ceiling::serve(args.kind, &redis, &args.run_id).await,
        Err(refused) => Err(refused.into()),
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench serve-ceiling: {error:#}");
            ExitCode::FAILURE
        }
    }
}
