//! The Tokio runtime each binary runs on, and its one setting: how many threads serve requests.
//!
//! The default is one worker per core the process may use (a container's CPU limit lowers it). Where several busy
//! processes share few cores (Warden's services with their PostgreSQL and Redis on one small machine), fewer workers
//! serve more: an idle worker is woken for every task that another one could have run, and on two shared cores the
//! wake-ups and context switches cost more than the second worker gains (see `docs/performance.md`).

use std::num::NonZeroUsize;

use tokio::runtime::{Builder, Runtime};

/// `--worker-threads` / `WORKER_THREADS`, flattened into every binary's command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::Args)]
pub struct RuntimeArgs {
    /// Threads serving requests, at least 1 [default: one per core available to the process]. Password hashing has
    /// threads of its own.
    #[arg(long, env = "WORKER_THREADS")]
    pub worker_threads: Option<NonZeroUsize>,
}

impl RuntimeArgs {
    /// How many workers the runtime gets.
    pub fn workers(&self) -> usize {
        self.worker_threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            NonZeroUsize::get,
        )
    }

    /// A multi-threaded runtime with [`Self::workers`] workers, I/O and timers on.
    pub fn build(&self) -> std::io::Result<Runtime> {
        Builder::new_multi_thread()
            .worker_threads(self.workers())
            .enable_all()
            .build()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        runtime: RuntimeArgs,
    }

    #[test]
    fn the_runtime_has_the_workers_asked_for() {
        let args = Cli::try_parse_from(["bin", "--worker-threads", "1"])
            .unwrap()
            .runtime;
        assert_eq!(args.build().unwrap().metrics().num_workers(), 1);
        let args = Cli::try_parse_from(["bin", "--worker-threads", "3"])
            .unwrap()
            .runtime;
        assert_eq!(args.build().unwrap().metrics().num_workers(), 3);
    }

    #[test]
    fn by_default_there_is_one_worker_per_available_core() {
        let args = Cli::try_parse_from(["bin"]).unwrap().runtime;
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(args.build().unwrap().metrics().num_workers(), cores);
    }

    #[test]
    fn zero_or_a_word_is_refused_with_the_setting_named() {
        for bad in ["0", "two", "-1"] {
            let error = Cli::try_parse_from(["bin", &format!("--worker-threads={bad}")])
                .err()
                .unwrap()
                .to_string();
            assert!(error.contains("--worker-threads"), "{bad}: {error}");
        }
    }
}
