//! The layer reader (tar, gzip, zstd): any bytes as one layer blob, streamed and as a seekable local blob;
//! every file is wanted, and large files of a seekable blob are probed (kept when their first byte is odd).
#![no_main]
use libfuzzer_sys::fuzz_target;
use palisade_artifact::{FileMeta, FileSink, Options, Probe, read_layer_blob};
use palisade_core::Warnings;

struct All;

impl FileSink for All {
    fn wants(&self, _meta: &FileMeta) -> bool {
        true
    }
    fn wants_after_probe(&self, meta: &FileMeta, probe: &dyn Probe) -> bool {
        let tail = probe.read_at(meta.size.saturating_sub(16), 64);
        probe.read_at(0, 4).is_some_and(|h| h.first().is_some_and(|b| b % 2 == 1)) || tail.is_none()
    }
    fn accept(&self, _meta: &FileMeta, _data: &[u8], _warnings: &Warnings) {}
}

fuzz_target!(|data: &[u8]| {
    let mut opts = Options::default();
    // Keep one run small: the bounds are what is under test, not the machine's memory.
    opts.limits.max_layer_bytes = 64 << 20;
    opts.limits.ratio_floor = 16 << 20;
    opts.limits.max_entries = 100_000;
    read_layer_blob(data, &opts, &All, &Warnings::new());
});
