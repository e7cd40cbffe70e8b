//! Continuous registry watching (`palisade watch`) and what `registry scan` / `rescan` share with it.
//!
//! - [`notify`]: notifications of new findings above a threshold (JSON webhook, Slack, stdout), retried
//!   with backoff, undelivered ones kept in a dead-letter log.
//! - [`events`]: the Docker distribution notification envelope, reduced to manifest pushes.
//! - [`server`]: `POST /events` into a bounded queue, `/healthz`, `/readyz`, `/metrics`, graceful shutdown.
//! - [`metrics`]: the Prometheus metrics.
//!
//! The scan loop itself (polling, claiming rows of the store's shared queue, pulling, re-matching) is the
//! `watch` command of the binary, which owns the image pipeline.

pub mod events;
pub mod metrics;
pub mod notify;
pub mod server;

pub use notify::{Delivery, Notification, Notifier, Redelivery, Target};
