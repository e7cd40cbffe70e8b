//! Prometheus metrics of the webhook (`/metrics`, OpenMetrics text).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub endpoint: String,
    pub code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub policy: String,
    pub action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BundleLabels {
    pub bundle: String,
    pub version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PathLabels {
    pub path: String,
    pub allowed: String,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub reviews: Family<PathLabels, Counter>,
    pub decisions: Family<DecisionLabels, Counter>,
    pub latency: Histogram,
    pub fail_open: Counter,
    pub errors: Counter,
    pub rejected_connections: Counter,
    pub bundle_info: Family<BundleLabels, Gauge>,
    pub bundle_reload_failures: Counter,
    pub certificate_reloads: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("palisade_admission");
        let m = Metrics {
            requests: Family::default(),
            reviews: Family::default(),
            decisions: Family::default(),
            // 50 µs to about 1.6 s.
            latency: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            fail_open: Counter::default(),
            errors: Counter::default(),
            rejected_connections: Counter::default(),
            bundle_info: Family::default(),
            bundle_reload_failures: Counter::default(),
            certificate_reloads: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("requests", "HTTP requests by endpoint and status code", m.requests.clone());
        registry.register(
            "reviews",
            "Admission reviews by how they were settled and whether admitted",
            m.reviews.clone(),
        );
        registry.register("decisions", "Policy decisions by policy and action", m.decisions.clone());
        registry.register(
            "review_duration_seconds",
            "Time to decide one admission review",
            m.latency.clone(),
        );
        registry.register(
            "fail_open",
            "Policies that could not be evaluated and were let through",
            m.fail_open.clone(),
        );
        registry.register(
            "errors",
            "Reviews that could not be answered (bad requests, timeouts)",
            m.errors.clone(),
        );
        registry.register(
            "rejected_connections",
            "Connections closed at once because the connection limit was reached",
            m.rejected_connections.clone(),
        );
        registry.register("bundle_info", "The policy bundle in use (value 1)", m.bundle_info.clone());
        registry.register(
            "bundle_reload_failures",
            "Bundle reloads refused because the new bundle had errors (the last good one stays)",
            m.bundle_reload_failures.clone(),
        );
        registry.register(
            "certificate_reloads",
            "Serving certificate reloads",
            m.certificate_reloads.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
