//! The layer reader (tar, gzip, zstd): any bytes as one layer blob; every file is wanted.
#![no_main]
use libfuzzer_sys::fuzz_target;
use palisade_artifact::{FileMeta, FileSink, Options, read_layer_blob};
use palisade_core::Warnings;

struct All;

impl FileSink for All {
    fn wants(&self, _meta: &FileMeta) -> bool {
        true
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
