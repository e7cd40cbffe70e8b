//! Alerts and where they go.
//!
//! An [`Alert`] has Falco's JSON output shape (`time`, `rule`, `priority`, `output`, `output_fields`,
//! `tags`, `hostname`, `source`), so tools that read Falco's JSON read Palisade's. [`Outputs`] fans an
//! alert out to the configured sinks (one file each: [`stdout`], [`file`], [`syslog`], [`webhook`], with [`slack`] bodies if asked) after
//! the minimum priority and the per-rule rate limit ([`ratelimit`]), counting everything in
//! [`metrics`].

pub mod file;
pub mod metrics;
pub mod ratelimit;
pub mod slack;
pub mod stdout;
pub mod syslog;
pub mod webhook;

use crate::rules::Priority;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// One rule match, as Falco prints it with `json_output: true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// RFC 3339 UTC time of the event, nanosecond precision.
    pub time: String,
    pub rule: String,
    /// Falco's priority name (`Critical`, `Warning`, `Notice`, …).
    pub priority: String,
    /// `HH:MM:SS.nnnnnnnnn: Priority rendered-output`, as Falco writes it.
    pub output: String,
    /// Every `%field` of the output template with its value (`null` when absent), plus the container and
    /// pod fields.
    pub output_fields: BTreeMap<String, serde_json::Value>,
    pub tags: Vec<String>,
    pub hostname: String,
    pub source: String,
}

impl Alert {
    /// One-line JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// An output failed: which one and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{output} output: {message}")]
pub struct OutputError {
    pub output: String,
    pub message: String,
}

impl OutputError {
    pub fn new(output: &str, message: impl std::fmt::Display) -> Self {
        OutputError { output: output.to_string(), message: message.to_string() }
    }
}

/// Somewhere alerts go.
pub trait Sink: Send {
    fn name(&self) -> &str;
    fn send(&mut self, alert: &Alert) -> Result<(), OutputError>;
    /// Deliver what is pending (asynchronous outputs) before the process ends.
    fn close(&mut self) {}
}

/// The configured outputs, with priority filter, rate limit and counters.
pub struct Outputs {
    sinks: Vec<Box<dyn Sink>>,
    limiter: Option<ratelimit::RateLimiter>,
    min_priority: Priority,
    pub metrics: Arc<Metrics>,
}

pub use metrics::Metrics;

/// What happened to one alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Emitted {
    Sent,
    BelowPriority,
    RateLimited,
    /// Sent, but some outputs failed (each error is listed).
    Failed(Vec<OutputError>),
}

impl Outputs {
    pub fn new(metrics: Arc<Metrics>) -> Outputs {
        Outputs { sinks: Vec::new(), limiter: None, min_priority: Priority::Debug, metrics }
    }

    pub fn add(&mut self, sink: Box<dyn Sink>) {
        self.sinks.push(sink);
    }

    /// Keep only alerts at least this severe.
    pub fn set_min_priority(&mut self, p: Priority) {
        self.min_priority = p;
    }

    /// At most `rate` alerts per second per rule, bursts of `burst`.
    pub fn set_rate_limit(&mut self, rate: f64, burst: f64) {
        self.limiter = Some(ratelimit::RateLimiter::new(rate, burst));
    }

    /// Send an alert to every output.
    pub fn emit(&mut self, alert: &Alert) -> Emitted {
        let priority = Priority::parse(&alert.priority).unwrap_or(Priority::Debug);
        if priority > self.min_priority {
            return Emitted::BelowPriority;
        }
        if let Some(l) = &mut self.limiter
            && !l.allow(&alert.rule, Instant::now())
        {
            self.metrics.rate_limited.get_or_create(&metrics::RuleLabels { rule: alert.rule.clone() }).inc();
            return Emitted::RateLimited;
        }
        self.metrics
            .alerts
            .get_or_create(&metrics::AlertLabels {
                rule: alert.rule.clone(),
                priority: alert.priority.clone(),
            })
            .inc();
        let mut errors = Vec::new();
        for s in &mut self.sinks {
            if let Err(e) = s.send(alert) {
                self.metrics
                    .output_errors
                    .get_or_create(&metrics::OutputLabels { output: s.name().to_string() })
                    .inc();
                errors.push(e);
            }
        }
        if errors.is_empty() { Emitted::Sent } else { Emitted::Failed(errors) }
    }

    /// Flush asynchronous outputs.
    pub fn close(&mut self) {
        for s in &mut self.sinks {
            s.close();
        }
    }
}
