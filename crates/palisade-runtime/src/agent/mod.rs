//! The node agent's loop: start the sensor, turn records into attributed events, hand each to the
//! consumer (recorder, rule engine), export metrics and the connection graph, stop cleanly.
//!
//! One consumer thread does enrichment, attribution and the consumer's work; the sensor's reader thread
//! only parses and queues. On shutdown (the flag, set by SIGTERM/SIGINT through [`signals`], or the
//! duration) the sensor is stopped first, which detaches the eBPF programs, then the records still queued
//! are processed, so nothing read is lost.

pub mod http;
pub mod metrics;
pub mod signals;

use crate::event::Event;
use crate::netflow::FlowLog;
use crate::sensor::enrich::Enricher;
use crate::sensor::{Sensor, SensorConfig, SensorError, Source};
use metrics::{Metrics, SourceLabels, TypeLabels};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Connections kept for the `/graph` endpoint.
const FLOW_LOG_CAPACITY: usize = 100_000;

/// How the agent runs.
#[derive(Debug, Clone, Default)]
pub struct AgentConfig {
    pub sensor: SensorConfig,
    /// Serve `/metrics` and `/healthz` here.
    pub metrics_addr: Option<SocketAddr>,
    /// Only events of processes in containers reach the consumer.
    pub containers_only: bool,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

#[derive(Debug, Error)]
pub enum AgentError {
    #[error(transparent)]
    Sensor(#[from] SensorError),
    #[error("metrics endpoint {addr}: {source}")]
    Metrics { addr: SocketAddr, source: std::io::Error },
    #[error("{0}")]
    Consumer(String),
}

/// What a run saw.
#[derive(Debug, Clone)]
pub struct Summary {
    pub source: Source,
    pub notes: Vec<String>,
    pub events: u64,
    pub kernel_drops: u64,
    pub queue_drops: u64,
    pub source_drops: u64,
    /// Syscall records the kernel did not send (nothing loaded reads them).
    pub kernel_filtered: u64,
    pub elapsed: Duration,
}

/// The agent's state shared with the consumer: metrics (for alert counters).
pub struct Context {
    pub metrics: Arc<Mutex<Metrics>>,
}

/// What the agent started with, for `on_start`.
pub struct Started<'a> {
    pub sensor: &'a Sensor,
    /// The address `/metrics` and `/healthz` are served on (the bound port when 0 was asked).
    pub metrics_addr: Option<SocketAddr>,
    /// The agent's metrics, for consumers that export counters of their own (enforcement).
    pub metrics: &'a Arc<Mutex<Metrics>>,
}

/// Run until `shutdown` turns true (or the configured duration passes). `on_start` sees the running sensor
/// (source and notes) before the first event; `on_event` gets every event, and an error from it stops the
/// agent.
pub fn run(
    config: &AgentConfig,
    shutdown: Arc<AtomicBool>,
    on_start: &mut dyn FnMut(&Started) -> Result<(), String>,
    on_event: &mut dyn FnMut(&Event, &Context) -> Result<(), String>,
) -> Result<Summary, AgentError> {
    let mut sensor = Sensor::start(&config.sensor)?;
    for note in &sensor.notes {
        tracing::warn!("{note}");
    }
    let metrics = Arc::new(Mutex::new(Metrics::new()));
    if let Ok(m) = metrics.lock() {
        m.source.get_or_create(&SourceLabels { source: sensor.source.name().into() }).set(1);
    }
    let healthy = Arc::new(AtomicBool::new(true));
    // The newest connections, for `/graph`.
    let flows = Arc::new(Mutex::new(FlowLog::new(FLOW_LOG_CAPACITY)));
    let server = match config.metrics_addr {
        Some(addr) => Some(
            http::serve(addr, metrics.clone(), healthy.clone(), flows.clone())
                .map_err(|source| AgentError::Metrics { addr, source })?,
        ),
        None => None,
    };
    on_start(&Started { sensor: &sensor, metrics_addr: server.as_ref().map(|s| s.addr), metrics: &metrics })
        .map_err(AgentError::Consumer)?;
    let running = Instant::now();
    let cx = Context { metrics: metrics.clone() };
    let mut enricher = Enricher::new();
    let mut events = 0u64;
    let mut last_sync = Instant::now();
    let mut deliver = |record: &crate::sensor::record::Record, events: &mut u64| -> Result<(), AgentError> {
        let Some(event) = enricher.event(record) else { return Ok(()) };
        if config.containers_only && event.container.is_none() {
            return Ok(());
        }
        *events += 1;
        if let Ok(m) = metrics.lock() {
            m.events.get_or_create(&TypeLabels { r#type: event.syscall().to_string() }).inc();
        }
        if matches!(event.kind, crate::event::EventKind::Connect(_) | crate::event::EventKind::Accept(_))
            && let Ok(mut f) = flows.lock()
        {
            f.push(&event);
        }
        on_event(&event, &cx).map_err(AgentError::Consumer)
    };
    let result = loop {
        if shutdown.load(Ordering::Relaxed) || config.duration.is_some_and(|d| running.elapsed() >= d) {
            break Ok(());
        }
        if let Some(record) = sensor.recv_timeout(Duration::from_millis(100))
            && let Err(e) = deliver(&record, &mut events)
        {
            break Err(e);
        }
        if last_sync.elapsed() > Duration::from_millis(250) {
            last_sync = Instant::now();
            if let Ok(mut m) = metrics.lock() {
                m.sync(&sensor.stats);
            }
        }
    };
    healthy.store(false, Ordering::Relaxed);
    sensor.stop();
    if result.is_ok() {
        for record in sensor.drain() {
            deliver(&record, &mut events)?;
        }
    }
    result?;
    let stats = &sensor.stats;
    Ok(Summary {
        source: sensor.source,
        notes: sensor.notes.clone(),
        events,
        kernel_drops: stats.kernel_drops.load(Ordering::Relaxed),
        queue_drops: stats.queue_drops.load(Ordering::Relaxed),
        source_drops: stats.source_drops.load(Ordering::Relaxed),
        kernel_filtered: stats.kernel_filtered.load(Ordering::Relaxed),
        elapsed: running.elapsed(),
    })
}
