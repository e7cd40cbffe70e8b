//! Shared types for every Palisade crate.
//!
//! Data flows one way: artifact → inventory → matchers → findings → policy → report. The types that cross
//! those boundaries live here and nowhere else, so that every stage agrees on what a package, a location or a
//! warning is.

pub mod artifact;
pub mod package;
pub mod report;
pub mod warning;

pub use artifact::{ArtifactInfo, ArtifactKind, HistoryEntry, ImageConfig, LayerInfo};
pub use package::{Ecosystem, EndOfLife, Location, OsInfo, Package, Scope, SourcePackage};
pub use report::{Gap, NotInventoried, ScanReport, ToolInfo};
pub use warning::{Warning, Warnings};

pub mod progress;
pub use progress::Progress;
pub mod findings;
pub mod http;
pub mod json;
pub mod lenient;
pub mod memory;
pub mod output;
pub mod severity;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod trend;
pub use severity::Severity;

/// Palisade's cache directory (the vulnerability DB, the layer cache): `$PALISADE_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/palisade`, else `~/.cache/palisade`. `--cache-dir` overrides it.
pub fn default_cache_dir() -> std::path::PathBuf {
    use std::path::PathBuf;
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(d) = env("PALISADE_CACHE_DIR") {
        return d;
    }
    if let Some(d) = env("XDG_CACHE_HOME") {
        return d.join("palisade");
    }
    env("HOME").unwrap_or_else(|| PathBuf::from(".")).join(".cache").join("palisade")
}
