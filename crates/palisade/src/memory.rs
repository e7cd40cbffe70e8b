//! The meters behind `--memory-limit` (see `palisade_core::memory` and docs/limits.md).
//!
//! Nothing is counted per allocation: a counting global allocator put an atomic read-modify-write on every
//! allocation and free (about 3.6 ns each here, 27 million allocations for the policy benchmark, and one
//! cache line shared by every thread), which the policy engine's latency budget cannot spare. Instead:
//! - quick: the process's resident anonymous memory (`RssAnon` of `/proc/self/status`, a counter the kernel
//!   keeps), at most one read every [`QUICK_MAX_AGE`]; it holds every page the allocator has touched, in
//!   use or freed and kept, so under the limit it is enough to admit a unit;
//! - exact, only when the quick figure is over the limit: the bytes glibc's allocator has handed out and
//!   not taken back (`mallinfo2`: in-use bytes of its arenas plus its mmapped chunks), which counts memory C
//!   libraries allocate (SQLite's page cache, zstd windows) as well as Rust's, and not the freed memory
//!   the allocator keeps for reuse.
//!
//! The soft limit is `--memory-limit`, else three quarters of the cgroup's limit; see `init`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How old a quick reading may be before it is taken again.
const QUICK_MAX_AGE: Duration = Duration::from_millis(2);

/// Install the meters and the soft limit (`--memory-limit`, else the cgroup default).
pub fn init(memory_limit: Option<u64>) {
    palisade_core::memory::set_meters(quick, exact());
    palisade_core::memory::set_limit(memory_limit.or_else(palisade_core::memory::cgroup_default));
}

/// Give the heap's free pages back to the kernel. glibc keeps freed memory for reuse; a long-running
/// service calls this after a start-up that allocated and freed a lot (the runtime agent parses the kernel's
/// whole BTF, tens of MB, to load its programs), so its resident size is what it uses.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` takes a size by value and no pointers; glibc documents it as thread-safe (it
        // locks each arena while it returns that arena's free pages with madvise). It frees nothing that is
        // in use, so no memory of ours changes.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// Resident anonymous memory in bytes, re-read at most every [`QUICK_MAX_AGE`].
fn quick() -> Option<u64> {
    static LAST: Mutex<Option<(Instant, u64)>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((at, bytes)) = *last
        && at.elapsed() < QUICK_MAX_AGE
    {
        return Some(bytes);
    }
    let bytes = rss_anon(&std::fs::read_to_string("/proc/self/status").ok()?)?;
    *last = Some((Instant::now(), bytes));
    Some(bytes)
}

/// `RssAnon` of a `/proc/PID/status` text, in bytes.
fn rss_anon(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("RssAnon:"))?;
    let kib = line.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    Some(kib * 1024)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exact() -> Option<fn() -> Option<u64>> {
    fn in_use() -> Option<u64> {
        // SAFETY: `mallinfo2` takes no arguments and returns a plain struct by value; glibc (2.33 and later,
        // which the `libc` crate's binding requires) documents it as thread-safe: it locks each arena while
        // it sums it. No memory of ours is read or written through it.
        let info = unsafe { libc::mallinfo2() };
        Some((info.uordblks as u64).saturating_add(info.hblkhd as u64))
    }
    Some(in_use)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn exact() -> Option<fn() -> Option<u64>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_anon_is_read_from_the_status_text() {
        let status = "Name:\tpalisade\nVmRSS:\t   51200 kB\nRssAnon:\t   40960 kB\nRssFile:\t 10240 kB\n";
        assert_eq!(rss_anon(status), Some(40 << 20));
        assert_eq!(rss_anon("Name:\tx\n"), None);
        assert_eq!(rss_anon("RssAnon:\tlots\n"), None);
    }

    #[test]
    fn both_meters_see_a_large_allocation() {
        let before_quick = rss_anon(&std::fs::read_to_string("/proc/self/status").unwrap()).unwrap();
        let before_exact = exact().map(|f| f().unwrap());
        let block = vec![1u8; 64 << 20];
        std::hint::black_box(&block);
        let after_quick = rss_anon(&std::fs::read_to_string("/proc/self/status").unwrap()).unwrap();
        assert!(after_quick >= before_quick + (60 << 20), "{before_quick} -> {after_quick}");
        if let (Some(before), Some(f)) = (before_exact, exact()) {
            let after = f().unwrap();
            assert!(after >= before + (64 << 20), "{before} -> {after}");
        }
        drop(block);
    }
}
