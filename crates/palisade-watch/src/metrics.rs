//! Prometheus metrics of `palisade watch` (`/metrics`, OpenMetrics text).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// `ok` or `error`.
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    /// `pending`, `claimed`, `done`, `failed`.
    pub state: String,
}

pub struct Metrics {
    registry: Registry,
    /// Manifest pushes received on `/events` and queued.
    pub events: Counter,
    /// Pushes refused: the in-memory queue was full (the registry retries) or the registry is not watched.
    pub events_dropped: Counter,
    pub polls: Family<ResultLabels, Counter>,
    pub images_scanned: Family<ResultLabels, Counter>,
    pub db_updates: Family<ResultLabels, Counter>,
    pub rematches: Family<ResultLabels, Counter>,
    pub notifications: Family<ResultLabels, Counter>,
    /// The shared scan queue per state (this replica's last look).
    pub queue: Family<StateLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("palisade_watch");
        let m = Metrics {
            registry: Registry::default(),
            events: Counter::default(),
            events_dropped: Counter::default(),
            polls: Family::default(),
            images_scanned: Family::default(),
            db_updates: Family::default(),
            rematches: Family::default(),
            notifications: Family::default(),
            queue: Family::default(),
        };
        registry.register("events", "Registry push events queued", m.events.clone());
        registry.register("events_dropped", "Registry push events refused", m.events_dropped.clone());
        registry.register("polls", "Registry polls", m.polls.clone());
        registry.register(
            "images_scanned",
            "Images pulled, inventoried and stored",
            m.images_scanned.clone(),
        );
        registry.register("db_updates", "Vulnerability DB updates", m.db_updates.clone());
        registry.register("rematches", "Re-matches of the stored images", m.rematches.clone());
        registry.register("notifications", "Notification deliveries", m.notifications.clone());
        registry.register("queue_images", "Images in the shared scan queue", m.queue.clone());
        Metrics { registry, ..m }
    }

    pub fn ok(ok: bool) -> ResultLabels {
        ResultLabels { result: if ok { "ok" } else { "error" }.into() }
    }

    pub fn encode(&self) -> String {
        let mut s = String::new();
        if prometheus_client::encoding::text::encode(&mut s, &self.registry).is_err() {
            s.clear();
        }
        s
    }
}
