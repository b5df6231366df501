//! Resident memory of the target's processes, sampled from `/proc/<pid>/status` while a scenario is measured.

use std::{collections::BTreeMap, time::Duration};

use tokio::{sync::watch, task::JoinHandle};

const EVERY: Duration = Duration::from_millis(100);

/// A running sampler; [`Sampler::peak`] stops it and gives each process's highest RSS in MiB.
pub struct Sampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<BTreeMap<u32, f64>>,
}

impl Sampler {
    pub fn start(pids: &[u32]) -> Self {
        let pids = pids.to_vec();
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut peaks = BTreeMap::new();
            loop {
                for &pid in &pids {
                    if let Some(mib) = rss_mib(pid) {
                        let peak = peaks.entry(pid).or_insert(0.0_f64);
                        *peak = peak.max(mib);
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(EVERY) => {}
                    _ = stopped.changed() => break,
                }
            }
            peaks
        });
        Self { stop, task }
    }

    pub async fn peak(self) -> BTreeMap<u32, f64> {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_default()
    }
}

/// `VmRSS` of `pid` in MiB, or `None` when the process is gone or the file unreadable.
/// The file is a few hundred bytes in procfs, so reading it does not hold up the runtime.
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn this_process_has_a_resident_size() {
        let sampler = Sampler::start(&[std::process::id()]);
        tokio::time::sleep(Duration::from_millis(150)).await;
        let peaks = sampler.peak().await;
        assert!(peaks[&std::process::id()] > 0.0, "{peaks:?}");
    }
}
