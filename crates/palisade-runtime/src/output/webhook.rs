//! Alerts POSTed as JSON to an HTTP(S) endpoint, from a background thread with a bounded queue.
//!
//! `send` never blocks the caller: when the queue is full the alert is dropped and counted. The worker
//! retries a failed delivery (connection error or a 5xx/429 answer) with exponential backoff, then gives
//! up on that alert and counts an error.

use super::metrics::{Metrics, OutputLabels};
use super::{Alert, OutputError, Sink};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// Webhook settings.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    /// Alerts waiting for delivery before new ones are dropped.
    pub queue: usize,
    /// Attempts per alert (1 = no retry).
    pub attempts: u32,
    /// First retry delay; doubled on each retry.
    pub backoff: Duration,
    pub timeout: Duration,
    /// Send Slack-compatible bodies ([`super::slack`]) instead of the alert's JSON.
    pub slack: bool,
}

impl WebhookConfig {
    pub fn new(url: impl Into<String>) -> Self {
        WebhookConfig {
            url: url.into(),
            queue: 1024,
            attempts: 4,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(5),
            slack: false,
        }
    }
}

pub struct Webhook {
    slack: bool,
    tx: Option<SyncSender<String>>,
    worker: Option<JoinHandle<()>>,
    metrics: Arc<Metrics>,
}

fn deliver(rx: Receiver<String>, cfg: WebhookConfig, metrics: Arc<Metrics>) {
    let agent = palisade_core::http::agent(cfg.timeout);
    let labels = OutputLabels { output: "webhook".into() };
    for body in rx {
        let mut delay = cfg.backoff;
        let mut delivered = false;
        for attempt in 1..=cfg.attempts.max(1) {
            let retry =
                match agent.post(&cfg.url).header("Content-Type", "application/json").send(body.as_str()) {
                    Ok(resp) => {
                        let code = resp.status().as_u16();
                        if (200..300).contains(&code) {
                            delivered = true;
                            break;
                        }
                        code >= 500 || code == 429
                    }
                    Err(_) => true,
                };
            if !retry || attempt == cfg.attempts.max(1) {
                break;
            }
            std::thread::sleep(delay);
            delay = delay.saturating_mul(2);
        }
        if !delivered {
            metrics.output_errors.get_or_create(&labels).inc();
        }
    }
}

impl Webhook {
    pub fn start(cfg: WebhookConfig, metrics: Arc<Metrics>) -> Result<Webhook, OutputError> {
        if !(cfg.url.starts_with("http://") || cfg.url.starts_with("https://")) {
            return Err(OutputError::new(
                "webhook",
                format!("URL must start with http:// or https://: {}", cfg.url),
            ));
        }
        let slack = cfg.slack;
        let (tx, rx) = sync_channel(cfg.queue.max(1));
        let m = metrics.clone();
        let worker = std::thread::Builder::new()
            .name("palisade-webhook".into())
            .spawn(move || deliver(rx, cfg, m))
            .map_err(|e| OutputError::new("webhook", e))?;
        Ok(Webhook { slack, tx: Some(tx), worker: Some(worker), metrics })
    }
}

impl Sink for Webhook {
    fn name(&self) -> &str {
        "webhook"
    }

    fn send(&mut self, alert: &Alert) -> Result<(), OutputError> {
        let Some(tx) = &self.tx else { return Err(OutputError::new("webhook", "closed")) };
        let body = if self.slack { super::slack::payload(alert) } else { alert.to_json() };
        match tx.try_send(body) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                self.metrics.output_dropped.get_or_create(&OutputLabels { output: "webhook".into() }).inc();
                Err(OutputError::new("webhook", "queue full, alert dropped"))
            }
            Err(TrySendError::Disconnected(_)) => Err(OutputError::new("webhook", "delivery thread stopped")),
        }
    }

    /// Wait until every queued alert was delivered or given up.
    fn close(&mut self) {
        self.tx.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.close();
    }
}
