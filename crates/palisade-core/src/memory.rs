//! The `--memory-limit` guard: a soft limit on the process's memory, checked at unit boundaries.
//!
//! The binary installs two meters with [`set_meters`]: a quick one (resident anonymous memory, which the
//! kernel keeps as a counter) and an exact one (the bytes the C allocator has handed out and not taken back,
//! for every user of it, Rust and C libraries alike). Readers call [`admit`] before they take on a unit (a
//! file read whole, a git blob, an input named to `scan config`), giving what the unit will cost when known
//! (its size). The quick meter decides when it is under the limit; over it, the exact one decides (resident
//! memory also holds freed memory the allocator keeps for reuse). Over the limit the unit is skipped: the
//! caller turns the message into a warning naming the unit, the scan goes on, and [`skipped`] makes the
//! report say the scan is incomplete (a `memory-limit` gap). Nothing is freed or aborted mid-unit: the guard
//! degrades between units, it does not stop a unit that is already running. Nothing is counted per
//! allocation. Without a meter or a limit every unit is admitted.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// What the binary measures memory with, in bytes.
#[derive(Clone, Copy)]
struct Meters {
    quick: fn() -> Option<u64>,
    exact: Option<fn() -> Option<u64>>,
}

static METERS: OnceLock<Meters> = OnceLock::new();
/// The soft limit in bytes; 0 means none.
static LIMIT: AtomicU64 = AtomicU64::new(0);
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// Install the meters (once; later calls are ignored): `quick`, cheap enough to call before every unit and
/// never below what `exact` says, and `exact`, called only when `quick` is over the limit. Either may answer
/// `None` (not measurable here).
pub fn set_meters(quick: fn() -> Option<u64>, exact: Option<fn() -> Option<u64>>) {
    let _ = METERS.set(Meters { quick, exact });
}

/// Set (or clear, with `None`) the soft limit.
pub fn set_limit(bytes: Option<u64>) {
    LIMIT.store(bytes.unwrap_or(0), Ordering::Relaxed);
}

/// The soft limit, when one is set.
pub fn limit() -> Option<u64> {
    Some(LIMIT.load(Ordering::Relaxed)).filter(|&l| l > 0)
}

/// Memory in use by the exact meter's measure, else the quick one's, when a meter is installed.
pub fn in_use() -> Option<u64> {
    let m = METERS.get()?;
    m.exact.and_then(|f| f()).or_else(|| (m.quick)())
}

/// May a unit that will take about `cost` more bytes (0 when unknown) start now? `Err` is the reason it
/// may not, for a warning naming the unit; the unit is counted in [`skipped`].
pub fn admit(cost: u64) -> Result<(), String> {
    let (Some(limit), Some(m)) = (limit(), METERS.get()) else {
        return Ok(());
    };
    let fits = |used: Option<u64>| used.is_none_or(|u| u.saturating_add(cost) <= limit);
    let quick = (m.quick)();
    if quick.is_some() && fits(quick) {
        return Ok(());
    }
    let exact = m.exact.and_then(|f| f());
    let used = match exact.or(quick) {
        Some(used) if !fits(Some(used)) => used,
        _ => return Ok(()),
    };
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
        // resident memory says 5000, of which the allocator holds 1000 in use
        set_meters(|| Some(5000), Some(|| Some(1000)));
        let before = skipped();
        assert!(admit(0).is_err());
        set_limit(Some(6000));
        assert!(admit(500).is_ok(), "the quick meter decides under the limit");
        set_limit(Some(2000));
        assert!(admit(500).is_ok(), "over it, the exact meter decides");
        let why = admit(1500).unwrap_err();
        assert!(
            why.contains("1000 bytes of memory in use") && why.contains("1500 more") && why.contains("2000")
        );
        assert_eq!(skipped(), before + 2);
        set_limit(None);
        assert!(admit(u64::MAX).is_ok());
    }
}
