//! Shared helpers for the corpus tests: locate /work/shared/data and read tar.gz archives.

#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

/// `$CARGO_MANIFEST_DIR/../../../shared/data`, or `None` (with a printed message) when absent.
pub fn data_dir(what: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        println!("SKIP {what}: third-party data not found at {}", p.display());
        None
    }
}

/// Every regular file of a .tar.gz as (path, bytes).
pub fn read_tar_gz(path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for entry in ar.entries().unwrap_or_else(|e| panic!("read {}: {e}", path.display())) {
        let mut entry = entry.unwrap_or_else(|e| panic!("entry: {e}"));
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map(|p| p.to_string_lossy().to_string()).unwrap_or_default();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap_or_else(|e| panic!("read {name}: {e}"));
        out.push((name, data));
    }
    out
}
