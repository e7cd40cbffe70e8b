//! Path globs of profiles, compiled once: `*` and `?` stay within a directory, `**` crosses directories,
//! `[...]` is a class. Argument patterns use the same syntax with `*` matching anything, spaces and `/`
//! included. A set of globs answers "does any match" in one pass (`globset`).

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

fn build(pattern: &str, literal_separator: bool) -> Result<Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(literal_separator)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("invalid glob {pattern:?}: {}", e.kind()))
}

/// Whether `pattern` is a valid path glob.
pub fn check(pattern: &str) -> Result<(), String> {
    build(pattern, true).map(|_| ())
}

/// A literal path as a glob that matches only it.
pub fn escape(path: &str) -> String {
    globset::escape(path)
}

/// Whether `text` has glob metacharacters (so is not one literal path).
pub fn is_pattern(text: &str) -> bool {
    text.contains(['*', '?', '[', '{', '\\'])
}

/// Compiled path globs; literal paths are a hash lookup.
#[derive(Debug, Clone, Default)]
pub struct PathSet {
    literal: std::collections::HashSet<String>,
    globs: Option<GlobSet>,
}

impl PathSet {
    /// Compile; a bad pattern is an error naming it (profiles are validated before this).
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<PathSet, String> {
        Self::with(patterns, true)
    }

    /// Argument patterns: `*` also matches `/`.
    pub fn args<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<PathSet, String> {
        Self::with(patterns, false)
    }

    fn with<'a>(patterns: impl IntoIterator<Item = &'a str>, sep: bool) -> Result<PathSet, String> {
        let mut literal = std::collections::HashSet::new();
        let mut b = GlobSetBuilder::new();
        let mut n = 0;
        for p in patterns {
            if is_pattern(p) {
                b.add(build(p, sep)?);
                n += 1;
            } else {
                literal.insert(p.to_string());
            }
        }
        let globs = if n > 0 { Some(b.build().map_err(|e| e.to_string())?) } else { None };
        Ok(PathSet { literal, globs })
    }

    pub fn is_empty(&self) -> bool {
        self.literal.is_empty() && self.globs.is_none()
    }

    pub fn matches(&self, path: &str) -> bool {
        self.literal.contains(path) || self.globs.as_ref().is_some_and(|g| g.is_match(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_stay_in_their_directory_and_double_stars_cross() {
        let s = PathSet::new(["/proc/*/status", "/tmp/**", "/etc/app.conf", "/data/\\*odd"]).unwrap();
        assert!(s.matches("/proc/12/status"));
        assert!(!s.matches("/proc/12/task/13/status"));
        assert!(s.matches("/tmp/a/b/c"));
        assert!(s.matches("/etc/app.conf"));
        assert!(!s.matches("/etc/app.confx"));
        assert!(s.matches("/data/*odd") && !s.matches("/data/xodd"));
        let a = PathSet::args(["-c *", ""]).unwrap();
        assert!(a.matches("-c /etc/x y") && a.matches("") && !a.matches("-x"));
        assert!(check("/a/[").is_err());
        assert_eq!(escape("/a/*b"), "/a/[*]b");
    }
}
