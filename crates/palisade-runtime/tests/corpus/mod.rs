//! Shared helpers for the corpus tests: unpack an archive of /work/shared/data/runtime into a
//! temporary directory (removed on drop), read `labels.jsonl`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Where the corpora live (`PALISADE_RUNTIME_CORPUS` overrides).
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("PALISADE_RUNTIME_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/data/runtime"))
}

/// Unpack `name`, or print why not and return `None` (the test then skips).
pub fn extract(name: &str) -> Option<tempfile::TempDir> {
    let path = corpus_dir().join(name);
    let Ok(f) = std::fs::File::open(&path) else {
        println!("SKIP: corpus {} is absent", path.display());
        return None;
    };
    let dir = tempfile::tempdir().ok()?;
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    if let Err(e) = ar.unpack(dir.path()) {
        println!("SKIP: cannot unpack {}: {e}", path.display());
        return None;
    }
    Some(dir)
}

/// One JSON object per line.
pub fn labels(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
