//! Cluster dumps read offline: `kubectl get -A -o yaml` (a `List`), `kubectl get … -o json` lists, or
//! directories of manifests. One loader shared by `palisade admission audit`, `policy eval` (file
//! collection) and the posture commands (`rbac`, `scan cluster`): files are collected in a stable order,
//! every document is parsed once with positions, `List` kinds are expanded into their items, and a file or
//! document that cannot be read becomes an error naming it while the rest is loaded.

use crate::k8s::Object;
use crate::yaml::load_all;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest dump file read (bigger files are read up to this size, and the error says so).
pub const MAX_DUMP_BYTES: u64 = 1 << 30;

/// One object of a dump and the file it came from.
#[derive(Debug, Clone)]
pub struct DumpObject {
    pub file: String,
    /// 0-based index of the document in the file (items of a `List` share their document's).
    pub document: usize,
    pub object: Object,
}

/// Every object of the files given, and what could not be read.
#[derive(Debug, Default)]
pub struct Dump {
    pub objects: Vec<DumpObject>,
    /// `FILE: problem` or `FILE:LINE:COL: problem`, one per file or document that was not loaded.
    pub errors: Vec<String>,
}

impl Dump {
    /// Load files and directories (YAML and JSON files under directories, hidden entries skipped). Fails
    /// only when a path given cannot be opened at all.
    pub fn load(paths: &[PathBuf]) -> Result<Dump, crate::ChecksError> {
        let mut dump = Dump::default();
        for p in paths {
            let mut files = Vec::new();
            collect_files(p, &mut files)?;
            for f in files {
                let mut data = Vec::new();
                let read =
                    std::fs::File::open(&f).and_then(|h| h.take(MAX_DUMP_BYTES).read_to_end(&mut data));
                match read {
                    Ok(_) => dump.add_text(&f.display().to_string(), &String::from_utf8_lossy(&data)),
                    Err(e) => dump.errors.push(format!("{}: cannot read: {e}", f.display())),
                }
            }
        }
        Ok(dump)
    }

    /// Add the objects of one file's text.
    pub fn add_text(&mut self, file: &str, text: &str) {
        for (document, doc) in load_all(text).into_iter().enumerate() {
            match doc {
                Ok(node) => self.objects.extend(Object::expand(node).into_iter().map(|object| DumpObject {
                    file: file.into(),
                    document,
                    object,
                })),
                Err(e) => self.errors.push(format!("{file}:{}:{}: {}", e.line, e.col, e.message)),
            }
        }
    }

    /// The objects of one kind.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a DumpObject> + 'a {
        self.objects.iter().filter(move |o| o.object.kind == kind)
    }
}

/// The files under `path` a dump or policy input is read from: the path itself when it is a file, else its
/// YAML, JSON and Dockerfile entries, recursively, sorted, hidden entries skipped.
pub fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), crate::ChecksError> {
    let err = |e: std::io::Error| crate::ChecksError::Input(format!("{}: cannot read: {e}", path.display()));
    let meta = std::fs::metadata(path).map_err(err)?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(path).map_err(err)?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for e in entries {
        let name = e.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        let wanted = name.ends_with(".yaml")
            || name.ends_with(".yml")
            || name.ends_with(".json")
            || name == "dockerfile"
            || name == "containerfile"
            || name.ends_with(".dockerfile");
        if e.is_dir() {
            collect_files(&e, out)?;
        } else if wanted {
            out.push(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_expanded_and_bad_documents_named() {
        let mut d = Dump::default();
        d.add_text(
            "dump.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x}}\n- {apiVersion: v1, kind: Service, metadata: {name: s}}\n---\nkind: [\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        );
        let kinds: Vec<_> = d.objects.iter().map(|o| o.object.kind.as_str()).collect();
        assert_eq!(kinds, ["Pod", "Service", "ConfigMap"]);
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        assert!(d.errors[0].starts_with("dump.yaml:"), "{:?}", d.errors);
    }

    #[test]
    fn json_lists_load() {
        let mut d = Dump::default();
        d.add_text("l.json", r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}]}"#);
        assert_eq!(d.of_kind("Node").count(), 1);
    }
}
