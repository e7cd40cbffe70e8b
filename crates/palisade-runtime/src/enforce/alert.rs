//! Enforcement's alerts, in the rule engine's shape ([`Alert`]) so they go to the same outputs and the same
//! `palisade_runtime_alerts_total{rule,priority}` counter. The channel to the outputs is bounded: when
//! nobody drains it fast enough an alert is dropped and counted, never waited for.

use crate::event::Container;
use crate::output::Alert;
use crate::rules::fields::{evt_time, iso_time};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::{SystemTime, UNIX_EPOCH};

/// Rule names of enforcement's alerts.
pub const EXEC_DENIED: &str = "Palisade exec denied";
pub const OPEN_DENIED: &str = "Palisade open denied";
pub const KILLED: &str = "Palisade process killed";
pub const MONITORED: &str = "Palisade enforcement would deny (monitor)";
pub const DEADLINE: &str = "Palisade enforcement deadline exceeded";
pub const QUEUE_FULL: &str = "Palisade enforcement queue full";
pub const FIREWALL_REFUSED: &str = "Palisade firewall refused connection";
pub const FIREWALL_OUTSIDE: &str = "Palisade firewall connection outside policy (monitor)";

/// What one alert says.
pub struct Facts<'a> {
    pub rule: &'static str,
    pub priority: &'static str,
    /// The decider's rule, or the mechanism's reason.
    pub because: &'a str,
    pub action: &'a str,
    pub pid: u32,
    pub path: &'a str,
    pub container: Option<&'a Container>,
}

pub struct AlertSink {
    tx: SyncSender<Alert>,
    hostname: String,
    pub dropped: AtomicU64,
}

impl AlertSink {
    pub fn new(tx: SyncSender<Alert>) -> AlertSink {
        AlertSink { tx, hostname: crate::rules::local_hostname(), dropped: AtomicU64::new(0) }
    }

    pub fn send(&self, f: Facts<'_>) {
        let ns = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        let id = f.container.map(|c| c.id.chars().take(12).collect::<String>());
        let name = f.container.and_then(|c| c.name.clone());
        let mut fields = BTreeMap::new();
        fields.insert("container.id".to_string(), id.clone().map_or(Value::Null, Value::String));
        fields.insert("container.name".to_string(), name.clone().map_or(Value::Null, Value::String));
        fields.insert("proc.pid".to_string(), Value::String(f.pid.to_string()));
        fields.insert("fd.name".to_string(), Value::String(f.path.to_string()));
        fields.insert("palisade.action".to_string(), Value::String(f.action.to_string()));
        fields.insert("palisade.reason".to_string(), Value::String(f.because.to_string()));
        let text = format!(
            "{} (action={} path={} pid={} container_id={} container_name={} reason={})",
            f.rule,
            f.action,
            f.path,
            f.pid,
            id.as_deref().unwrap_or("<NA>"),
            name.as_deref().unwrap_or("<NA>"),
            f.because
        );
        let alert = Alert {
            time: iso_time(ns),
            rule: f.rule.to_string(),
            priority: f.priority.to_string(),
            output: format!("{}: {} {text}", evt_time(ns), f.priority),
            output_fields: fields,
            tags: vec!["palisade".into(), "palisade_enforcement".into()],
            hostname: self.hostname.clone(),
            source: "syscall".into(),
        };
        if self.tx.try_send(alert).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
