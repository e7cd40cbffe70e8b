//! Live counters for long work. Stages bump them; the CLI draws them on stderr when it is a terminal.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Shared progress counters. All methods are cheap and lock-free except [`Progress::set_stage`].
#[derive(Debug, Default)]
pub struct Progress {
    pub layers_total: AtomicU64,
    pub layers_done: AtomicU64,
    pub files_seen: AtomicU64,
    pub bytes_read: AtomicU64,
    pub packages_found: AtomicU64,
    stage: Mutex<String>,
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// What is happening now, e.g. `pulling layer 3/7` or `reading rootfs`.
    pub fn set_stage(&self, s: impl Into<String>) {
        *self.stage.lock().unwrap_or_else(|e| e.into_inner()) = s.into();
    }

    pub fn stage(&self) -> String {
        self.stage.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
