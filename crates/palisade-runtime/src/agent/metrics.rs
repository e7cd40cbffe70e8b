//! Prometheus metrics of the agent (`/metrics`, OpenMetrics text): events by type, drops by where they
//! happened, the queue's depth and the running source.

use crate::sensor::SensorStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabels {
    pub r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DropLabels {
    /// `kernel` (ring buffer full), `queue` (consumer too slow), `netlink` (proc connector overrun).
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    pub rule: String,
    pub priority: String,
}

/// The `source` label values of `palisade_runtime_drops_total`.
const DROP_SOURCES: [&str; 3] = ["kernel", "queue", "netlink"];

pub struct Metrics {
    registry: Registry,
    pub events: Family<TypeLabels, Counter>,
    pub drops: Family<DropLabels, Counter>,
    pub alerts: Family<RuleLabels, Counter>,
    pub queue_depth: Gauge,
    pub source: Family<SourceLabels, Gauge>,
    /// Records the kernel side did not send because nothing loaded reads them (not a loss).
    pub kernel_filtered: Counter,
    /// Cgroups that have the DNS answer programs (containers' cgroups, or 1 for the cgroup root).
    pub dns_cgroups: Gauge,
    /// Directories found quiet: their relative opens are judged in the kernel.
    pub quiet_dirs: Gauge,
    last: [u64; 4],
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let events = Family::<TypeLabels, Counter>::default();
        let drops = Family::<DropLabels, Counter>::default();
        let alerts = Family::<RuleLabels, Counter>::default();
        let queue_depth = Gauge::default();
        let source = Family::<SourceLabels, Gauge>::default();
        let mut registry = Registry::with_prefix("palisade_runtime");
        registry.register("events", "Events delivered to the consumers, by event type", events.clone());
        registry.register("drops", "Events lost, by where they were lost", drops.clone());
        registry.register("alerts", "Alerts raised, by rule and priority", alerts.clone());
        registry.register(
            "queue_depth",
            "Records waiting between the sensor and the consumer",
            queue_depth.clone(),
        );
        registry.register("source", "The running event source (1)", source.clone());
        let kernel_filtered = Counter::default();
        registry.register(
            "kernel_filtered",
            "Syscall records the kernel did not send because no loaded rule reads them",
            kernel_filtered.clone(),
        );
        let dns_cgroups = Gauge::default();
        registry.register(
            "dns_cgroups",
            "Cgroups the DNS answer programs are attached to (containers' cgroups, or the root)",
            dns_cgroups.clone(),
        );
        let quiet_dirs = Gauge::default();
        registry.register(
            "quiet_dirs",
            "Directories judged quiet so far: relative opens from them are filtered in the kernel",
            quiet_dirs.clone(),
        );
        for s in DROP_SOURCES {
            let _ = drops.get_or_create(&DropLabels { source: s.into() });
        }
        Metrics {
            registry,
            events,
            drops,
            alerts,
            queue_depth,
            source,
            kernel_filtered,
            dns_cgroups,
            quiet_dirs,
            last: [0; 4],
        }
    }

    /// Bring the drop counters and the queue gauge up to the sensor's counters.
    pub fn sync(&mut self, stats: &SensorStats) {
        let now = [
            stats.kernel_drops.load(Ordering::Relaxed),
            stats.queue_drops.load(Ordering::Relaxed),
            stats.source_drops.load(Ordering::Relaxed),
            stats.kernel_filtered.load(Ordering::Relaxed),
        ];
        for (i, name) in DROP_SOURCES.into_iter().enumerate() {
            let delta = now[i].saturating_sub(self.last[i]);
            if delta > 0 {
                self.drops.get_or_create(&DropLabels { source: name.into() }).inc_by(delta);
            }
        }
        self.kernel_filtered.inc_by(now[3].saturating_sub(self.last[3]));
        self.last = now;
        self.queue_depth.set(stats.queue_depth.load(Ordering::Relaxed) as i64);
        self.dns_cgroups.set(stats.dns_cgroups.load(Ordering::Relaxed) as i64);
        self.quiet_dirs.set(stats.quiet_dirs.load(Ordering::Relaxed) as i64);
    }

    /// The registry, for counters registered by consumers (`palisade_runtime_enforce_*`).
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
