//! Advisory import: walks the sources given to `db build` (directories, single files, `.zip` such as OSV's
//! per-ecosystem `all.zip`, `.tar.gz`/`.tgz`), recognises each document by its content and converts it into
//! the [`crate::model`] form.
//!
//! * `*.json`: OSV advisory (or an array of them), Debian security-tracker JSON, Alpine secdb JSON.
//! * `*.yaml`/`*.yml`: OSV advisory in YAML (PyPA), Alpine secdb YAML.
//! * CISA's KEV catalog (JSON) and FIRST's EPSS scores (`*.csv`, `*.csv.gz`): [`exploits`].
//!
//! A document that cannot be read is a warning (counted in [`crate::BuildStats`]), never an abort; a source
//! that cannot be opened at all is an error.

pub mod alpine;
pub mod debian;
pub mod exploits;
pub mod osv;

use crate::DbError;
use crate::model::Advisory;
use palisade_core::Progress;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Largest single document read from a source (the Debian tracker JSON is about 80 MB).
const MAX_DOCUMENT: u64 = 1 << 30;
/// Warnings kept verbatim; the rest are only counted.
const MAX_WARNINGS: usize = 200;
/// A declared entry size is not trusted for more than this preallocation (the rest grows as it is read), so
/// one entry declaring a huge size costs nothing until its bytes arrive.
const PREALLOC_MAX: u64 = 16 << 20;

/// Per-feed counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedStats {
    /// Documents read.
    pub documents: u64,
    /// Distinct advisories produced (records merged into one, as secdb lines are, count once).
    pub advisories: u64,
    /// Withdrawn advisories dropped.
    pub withdrawn: u64,
    /// Documents that could not be read.
    pub failed: u64,
}

impl std::fmt::Display for FeedStats {
    /// `1,234 documents, 1,200 advisories, 3 withdrawn, 0 failed`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} documents, {} advisories, {} withdrawn, {} failed",
            self.documents, self.advisories, self.withdrawn, self.failed
        )
    }
}

/// Collects advisories from all sources, resolving duplicates.
#[derive(Default)]
pub(crate) struct Collector {
    pub advisories: HashMap<String, Advisory>,
    /// Exploit data by CVE id.
    pub exploits: BTreeMap<String, exploits::Exploit>,
    pub feeds: BTreeMap<String, FeedStats>,
    pub warnings: Vec<String>,
    pub warning_count: u64,
    pub progress: Option<Arc<Progress>>,
}

impl Collector {
    pub fn warn(&mut self, msg: String) {
        self.warning_count += 1;
        if self.warnings.len() < MAX_WARNINGS {
            // Messages quote source documents (a serde error names the bad value): escaped and capped.
            let msg = palisade_core::warning::bounded(&msg, palisade_core::warning::MAX_TEXT);
            tracing::warn!("{msg}");
            self.warnings.push(msg);
        }
    }

    pub fn feed(&mut self, feed: &str) -> &mut FeedStats {
        self.feeds.entry(feed.to_string()).or_default()
    }

    /// Add one advisory. A second record with the same id replaces the first when it is newer (by
    /// `modified`); records that distro converters build up piecewise (`merge`) are combined instead.
    pub fn add(&mut self, adv: Advisory, merge: bool) {
        match self.advisories.get_mut(&adv.id) {
            None => {
                self.feed(&adv.feed.clone()).advisories += 1;
                self.advisories.insert(adv.id.clone(), adv);
            }
            Some(old) if merge && old.feed == adv.feed => {
                for a in adv.affected {
                    if !old.affected.contains(&a) {
                        old.affected.push(a);
                    }
                }
                for r in adv.references {
                    if !old.references.contains(&r) {
                        old.references.push(r);
                    }
                }
            }
            Some(old) => {
                if adv.modified >= old.modified {
                    *old = adv;
                }
            }
        }
    }
}

/// The feed name of a source path: its file name without archive extensions (`osv-go.tar.gz` → `osv-go`);
/// for OSV's `<Ecosystem>/all.zip`, the ecosystem folder (`PyPI`).
pub(crate) fn feed_name(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut stem = name.as_str();
    for ext in [".tar.gz", ".tgz", ".zip", ".json", ".yaml", ".yml", ".tar"] {
        if let Some(s) = stem.strip_suffix(ext) {
            stem = s;
            break;
        }
    }
    if stem == "all"
        && let Some(parent) = path.parent().and_then(|p| p.file_name())
    {
        return parent.to_string_lossy().into_owned();
    }
    if stem.is_empty() { "advisories".to_string() } else { stem.to_string() }
}

fn is_archive(name: &str) -> bool {
    name.ends_with(".zip") || name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

/// Read one source path into the collector.
pub(crate) fn read_source(path: &Path, c: &mut Collector) -> Result<(), DbError> {
    let meta = std::fs::metadata(path).map_err(|e| DbError::io(path, e))?;
    let feed = feed_name(path);
    if let Some(p) = &c.progress {
        p.set_stage(format!("importing {}", path.display()));
    }
    if meta.is_dir() { read_dir(path, path, &feed, c) } else { read_file(path, &feed, c) }
}

fn read_file(path: &Path, feed: &str, c: &mut Collector) -> Result<(), DbError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".zip") {
        let f = std::fs::File::open(path).map_err(|e| DbError::io(path, e))?;
        read_zip(f, path, feed, c)
    } else if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        let f = std::fs::File::open(path).map_err(|e| DbError::io(path, e))?;
        read_tar_gz(f, path, feed, c)
    } else if let Some(inner) = name.strip_suffix(".gz").filter(|n| n.to_ascii_lowercase().ends_with(".csv"))
    {
        // EPSS is published gzipped: inflated here, bounded like any document.
        let f = std::fs::File::open(path).map_err(|e| DbError::io(path, e))?;
        let mut data = Vec::new();
        flate2::read::GzDecoder::new(f).take(MAX_DOCUMENT + 1).read_to_end(&mut data).map_err(|e| {
            DbError::Source { path: path.into(), message: format!("not a readable gzip: {e}") }
        })?;
        if data.len() as u64 > MAX_DOCUMENT {
            return Err(DbError::Source {
                path: path.into(),
                message: format!("inflates past {MAX_DOCUMENT} bytes"),
            });
        }
        document(feed, inner, &data, c);
        Ok(())
    } else {
        let data = std::fs::read(path).map_err(|e| DbError::io(path, e))?;
        document(feed, &name, &data, c);
        Ok(())
    }
}

fn read_dir(root: &Path, dir: &Path, feed: &str, c: &mut Collector) -> Result<(), DbError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| DbError::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let Ok(ft) = std::fs::symlink_metadata(&p).map(|m| m.file_type()) else { continue };
        if ft.is_dir() {
            read_dir(root, &p, feed, c)?;
        } else if ft.is_file() {
            let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().into_owned();
            let lower = rel.to_ascii_lowercase();
            if is_archive(&lower) {
                // A nested archive is its own feed (e.g. a directory of downloaded feeds).
                if let Err(e) = read_file(&p, &feed_name(&p), c) {
                    c.warn(e.to_string());
                }
            } else if lower.ends_with(".csv.gz") {
                if let Err(e) = read_file(&p, feed, c) {
                    c.warn(e.to_string());
                }
            } else if is_document(&lower) {
                match std::fs::read(&p) {
                    Ok(data) => document(feed, &rel, &data, c),
                    Err(e) => c.warn(format!("{}: {e}", p.display())),
                }
            }
        }
    }
    Ok(())
}

fn is_document(lower: &str) -> bool {
    lower.ends_with(".json") || lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".csv")
}

fn read_zip(f: std::fs::File, path: &Path, feed: &str, c: &mut Collector) -> Result<(), DbError> {
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f))
        .map_err(|e| DbError::Source { path: path.into(), message: format!("not a readable zip: {e}") })?;
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                c.warn(format!("{}: entry {i}: {e}", path.display()));
                continue;
            }
        };
        if !entry.is_file() {
            continue;
        }
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        if !is_document(&name.to_ascii_lowercase()) {
            continue;
        }
        if entry.size() > MAX_DOCUMENT {
            c.warn(format!("{}: {name}: larger than {MAX_DOCUMENT} bytes, skipped", path.display()));
            continue;
        }
        let mut data = Vec::with_capacity(entry.size().min(PREALLOC_MAX) as usize);
        if let Err(e) = (&mut entry).take(MAX_DOCUMENT).read_to_end(&mut data) {
            c.warn(format!("{}: {name}: {e}", path.display()));
            continue;
        }
        document(feed, &name, &data, c);
    }
    Ok(())
}

fn read_tar_gz(f: std::fs::File, path: &Path, feed: &str, c: &mut Collector) -> Result<(), DbError> {
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(f));
    let mut ar = tar::Archive::new(gz);
    let entries = ar
        .entries()
        .map_err(|e| DbError::Source { path: path.into(), message: format!("not a tar.gz: {e}") })?;
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // A broken stream cannot be resynchronised: stop reading this archive.
                c.warn(format!("{}: {e}", path.display()));
                break;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = match entry.path() {
            Ok(p) => p.to_string_lossy().into_owned(),
            Err(_) => continue,
        };
        if !is_document(&name.to_ascii_lowercase()) {
            continue;
        }
        let size = entry.header().size().unwrap_or(0);
        if size > MAX_DOCUMENT {
            c.warn(format!("{}: {name}: larger than {MAX_DOCUMENT} bytes, skipped", path.display()));
            continue;
        }
        let mut data = Vec::with_capacity(size.min(PREALLOC_MAX) as usize);
        if let Err(e) = (&mut entry).take(MAX_DOCUMENT).read_to_end(&mut data) {
            c.warn(format!("{}: {name}: {e}", path.display()));
            break;
        }
        document(feed, &name, &data, c);
    }
    Ok(())
}

/// Import one advisory document (OSV JSON/YAML, Debian tracker, Alpine secdb) into a fresh collector and
/// return (advisories kept, warnings). For fuzzing and tests; never panics on any input.
#[doc(hidden)]
pub fn import_document(file: &str, data: &[u8]) -> (usize, u64) {
    let mut c = Collector::default();
    document("fuzz", file, data, &mut c);
    (c.advisories.len(), c.warning_count)
}

/// Recognise and convert one document.
pub(crate) fn document(feed: &str, file: &str, data: &[u8], c: &mut Collector) {
    c.feed(feed).documents += 1;
    if let Some(p) = &c.progress {
        Progress::add(&p.files_seen, 1);
        Progress::add(&p.bytes_read, data.len() as u64);
    }
    let lower = file.to_ascii_lowercase();
    let result = if lower.ends_with(".json") {
        json_document(feed, file, data, c)
    } else if lower.ends_with(".csv") {
        exploits::add_epss(feed, file, data, c)
    } else {
        yaml_document(feed, file, data, c)
    };
    if let Err(msg) = result {
        c.feed(feed).failed += 1;
        c.warn(format!("{feed}: {file}: {msg}"));
    }
}

fn json_document(feed: &str, file: &str, data: &[u8], c: &mut Collector) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_slice(data).map_err(|e| format!("invalid JSON: {e}"))?;
    match &value {
        serde_json::Value::Object(map) if map.contains_key("id") => osv::add_value(feed, file, value, c),
        serde_json::Value::Object(map) if exploits::looks_like_kev(map) => {
            exploits::add_kev(feed, file, &value, c)
        }
        serde_json::Value::Object(map)
            if map.contains_key("distroversion") && map.contains_key("packages") =>
        {
            alpine::add_value(feed, file, value, c)
        }
        serde_json::Value::Object(map) if debian::looks_like_tracker(map) => {
            debian::add_tracker(feed, file, &value, c)
        }
        serde_json::Value::Array(items) => {
            for item in items.iter().filter(|i| i.get("id").is_some()) {
                osv::add_value(feed, file, item.clone(), c)?;
            }
            Ok(())
        }
        serde_json::Value::Object(map) if map.is_empty() => Ok(()),
        _ => Err("not an OSV advisory, Debian tracker, Alpine secdb or KEV catalog document".into()),
    }
}

fn yaml_document(feed: &str, file: &str, data: &[u8], c: &mut Collector) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let is_secdb = text.lines().any(|l| l.starts_with("distroversion:"));
    if is_secdb { alpine::add_yaml(feed, file, text, c) } else { osv::add_yaml(feed, file, text, c) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_names() {
        assert_eq!(feed_name(Path::new("/d/osv-go.tar.gz")), "osv-go");
        assert_eq!(feed_name(Path::new("/d/PyPI/all.zip")), "PyPI");
        assert_eq!(feed_name(Path::new("/d/alpine-secdb")), "alpine-secdb");
        assert_eq!(feed_name(Path::new("/d/debian.json")), "debian");
    }

    #[test]
    fn unknown_documents_are_warnings() {
        let mut c = Collector::default();
        document("f", "x.json", b"[1, 2", &mut c);
        document("f", "y.json", b"{\"foo\": 1}", &mut c);
        assert_eq!(c.feeds["f"].failed, 2);
        assert_eq!(c.warnings.len(), 2);
        assert!(c.warnings[0].contains("x.json") && c.warnings[0].contains("invalid JSON"));
        assert!(c.advisories.is_empty());
    }
}
