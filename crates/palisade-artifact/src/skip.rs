//! `--skip-dirs` and `--skip-files`: globs over paths inside the target.
//!
//! Patterns are matched against target-relative paths (`/`-separated, no leading `/`), as Trivy does: `*`
//! stays within one path component, `**` crosses them. A leading `./` or `/`, a trailing `/`, and the target's
//! own path as the user typed it (`palisade fs proj --skip-dirs proj/vendor`) are removed first. A directory
//! pattern leaves out the directory and everything below it, in every target kind: directory walks do not
//! enter it, image layers and git trees do not hand its files to the scanners.

use crate::{Content, EntryMeta, FileMeta, FileSink, NodeKind, Probe};
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use palisade_core::Warnings;

/// Compiled `--skip-dirs` / `--skip-files` patterns.
#[derive(Debug, Clone)]
pub struct SkipFilter {
    dirs: GlobSet,
    files: GlobSet,
    /// The normalised patterns, for the layer cache key.
    key: String,
}

/// A pattern that is not a valid glob.
#[derive(Debug, thiserror::Error)]
#[error("--skip-{kind} {pattern:?}: {reason}")]
pub struct SkipError {
    kind: &'static str,
    pattern: String,
    reason: String,
}

fn normalise<'a>(pattern: &'a str, target: &str) -> &'a str {
    let mut p = pattern.trim();
    let t = target.trim_start_matches("./").trim_end_matches('/');
    p = p.strip_prefix("./").unwrap_or(p);
    if !t.is_empty()
        && t != "."
        && let Some(rest) = p.strip_prefix(t).and_then(|r| r.strip_prefix('/'))
    {
        p = rest;
    }
    p = p.trim_start_matches('/');
    p = p.strip_prefix("./").unwrap_or(p);
    p.trim_end_matches('/')
}

fn build(kind: &'static str, patterns: &[String], target: &str) -> Result<GlobSet, SkipError> {
    let mut b = GlobSetBuilder::new();
    for raw in patterns {
        let p = normalise(raw, target);
        if p.is_empty() {
            continue;
        }
        let glob: Glob = GlobBuilder::new(p).literal_separator(true).build().map_err(|e| SkipError {
            kind,
            pattern: raw.clone(),
            reason: e.kind().to_string(),
        })?;
        b.add(glob);
    }
    b.build().map_err(|e| SkipError { kind, pattern: patterns.join(","), reason: e.to_string() })
}

impl SkipFilter {
    /// Compile the patterns; `target` is the target path as given on the command line (for stripping it
    /// from patterns). `None` when there is nothing to skip.
    pub fn new(dirs: &[String], files: &[String], target: &str) -> Result<Option<SkipFilter>, SkipError> {
        if dirs.iter().chain(files).all(|p| normalise(p, target).is_empty()) {
            return Ok(None);
        }
        let norm = |v: &[String]| v.iter().map(|p| normalise(p, target)).collect::<Vec<_>>().join("\n");
        let key = format!("dirs\n{}\nfiles\n{}", norm(dirs), norm(files));
        Ok(Some(SkipFilter {
            dirs: build("dirs", dirs, target)?,
            files: build("files", files, target)?,
            key,
        }))
    }

    /// What the filter leaves out, as one string (part of the layer cache key).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// True when the directory `rel` matches a `--skip-dirs` pattern.
    pub fn skips_dir(&self, rel: &str) -> bool {
        !self.dirs.is_empty() && self.dirs.is_match(rel)
    }

    /// True when the file `rel` matches a `--skip-files` pattern or lies under a skipped directory.
    pub fn skips_file(&self, rel: &str) -> bool {
        if !self.files.is_empty() && self.files.is_match(rel) {
            return true;
        }
        if self.dirs.is_empty() {
            return false;
        }
        rel.match_indices('/').any(|(i, _)| self.dirs.is_match(&rel[..i]))
    }
}

/// A sink that never sees skipped files.
pub(crate) struct Skipping<'a> {
    pub filter: &'a SkipFilter,
    pub inner: &'a dyn FileSink,
}

impl FileSink for Skipping<'_> {
    fn wants(&self, meta: &FileMeta) -> bool {
        !self.filter.skips_file(meta.path) && self.inner.wants(meta)
    }
    fn accept(&self, meta: &FileMeta, data: &[u8], warnings: &Warnings) {
        self.inner.accept(meta, data, warnings)
    }
    fn wants_after_probe(&self, meta: &FileMeta, probe: &dyn Probe) -> bool {
        self.inner.wants_after_probe(meta, probe)
    }
    fn accept_content(&self, meta: &FileMeta, content: &Content, warnings: &Warnings) {
        self.inner.accept_content(meta, content, warnings)
    }
    fn cache_key(&self) -> Option<String> {
        self.inner.cache_key().map(|k| format!("{k}\nskip\n{}", self.filter.key))
    }
    fn export_layer(&self, layer: u32) -> Option<serde_json::Value> {
        self.inner.export_layer(layer)
    }
    fn import_layer(&self, layer: u32, value: serde_json::Value) -> Result<(), String> {
        self.inner.import_layer(layer, value)
    }
    fn entry(&self, meta: &EntryMeta) {
        let skipped = self.filter.skips_file(meta.path)
            || (meta.kind == NodeKind::Dir && self.filter.skips_dir(meta.path));
        if !skipped {
            self.inner.entry(meta)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(dirs: &[&str], files: &[&str], target: &str) -> SkipFilter {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        SkipFilter::new(&s(dirs), &s(files), target).unwrap().unwrap()
    }

    #[test]
    fn directory_patterns_cover_everything_below() {
        let s = f(&["vendor", "**/testdata", "./build/"], &[], ".");
        assert!(s.skips_dir("vendor"));
        assert!(s.skips_file("vendor/a/b.go"));
        assert!(s.skips_file("src/x/testdata/key.pem"));
        assert!(s.skips_file("build/out.bin"));
        assert!(!s.skips_file("src/vendor.go"), "a file named like a skipped dir is kept");
        assert!(!s.skips_file("vendorx/a.go"));
        assert!(!s.skips_dir("src/vendor"), "`vendor` is anchored at the root");
    }

    #[test]
    fn file_patterns_and_single_star_stays_in_one_component() {
        let s = f(&[], &["**/*.pem", "app/config.env", "*.log"], ".");
        assert!(s.skips_file("a/b/c.pem"));
        assert!(s.skips_file("c.pem"));
        assert!(s.skips_file("app/config.env"));
        assert!(s.skips_file("x.log"));
        assert!(!s.skips_file("sub/x.log"), "`*` does not cross `/`");
    }

    #[test]
    fn the_target_path_is_stripped_from_patterns() {
        let s = f(&["proj/vendor", "/abs/root/node_modules"], &["./proj/secret.txt"], "./proj");
        assert!(s.skips_file("vendor/x.go"));
        assert!(s.skips_file("secret.txt"));
        let s = f(&["/abs/root/node_modules"], &[], "/abs/root");
        assert!(s.skips_file("node_modules/a/package.json"));
    }

    #[test]
    fn empty_patterns_mean_no_filter_and_bad_globs_are_errors() {
        assert!(SkipFilter::new(&[], &["".into()], ".").unwrap().is_none());
        let e = SkipFilter::new(&["a[".into()], &[], ".").unwrap_err();
        assert!(e.to_string().contains("--skip-dirs \"a[\""), "{e}");
    }
}
