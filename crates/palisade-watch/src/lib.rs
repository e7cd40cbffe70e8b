//! Continuous registry watching (`palisade watch`) and what `registry scan` / `rescan` share with it.
//!
//! - [`notify`]: notifications of new findings above a threshold (JSON webhook, Slack, stdout), retried
//!   with backoff, undelivered ones kept in a dead-letter log.

pub mod notify;

pub use notify::{Delivery, Notification, Notifier, Target};
