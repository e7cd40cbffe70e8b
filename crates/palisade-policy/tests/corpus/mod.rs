//! Shared by the conformance tests: unpack a policy corpus from /work/shared/data/policy once into
//! `target/policy-corpora/` and read its `labels.jsonl`.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The unpacked top-level folder of `archive` (e.g. `gatekeeper-general.tar.gz`), or `None` (with a
/// message) when the shared data is absent.
pub fn unpack(archive: &str) -> Option<PathBuf> {
    unpack_from("policy", archive)
}

/// [`unpack`] for an archive in another folder of the shared data (`k8s`, ...).
pub fn unpack_from(folder: &str, archive: &str) -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = manifest.join("../../../shared/data").join(folder).join(archive);
    if !src.is_file() {
        eprintln!("skipping: {} is absent", src.display());
        return None;
    }
    let name = archive.trim_end_matches(".tar.gz");
    let cache = manifest.join("../../target/policy-corpora");
    let dir = cache.join(format!("{name}.{}", std::fs::metadata(&src).ok()?.len()));
    if !dir.is_dir() {
        // Tests run in parallel processes: unpack into a private folder, then rename it into place.
        let tmp = cache.join(format!(".{name}.{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let f = std::fs::File::open(&src).unwrap();
        tar::Archive::new(flate2::read::GzDecoder::new(f)).unpack(&tmp).unwrap();
        if std::fs::rename(&tmp, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    // The archive's single top-level folder.
    let top = std::fs::read_dir(&dir).ok()?.flatten().map(|e| e.path()).find(|p| p.is_dir())?;
    Some(top)
}

/// The labels of an unpacked corpus.
#[allow(dead_code)]
pub fn labels(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("labels.jsonl")).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}
