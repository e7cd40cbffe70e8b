//! The scan report: the one value every output format renders.
//!
//! Each scanner adds its own section; sections a scan did not run stay empty and are left out of JSON.

use crate::findings::license::LicenseFinding;
use crate::findings::misconfig::Misconfiguration;
use crate::findings::secret::SecretFinding;
use crate::findings::vuln::VulnFinding;
use crate::{ArtifactInfo, OsInfo, Package, Warning};
use serde::{Deserialize, Serialize};

/// Version of the JSON report layout (documented in `docs/json-report.md`). Bump on breaking changes.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The tool that produced a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo { name: "palisade".into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

/// Everything one scan found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema_version: u32,
    pub tool: ToolInfo,
    /// RFC 3339 time the scan finished.
    pub created: String,
    pub artifact: ArtifactInfo,
    /// The scanners the scan ran (`vuln`, `secret`, `misconfig`), and `package` when the package list was
    /// asked for in the table. Renderers show a section for each, even when it found nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scanners: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
    /// Inventory, sorted by (ecosystem, name, version, location). One entry per package: a package found by
    /// several sources (an installed `package.json` and a lockfile, a Go binary and `go.mod`) is one entry
    /// with several locations.
    #[serde(default)]
    pub packages: Vec<Package>,
    /// Root projects: the projects the lockfiles, manifests and binaries belong to (the `package.json` beside
    /// a lockfile, the root crates of a `Cargo.lock`, the main module of `go.mod` or of a Go binary, a Python
    /// project), sorted like `packages`. They are the subject of the scan, not dependencies, so they are not
    /// in `packages`. Each one's `dependencies` are the purls of its direct dependencies (for a Go binary:
    /// every module linked in), `locations` the files that declare it. A project with metadata
    /// `main = "true"` is the module a binary was built from: the binary ships that version, so it is matched
    /// against advisories like a package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<Package>,
    /// Vulnerable packages (`--scanners vuln`), sorted by severity then id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<VulnFinding>,
    /// Leaked credentials (`--scanners secret`); never holds a full secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretFinding>,
    /// Failed configuration checks (`--scanners misconfig`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub misconfigurations: Vec<Misconfiguration>,
    /// What the policy bundle (`--policy`) decided: its gates' and policies' decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<crate::findings::policy::PolicyResult>,
    /// Licences of packages and files (`--scanners license`), sorted by severity, then subject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseFinding>,
    /// What a scanner was asked to check but could not: its results are incomplete, not clean. A gate
    /// fails on these unless told to accept them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
    /// Problems met on the way; the scan went on past each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Manifests of formats the inventory does not read (a `build.gradle`, a `Cargo.toml` without its
    /// `Cargo.lock`), one entry per file: the packages they declare are not in `packages`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_inventoried: Vec<NotInventoried>,
}

/// A manifest the inventory saw but does not read (see [`ScanReport::not_inventoried`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NotInventoried {
    /// Path relative to the artifact root.
    pub path: String,
    /// Image layer that added it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// The format (`Gradle build script`, `Cargo manifest without Cargo.lock`).
    pub format: String,
    /// What would make it read (`run cargo generate-lockfile`).
    pub hint: String,
}

/// Something a scanner could not check, e.g. vulnerabilities of PyPI packages against a database that holds
/// no PyPI advisories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// The scanner whose results are incomplete (`vuln`).
    pub scanner: String,
    /// What is missing: `db-missing`, `db-unreadable`, `db-empty`, `ecosystem-not-covered`,
    /// `os-not-supported`.
    pub kind: String,
    /// The ecosystem concerned, as the vulnerability database names it (`pypi`, `debian:11`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
    /// Packages left unchecked because of it.
    pub packages: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ScanReport {
    /// True when the scan ran `scanner` (see [`ScanReport::scanners`]).
    pub fn ran(&self, scanner: &str) -> bool {
        self.scanners.iter().any(|s| s == scanner)
    }
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.scanner, self.message)
    }
}

impl ScanReport {
    pub fn new(artifact: ArtifactInfo, created: impl Into<String>) -> Self {
        ScanReport {
            schema_version: REPORT_SCHEMA_VERSION,
            tool: ToolInfo::default(),
            created: created.into(),
            artifact,
            scanners: Vec::new(),
            os: None,
            packages: Vec::new(),
            projects: Vec::new(),
            vulnerabilities: Vec::new(),
            secrets: Vec::new(),
            misconfigurations: Vec::new(),
            policy: None,
            licenses: Vec::new(),
            gaps: Vec::new(),
            warnings: Vec::new(),
            not_inventoried: Vec::new(),
        }
    }
}
