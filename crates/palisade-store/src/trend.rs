//! Findings over time, from the findings history (`finding_history`): each finding opens when first seen and
//! closes when fixed. One point per moment something opened or closed (a re-match writes all its changes
//! with one time), holding the open findings of every stored image by severity.
//!
//! The history keeps the last fix of each finding only: a finding fixed and then reappeared counts as open
//! in between, and fixed findings older than the retention (`fixed_history_days`) are gone from every point.

use crate::StoreError;
use crate::store::Store;
use palisade_core::trend::TrendPoint;
use sqlx::Row;
use std::collections::BTreeMap;

/// Index of a stored severity in a point's counts: critical, high, medium, low, unknown.
fn slot(severity: &str) -> usize {
    match severity {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

impl Store {
    /// Open findings of all stored images over time, oldest first (see the module documentation).
    pub fn findings_over_time(&self) -> Result<Vec<TrendPoint>, StoreError> {
        let e = || self.sql_err("reading the findings history");
        // (time) → (opened per severity, fixed per severity)
        let mut events: BTreeMap<String, ([i64; 5], [i64; 5])> = BTreeMap::new();
        for (sql, fixed) in [
            (
                "SELECT severity, first_seen, COUNT(*) FROM finding_history GROUP BY severity, first_seen",
                false,
            ),
            (
                "SELECT severity, fixed_at, COUNT(*) FROM finding_history WHERE state = 'fixed' \
                 AND fixed_at IS NOT NULL GROUP BY severity, fixed_at",
                true,
            ),
        ] {
            for r in self.fetch_all("reading the findings history", sql.into(), |q| q)? {
                let severity: String = r.try_get(0).map_err(e())?;
                let at: String = r.try_get(1).map_err(e())?;
                let n: i64 = r.try_get(2).map_err(e())?;
                let ev = events.entry(at).or_default();
                if fixed {
                    ev.1[slot(&severity)] += n;
                } else {
                    ev.0[slot(&severity)] += n;
                }
            }
        }
        let mut open = [0i64; 5];
        let mut out = Vec::with_capacity(events.len());
        for (at, (opened, fixed)) in events {
            for i in 0..5 {
                open[i] += opened[i] - fixed[i];
            }
            out.push(TrendPoint {
                at,
                critical: open[0],
                high: open[1],
                medium: open[2],
                low: open[3],
                unknown: open[4],
                opened: opened.iter().sum(),
                fixed: fixed.iter().sum(),
            });
        }
        Ok(out)
    }
}
