//! The `--memory-limit` guard: a soft limit on the heap, checked at unit boundaries.
//!
//! The binary counts the bytes its allocator has handed out (a counting allocator, `cap`) and installs the
//! count here with [`set_meter`]. Readers call [`admit`] before they take on a unit (a file read whole, a git
//! blob, an input named to `scan config`), giving what the unit will cost when known (its size). Over the
//! limit the unit is skipped: the caller turns the message into a warning naming the unit, the scan goes on,
//! and [`skipped`] makes the report say the scan is incomplete (a `memory-limit` gap). Nothing is freed or
//! aborted mid-unit: the guard degrades between units, it does not stop a unit that is already running.
//!
//! The count is the Rust heap only: memory C libraries allocate themselves (SQLite's page cache, zstd
//! windows) and file pages mapped in are not in it. Without a meter or a limit every unit is admitted.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static METER: OnceLock<fn() -> usize> = OnceLock::new();
/// The soft limit in bytes; 0 means none.
static LIMIT: AtomicU64 = AtomicU64::new(0);
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// Install the function that tells how many heap bytes are in use (once; later calls are ignored).
pub fn set_meter(meter: fn() -> usize) {
    let _ = METER.set(meter);
}

/// Set (or clear, with `None`) the soft limit.
pub fn set_limit(bytes: Option<u64>) {
    LIMIT.store(bytes.unwrap_or(0), Ordering::Relaxed);
}

/// The soft limit, when one is set.
pub fn limit() -> Option<u64> {
    Some(LIMIT.load(Ordering::Relaxed)).filter(|&l| l > 0)
}

/// Heap bytes in use, when a meter is installed.
pub fn in_use() -> Option<u64> {
    METER.get().map(|m| m() as u64)
}

/// May a unit that will take about `cost` more bytes (0 when unknown) start now? `Err` is the reason it
/// may not, for a warning naming the unit; the unit is counted in [`skipped`].
pub fn admit(cost: u64) -> Result<(), String> {
    let (Some(limit), Some(used)) = (limit(), in_use()) else {
        return Ok(());
    };
    if used.saturating_add(cost) <= limit {
        return Ok(());
    }
    SKIPPED.fetch_add(1, Ordering::Relaxed);
    let this = if cost > 0 { format!(" and this needs about {cost} more") } else { String::new() };
    Err(format!("{used} bytes of memory in use{this}, over --memory-limit {limit}; skipped"))
}

/// Units skipped by [`admit`] so far.
pub fn skipped() -> usize {
    SKIPPED.load(Ordering::Relaxed)
}

/// The default soft limit: three quarters of the memory limit of the process's cgroup (v2 `memory.max`,
/// v1 `memory.limit_in_bytes`), when one is set; `None` on a machine without one.
pub fn cgroup_default() -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(p).ok().and_then(|s| s.trim().parse::<u64>().ok());
    let limit =
        read("/sys/fs/cgroup/memory.max").or_else(|| read("/sys/fs/cgroup/memory/memory.limit_in_bytes"))?;
    // cgroup v1 writes "no limit" as a number near i64::MAX; v2 writes `max`, which does not parse.
    (limit < 1 << 50).then(|| limit / 4 * 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_over_the_limit_are_refused_and_counted() {
        // Without a meter everything is admitted, whatever the limit.
        set_limit(Some(1));
        assert!(admit(1 << 40).is_ok());
        set_meter(|| 1000);
        let before = skipped();
        assert!(admit(0).is_err());
        set_limit(Some(2000));
        assert!(admit(500).is_ok());
        let why = admit(1500).unwrap_err();
        assert!(
            why.contains("1000 bytes of memory in use") && why.contains("1500 more") && why.contains("2000")
        );
        assert_eq!(skipped(), before + 2);
        set_limit(None);
        assert!(admit(u64::MAX).is_ok());
    }
}
