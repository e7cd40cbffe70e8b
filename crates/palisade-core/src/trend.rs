//! Findings over time: what the image store's findings history gives (`Store::findings_over_time`) and the
//! risk report draws (`palisade report --store`).

use serde::{Deserialize, Serialize};

/// The open findings of every stored image just after one re-match (or scan) that changed them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Open findings by severity at that time.
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub unknown: i64,
    /// Findings opened (first seen or reappeared) and fixed at that time.
    pub opened: i64,
    pub fixed: i64,
}

impl TrendPoint {
    /// Open findings of every severity.
    pub fn open(&self) -> i64 {
        self.critical + self.high + self.medium + self.low + self.unknown
    }
}
