//! Secret detection in files, image layers and git history.
//!
//! - [`rules()`] lists the built-in rules (one registry: [`rules::RULES`]), each with its documentation.
//! - [`Scanner`] compiles them with a [`Config`] (user rules, disabled rules, severity overrides, allow
//!   paths and patterns, size limit) and scans one buffer with [`Scanner::scan_bytes`].
//! - [`SecretSink`] plugs the scanner into the artifact file stream (images, root filesystems,
//!   directories) and reports secrets in files a later layer deleted.
//! - [`scan_git_history`] scans every blob reachable from `HEAD` once.
//!
//! Findings never contain a secret: see [`palisade_core::findings::secret::SecretFinding`].
//! Inline `palisade:allow-secret [reason]` on a line keeps that line's findings as *suppressed* with the
//! reason (they stay visible in reports, marked, and are not counted as active).

pub mod config;
pub mod context;
pub mod git;
pub mod k8s;
pub mod keywords;
pub mod known_public;
pub mod rule;
pub mod rules;
pub mod scanner;
pub mod sink;
pub mod util;

pub use config::Config;
pub use git::{History, HistoryOptions, MAX_BLOB_SIZE, scan_git_history};
pub use palisade_core::findings::secret::{CommitInfo, SecretFinding, Severity};
pub use rule::{Checksum, Detector, Redact, Rule};
pub use scanner::{RawMatch, Scanner};
pub use sink::{LayerHistory, SecretSink};

/// Errors of the secret scanner.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The configuration file is unreadable or invalid.
    #[error("secrets config: {0}")]
    Config(String),
    /// A rule (built-in or user) does not compile.
    #[error("secrets rule {rule}: {message}")]
    Rule { rule: String, message: String },
    /// The git repository cannot be read.
    #[error("git history: {0}")]
    Git(String),
}

/// The built-in rules with their documentation, in registry order.
pub fn rules() -> &'static [Rule] {
    rules::RULES
}
