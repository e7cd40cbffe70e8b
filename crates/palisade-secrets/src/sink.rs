//! [`SecretSink`]: the secret scanner as a consumer of the artifact file stream.
//!
//! `wants` is a metadata-only filter (config allow paths, empty files, file types that are
//! never text such as images, archives and compiled objects — except file-name rules like `*.p12`).
//! `accept` scans the content and collects findings with their layer; it may run on several threads.
//! [`SecretSink::finish`] then asks the final file tree which later layer deleted or replaced each file
//! version, so secrets that are invisible in the final filesystem but still extractable from a lower
//! layer are reported with `deleted_in_layer`.

use crate::scanner::{RawMatch, Scanner};
use palisade_artifact::{FileMeta, FileSink, FileTree};
use palisade_core::Warnings;
use palisade_core::findings::secret::SecretFinding;
use std::sync::Mutex;

/// Which later layer removed a (path, layer) file version. Implemented by [`FileTree`].
pub trait LayerHistory {
    fn removed_in(&self, path: &str, layer: Option<u32>) -> Option<u32>;
}

impl LayerHistory for FileTree {
    fn removed_in(&self, path: &str, layer: Option<u32>) -> Option<u32> {
        FileTree::removed_in(self, path, layer)
    }
}

/// Extensions of files that are never worth reading for secrets (binary formats).
const SKIP_EXT: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "tif", "tiff", "woff", "woff2", "ttf", "otf", "eot",
    "mp3", "mp4", "ogg", "wav", "avi", "mov", "pdf", "zip", "gz", "tgz", "xz", "bz2", "zst", "7z", "jar",
    "war", "ear", "class", "pyc", "pyo", "so", "a", "o", "dll", "exe", "dylib", "wasm", "db", "sqlite",
    "rlib", "deb", "rpm", "apk",
];

/// Collects secret findings from a file stream. See the module docs.
pub struct SecretSink<'a> {
    scanner: &'a Scanner,
    found: Mutex<Vec<SecretFinding>>,
}

impl<'a> SecretSink<'a> {
    pub fn new(scanner: &'a Scanner) -> Self {
        SecretSink { scanner, found: Mutex::new(Vec::new()) }
    }

    /// The findings, with `deleted_in_layer` filled from `tree`, sorted by path, line, column and rule,
    /// duplicates (same rule, place and layer) removed.
    pub fn finish<T: LayerHistory + ?Sized>(self, tree: &T) -> Vec<SecretFinding> {
        let mut found = self.found.into_inner().unwrap_or_else(|e| e.into_inner());
        for f in &mut found {
            if f.layer.is_some() {
                f.deleted_in_layer = tree.removed_in(&f.path, f.layer);
            }
        }
        found.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule_id, a.layer)
                .cmp(&(&b.path, b.line, b.column, &b.rule_id, b.layer))
        });
        found.dedup_by(|a, b| {
            a.path == b.path
                && a.line == b.line
                && a.column == b.column
                && a.rule_id == b.rule_id
                && a.layer == b.layer
        });
        found
    }
}

/// Turn a raw match into a finding for `path` (and image `layer`).
pub fn to_finding(m: RawMatch, path: &str, layer: Option<u32>) -> SecretFinding {
    SecretFinding {
        rule_id: m.rule_id.to_string(),
        title: m.title.to_string(),
        severity: m.severity,
        path: path.to_string(),
        line: m.line,
        column: m.column,
        layer,
        deleted_in_layer: None,
        commit: None,
        redacted: m.redacted,
        fingerprint: m.fingerprint,
        suppressed: m.suppressed,
    }
}

/// True for file names whose extension marks a binary format never scanned (images, archives, objects).
pub fn skip_by_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((_, ext)) => SKIP_EXT.iter().any(|e| e.eq_ignore_ascii_case(ext)),
        None => false,
    }
}

impl FileSink for SecretSink<'_> {
    fn wants(&self, meta: &FileMeta) -> bool {
        if self.scanner.path_allowed(meta.path) {
            return false;
        }
        if self.scanner.path_is_secret_file(meta.path) {
            return true;
        }
        // No size limit here: files over the scanner's `max_file_size` are scanned in windows, and the
        // artifact reader warns about each file over its own `max_file_size` that it did not read.
        if meta.size == 0 {
            return false;
        }
        !skip_by_name(meta.path)
    }

    /// The scanner's configuration: rules, allow lists, limits.
    fn cache_key(&self) -> Option<String> {
        Some(format!("secrets {}", self.scanner.fingerprint()))
    }

    fn export_layer(&self, layer: u32) -> Option<serde_json::Value> {
        let found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        let mine: Vec<&SecretFinding> = found.iter().filter(|f| f.layer == Some(layer)).collect();
        serde_json::to_value(mine).ok()
    }

    fn import_layer(&self, layer: u32, value: serde_json::Value) -> Result<(), String> {
        let mut imported: Vec<SecretFinding> = serde_json::from_value(value).map_err(|e| e.to_string())?;
        for f in &mut imported {
            f.layer = Some(layer);
            f.deleted_in_layer = None;
        }
        self.found.lock().unwrap_or_else(|e| e.into_inner()).extend(imported);
        Ok(())
    }

    fn accept(&self, meta: &FileMeta, data: &[u8], _warnings: &Warnings) {
        let matches = self.scanner.scan_bytes(meta.path, data);
        if matches.is_empty() {
            return;
        }
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        found.extend(matches.into_iter().map(|m| to_finding(m, meta.path, meta.layer)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use std::collections::HashMap;

    /// A layer history for tests: (path, layer) -> deleting layer.
    struct History(HashMap<(String, u32), u32>);

    impl LayerHistory for History {
        fn removed_in(&self, path: &str, layer: Option<u32>) -> Option<u32> {
            self.0.get(&(path.to_string(), layer?)).copied()
        }
    }

    fn meta(path: &str, size: u64, layer: Option<u32>) -> FileMeta<'_> {
        FileMeta { path, size, mode: 0o644, layer }
    }

    #[test]
    fn secret_in_deleted_layer_file_is_reported_with_deleted_in() {
        let scanner = match Scanner::new(&Config::default()) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let sink = SecretSink::new(&scanner);
        let w = Warnings::new();
        let env = b"AWS_ACCESS_KEY_ID=AKIAZ7Y6X5W4V3U2T3S4\n";
        // layer 0 adds the file, layer 2 deletes it (whiteout); app/config stays.
        let m0 = meta("root/.env", env.len() as u64, Some(0));
        assert!(sink.wants(&m0));
        sink.accept(&m0, env, &w);
        let m1 = meta("app/config", env.len() as u64, Some(1));
        sink.accept(&m1, env, &w);
        let history = History(HashMap::from([(("root/.env".to_string(), 0), 2)]));
        let found = sink.finish(&history);
        assert_eq!(found.len(), 2, "{found:?}");
        let deleted: Vec<_> = found.iter().map(|f| (f.path.as_str(), f.layer, f.deleted_in_layer)).collect();
        assert_eq!(deleted, vec![("app/config", Some(1), None), ("root/.env", Some(0), Some(2))]);
    }

    #[test]
    fn wants_filters_by_size_type_and_allow_paths() {
        let cfg = Config { max_file_size: 100, allow_paths: vec!["vendor/**".into()], ..Config::default() };
        let scanner = match Scanner::new(&cfg) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let sink = SecretSink::new(&scanner);
        assert!(sink.wants(&meta("etc/app.conf", 10, None)));
        // Larger than max_file_size: still wanted, scanned in windows.
        assert!(sink.wants(&meta("etc/app.conf", 101, None)));
        assert!(!sink.wants(&meta("etc/empty", 0, None)));
        assert!(!sink.wants(&meta("usr/lib/libc.so", 10, None)));
        assert!(!sink.wants(&meta("vendor/x/config", 10, None)));
        assert!(sink.wants(&meta("keys/big.p12", 10_000, None)));
    }
}
