//! Prometheus counters of the detection side: events evaluated and dropped, alerts by rule and
//! priority, alerts held back by the rate limiter, output failures. The agent serves [`Metrics::encode`]
//! on `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    pub rule: String,
    pub priority: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    pub rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutputLabels {
    pub output: String,
}

pub struct Metrics {
    registry: Registry,
    pub events: Counter,
    pub events_dropped: Counter,
    pub alerts: Family<AlertLabels, Counter>,
    pub rate_limited: Family<RuleLabels, Counter>,
    pub output_errors: Family<OutputLabels, Counter>,
    pub output_dropped: Family<OutputLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("palisade_runtime");
        let events = Counter::default();
        let events_dropped = Counter::default();
        let alerts = Family::<AlertLabels, Counter>::default();
        let rate_limited = Family::<RuleLabels, Counter>::default();
        let output_errors = Family::<OutputLabels, Counter>::default();
        let output_dropped = Family::<OutputLabels, Counter>::default();
        registry.register("events", "Events evaluated against the rules", events.clone());
        registry.register(
            "events_dropped",
            "Events dropped before evaluation (queue full)",
            events_dropped.clone(),
        );
        registry.register("alerts", "Alerts raised, by rule and priority", alerts.clone());
        registry.register(
            "alerts_rate_limited",
            "Alerts held back by the per-rule rate limit",
            rate_limited.clone(),
        );
        registry.register("output_errors", "Alerts an output failed to deliver", output_errors.clone());
        registry.register(
            "output_dropped",
            "Alerts dropped because an output's queue was full",
            output_dropped.clone(),
        );
        Metrics { registry, events, events_dropped, alerts, rate_limited, output_errors, output_dropped }
    }

    /// OpenMetrics text for `/metrics`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
