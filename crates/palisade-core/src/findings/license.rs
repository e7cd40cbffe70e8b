//! Findings of the licence scanner (`palisade-license`): one [`LicenseFinding`] per licence of a package or
//! per licence file, with its category and, when the licence policy refuses it, the rule that did.

use serde::{Deserialize, Serialize};

pub use crate::severity::Severity;

/// Where a licence was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LicenseSource {
    /// Declared by package metadata (dpkg copyright file, apk `L:`, rpm `License`, npm, PyPI, ...).
    Package,
    /// The text of a licence file (`LICENSE`, `COPYING`, `NOTICE`).
    File,
    /// The header of a source file (`--license-full`).
    Header,
}

/// One licence of one package or file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LicenseFinding {
    pub source: LicenseSource,
    /// The package's name, for package licences (and licence files that belong to a package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The package's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The package's purl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// The licence as stated (package metadata) or as matched (files).
    pub raw: String,
    /// The SPDX expression it normalises to; `None` when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// `forbidden`, `restricted`, `reciprocal`, `notice`, `permissive`, `unencumbered`, `unknown`.
    pub category: String,
    /// From the category: forbidden critical, restricted high, reciprocal medium, unknown unknown, others low.
    pub severity: Severity,
    /// Text-match score (0 … 1) for licence files and headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// The file the licence was read from (copyright file, package metadata, licence file).
    pub path: String,
    /// Image layer of that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// The policy rule the licence fails (`--license-deny GPL-3.0-only`, `--license-fail-on restricted`,
    /// `not in --license-allow`, `--license-unknown fail`); `None` when it passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_rule: Option<String>,
    /// What normalisation changed beyond spelling, or why nothing could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why the failure is waived (an ignore-file entry with its reason); `None` when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

impl LicenseFinding {
    /// True when the licence fails the policy and is not waived: it counts for the gate.
    pub fn is_active(&self) -> bool {
        self.failed_rule.is_some() && self.suppressed.is_none()
    }

    /// What the finding is about: `package version`, or the file.
    pub fn subject(&self) -> String {
        match (&self.package, &self.version) {
            (Some(p), Some(v)) if !v.is_empty() => format!("{p} {v}"),
            (Some(p), _) => p.clone(),
            _ => self.path.clone(),
        }
    }

    /// The expression, or the raw text when there is none.
    pub fn license(&self) -> &str {
        self.expression.as_deref().unwrap_or(&self.raw)
    }
}
