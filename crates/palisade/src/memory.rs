//! The heap count behind `--memory-limit` (see `palisade_core::memory` and docs/limits.md).
//!
//! The global allocator is wrapped in `cap::Cap`, which counts the bytes in use (the crate's `GlobalAlloc`
//! implementation; none of ours). The count is installed as `palisade_core::memory`'s meter and the soft
//! limit set from `--memory-limit`, else three quarters of the cgroup's limit. There is no hard cap: over
//! one, `cap` makes the allocation fail, and a failed allocation aborts the process (`memory allocation of N
//! bytes failed`) because stable Rust has no way to turn it into an error (`set_alloc_error_hook` and
//! `-Zoom=panic` are nightly-only). The soft limit, checked between units, is what degrades cleanly.

use std::alloc::System;

/// The process allocator, counted. (When the binary uses another allocator, wrap that one: `Cap<A>`.)
#[global_allocator]
static ALLOCATOR: cap::Cap<System> = cap::Cap::new(System, usize::MAX);

/// Install the meter and the soft limit (`--memory-limit`, else the cgroup default).
pub fn init(memory_limit: Option<u64>) {
    palisade_core::memory::set_meter(|| ALLOCATOR.allocated());
    palisade_core::memory::set_limit(memory_limit.or_else(palisade_core::memory::cgroup_default));
}
