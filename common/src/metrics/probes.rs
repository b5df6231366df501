//! Values read from live state at each scrape: pool sizes, a circuit breaker, counters a component keeps as atomics.
//! A server attaches a probe while it runs; every probe, and the process's resident memory, is collected as one
//! collector of the registry.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use prometheus::core::{Collector, Desc};
use prometheus::proto::{self, MetricFamily, MetricType};

/// A probe: writes the values it reads from live state into the samples of one scrape.
type ProbeFn = dyn Fn(&mut Samples) + Send + Sync;

/// A probe attached to [`super::Metrics`]; dropping it detaches the probe.
#[must_use = "the probe is detached when this is dropped"]
pub struct Attached {
    probes: Arc<Probes>,
    id: u64,
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.probes.lock().retain(|(id, _)| *id != self.id);
    }
}

#[derive(Default)]
pub(super) struct Probes {
    next_id: AtomicU64,
    list: Mutex<Vec<(u64, Arc<ProbeFn>)>>,
}

impl Probes {
    pub(super) fn attach(
        self: &Arc<Self>,
        probe: impl Fn(&mut Samples) + Send + Sync + 'static,
    ) -> Attached {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, Arc::new(probe)));
        Attached {
            probes: self.clone(),
            id,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(u64, Arc<ProbeFn>)>> {
        // The list is only pushed to and filtered; a panicking holder cannot leave it half-changed.
        self.list
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The probes, and the process's own memory, as one collector. It declares no descriptors, so the registry does
/// not check its families against others; probes give their metrics names no other metric uses.
pub(super) struct ProbeCollector(pub(super) Arc<Probes>);

impl Collector for ProbeCollector {
    fn desc(&self) -> Vec<&Desc> {
        Vec::new()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let probes: Vec<Arc<ProbeFn>> = self.0.lock().iter().map(|(_, p)| p.clone()).collect();
        let mut samples = Samples::default();
        process_memory(&mut samples);
        for probe in probes {
            probe(&mut samples);
        }
        samples.families
    }
}

/// The values one scrape reads from probes. Families of the same name from several probes are merged.
#[derive(Default)]
pub struct Samples {
    families: Vec<MetricFamily>,
}

impl Samples {
    /// A value that only grows while the process lives.
    pub fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: u64) {
        let mut counter = proto::Counter::default();
        // Counts stay far below 2^53, where f64 stops being exact.
        counter.set_value(value as f64);
        let mut metric = proto::Metric::from_label(label_pairs(labels));
        metric.set_counter(counter);
        self.push(name, help, MetricType::COUNTER, metric);
    }

    /// A value that goes up and down.
    pub fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        let mut gauge = proto::Gauge::default();
        gauge.set_value(value);
        let mut metric = proto::Metric::from_gauge(gauge);
        metric.set_label(label_pairs(labels));
        self.push(name, help, MetricType::GAUGE, metric);
    }

    fn push(&mut self, name: &str, help: &str, kind: MetricType, metric: proto::Metric) {
        let mut family = MetricFamily::default();
        family.set_name(name.to_owned());
        family.set_help(help.to_owned());
        family.set_field_type(kind);
        family.set_metric(vec![metric]);
        self.families.push(family);
    }
}

fn label_pairs(labels: &[(&str, &str)]) -> Vec<proto::LabelPair> {
    labels
        .iter()
        .map(|(name, value)| {
            let mut pair = proto::LabelPair::default();
            pair.set_name((*name).to_owned());
            pair.set_value((*value).to_owned());
            pair
        })
        .collect()
}

/// `process_resident_memory_bytes`, from `/proc` where there is one.
fn process_memory(samples: &mut Samples) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        });
    if let Some(kib) = kib {
        samples.gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            &[],
            (kib * 1024) as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::Metrics;

    #[test]
    fn probes_show_until_detached_and_share_families_by_name() {
        let metrics = Metrics::new();
        let attached = metrics.attach(|samples| {
            samples.counter("warden_test_total", "A test.", &[("kind", "a")], 3);
            samples.gauge("warden_test_level", "A test.", &[], 0.5);
        });
        let other = metrics.attach(|samples| {
            samples.counter("warden_test_total", "A test.", &[("kind", "b")], 4);
        });
        let text = metrics.render();
        assert!(text.contains("warden_test_total{kind=\"a\"} 3\n"), "{text}");
        assert!(text.contains("warden_test_total{kind=\"b\"} 4\n"), "{text}");
        assert!(text.contains("warden_test_level 0.5\n"), "{text}");
        assert_eq!(text.matches("# TYPE warden_test_total counter").count(), 1);
        drop(attached);
        drop(other);
        assert!(!metrics.render().contains("warden_test"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn resident_memory_is_reported() {
        let text = Metrics::new().render();
        assert!(text.contains("process_resident_memory_bytes "), "{text}");
    }
}
