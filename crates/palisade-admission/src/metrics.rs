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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ImageLabels {
    /// `cached` (decisions cached), `evaluated` (known report, evaluated now), `scanned` (scanned for
    /// the request), `unknown` (no report).
    pub outcome: String,
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
    pub images: Family<ImageLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let requests = Family::<RequestLabels, Counter>::default();
        let reviews = Family::<PathLabels, Counter>::default();
        let decisions = Family::<DecisionLabels, Counter>::default();
        // 50 µs to about 1.6 s.
        let latency = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        let bundle_info = Family::<BundleLabels, Gauge>::default();
        let images = Family::<ImageLabels, Counter>::default();
        let [fail_open, errors, rejected_connections, bundle_reload_failures, certificate_reloads] =
            std::array::from_fn(|_| Counter::default());
        let mut registry = Registry::with_prefix("palisade_admission");
        registry.register("requests", "HTTP requests by endpoint and status code", requests.clone());
        registry.register(
            "reviews",
            "Admission reviews by how they were settled and whether admitted",
            reviews.clone(),
        );
        registry.register("decisions", "Policy decisions by policy and action", decisions.clone());
        registry.register("review_duration_seconds", "Time to decide one admission review", latency.clone());
        registry.register(
            "fail_open",
            "Policies that could not be evaluated and were let through",
            fail_open.clone(),
        );
        registry.register(
            "errors",
            "Reviews that could not be answered (bad requests, timeouts)",
            errors.clone(),
        );
        registry.register(
            "rejected_connections",
            "Connections closed at once because the connection limit was reached",
            rejected_connections.clone(),
        );
        registry.register("bundle_info", "The policy bundle in use (value 1)", bundle_info.clone());
        registry.register(
            "bundle_reload_failures",
            "Bundle reloads refused because the new bundle had errors (the last good one stays)",
            bundle_reload_failures.clone(),
        );
        registry.register("certificate_reloads", "Serving certificate reloads", certificate_reloads.clone());
        registry.register(
            "image_facts",
            "Images of admitted objects by how their scan report was found (cache hits are `cached`)",
            images.clone(),
        );
        Metrics {
            registry,
            requests,
            reviews,
            decisions,
            latency,
            fail_open,
            errors,
            rejected_connections,
            bundle_info,
            bundle_reload_failures,
            certificate_reloads,
            images,
        }
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
