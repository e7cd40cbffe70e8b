//! [`ConfigSink`]: runs the check engine on Kubernetes manifests and Dockerfiles met while walking an
//! artifact (`--scanners misconfig` on fs, repo and image scans).

use crate::engine::{Engine, FileKind, file_kind};
use palisade_artifact::{FileMeta, FileSink};
use palisade_core::findings::misconfig::Misconfiguration;
use palisade_core::{Warning, Warnings};
use std::sync::Mutex;

/// Largest file the sink reads (bigger YAML/JSON files are data, not manifests).
pub const MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;

/// Collects findings from every config file of an artifact. Parse problems become scan warnings
/// (source `misconfig`).
#[derive(Debug)]
pub struct ConfigSink {
    engine: Engine,
    findings: Mutex<Vec<Misconfiguration>>,
}

impl ConfigSink {
    pub fn new(engine: Engine) -> Self {
        ConfigSink { engine, findings: Mutex::new(Vec::new()) }
    }

    /// The engine the sink runs, for checks outside the file stream (an image's config, stdin).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The findings, sorted by file, line and check id.
    pub fn into_findings(self) -> Vec<Misconfiguration> {
        self.into_parts().1
    }

    /// The engine back (to reuse it) and the findings, sorted by file, line and check id.
    pub fn into_parts(self) -> (Engine, Vec<Misconfiguration>) {
        let mut v = self.findings.into_inner().unwrap_or_else(|e| e.into_inner());
        v.sort_by(|a, b| (&a.file, a.line, &a.check_id).cmp(&(&b.file, b.line, &b.check_id)));
        (self.engine, v)
    }
}

fn skipped_dir(path: &str) -> bool {
    path.split('/')
        .any(|c| matches!(c, "node_modules" | ".git" | "vendor" | "site-packages" | "dist-packages"))
}

impl FileSink for ConfigSink {
    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size <= MAX_FILE_SIZE && file_kind(meta.path).is_some() && !skipped_dir(meta.path)
    }

    fn accept(&self, meta: &FileMeta, data: &[u8], warnings: &Warnings) {
        // Helm chart templates are not YAML until rendered.
        if file_kind(meta.path) == Some(FileKind::Manifest)
            && meta.path.contains("templates/")
            && data.windows(2).any(|w| w == b"{{")
        {
            return;
        }
        let mut res = self.engine.check_file(meta.path, data);
        for e in &res.errors {
            let msg = format!("line {}, column {}: {}", e.line, e.column, e.message);
            warnings.push(Warning::new("misconfig", msg).at(meta.path, meta.layer));
        }
        for f in &mut res.findings {
            f.layer = meta.layer;
        }
        if !res.findings.is_empty() {
            self.findings.lock().unwrap_or_else(|e| e.into_inner()).extend(res.findings);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckOptions;

    #[test]
    fn sink_collects_findings_and_warnings() {
        let engine = Engine::new(&CheckOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let sink = ConfigSink::new(engine);
        let warnings = Warnings::new();
        let pod = crate::testutil::FAIL_POD.as_bytes();
        let m = FileMeta { path: "k8s/pod.yaml", size: pod.len() as u64, mode: 0o644, layer: Some(2) };
        assert!(sink.wants(&m));
        assert!(!sink.wants(&FileMeta { path: "src/main.rs", size: 10, mode: 0o644, layer: None }));
        assert!(!sink.wants(&FileMeta { path: "node_modules/x/a.json", size: 10, mode: 0o644, layer: None }));
        sink.accept(&m, pod, &warnings);
        let bad = FileMeta { path: "k8s/bad.yaml", size: 5, mode: 0o644, layer: None };
        sink.accept(&bad, b"a: [1\n", &warnings);
        assert_eq!(warnings.len(), 1);
        let f = sink.into_findings();
        assert!(f.iter().any(|f| f.check_id == "PAL-PSS-002" && f.layer == Some(2)));
    }
}
