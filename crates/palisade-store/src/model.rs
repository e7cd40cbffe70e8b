//! The values the store takes and gives.

use crate::risk::RiskFactors;
use palisade_core::findings::vuln::Exploit;
use palisade_core::{OsInfo, Package};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One image to store, as a registry scan found it.
#[derive(Debug, Clone, Default)]
pub struct NewImage {
    /// Manifest digest (`sha256:…`) of the image for `platform`.
    pub digest: String,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// `host/repository`.
    pub repository: String,
    /// Tags of `repository` that resolved to this image.
    pub tags: Vec<String>,
    /// Image config `created`.
    pub created: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// The base image, when the labels name it (`org.opencontainers.image.base.name` and `.digest`).
    pub base_image: Option<String>,
    /// Layer digests, bottom first.
    pub layers: Vec<String>,
    pub os: Option<OsInfo>,
    /// The inventory.
    pub packages: Vec<Package>,
    /// The SBOM document (uncompressed); stored compressed.
    pub sbom: Vec<u8>,
    /// Its format, e.g. `cyclonedx-json`.
    pub sbom_format: String,
}

/// What matching needs of a package, stored once per distinct package.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPackage {
    pub package: Package,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
}

/// One open finding of an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingRow {
    pub vuln_id: String,
    pub purl: String,
    pub severity: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub first_seen: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reappeared_at: Option<String>,
    /// The decision that covers it (`waive`, `accept`, `not-affected`), when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// What the DB says of its exploitation (CISA KEV, EPSS) as of the last re-match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exploit: Option<Exploit>,
    /// Its score: severity × exploitability × fixability (see `registry report`).
    pub risk: i64,
}

/// An image with its current counts, as `registry report` lists them.
#[derive(Debug, Clone, Serialize)]
pub struct ImageRisk {
    pub digest: String,
    pub platform: String,
    pub repository: String,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    pub packages: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_version: Option<String>,
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub unknown: i64,
    /// Findings with a fixed version available.
    pub fixable: i64,
    /// The ordering key: Σ severity × exploitability × fixability over its open findings, × exposure
    /// (module `risk`; ties: more fixable first).
    pub risk: i64,
    /// What `risk` is made of.
    pub risk_factors: RiskFactors,
    /// The highest-scoring findings, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_reason: Option<String>,
    pub scanned_at: String,
    /// Running pods using the image, when a deployment dump was given (`registry report --deployments`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_pods: Option<usize>,
}

/// What one re-match changed for one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageChange {
    pub digest: String,
    pub platform: String,
    pub repository: String,
    /// First match of this image (it was stored since the last one).
    pub first_match: bool,
    /// Findings new since the last match: (vulnerability, purl, severity).
    pub new: Vec<(String, String, String)>,
    /// Findings the new DB no longer reports.
    pub fixed: Vec<(String, String, String)>,
    pub unchanged: i64,
}

/// The outcome of [`crate::Store::rematch`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct RematchSummary {
    pub db_version: String,
    pub images: i64,
    /// Distinct (ecosystem, package) keys in the store, and how many of them the DB changed.
    pub package_keys: usize,
    pub changed_keys: usize,
    /// Distinct packages matched again (changed keys and never-matched packages).
    pub packages_matched: usize,
    /// Images whose findings changed, with the changes.
    pub changed: Vec<ImageChange>,
    /// Images whose findings did not change.
    pub unchanged_images: i64,
    pub seconds: f64,
    /// Vulnerabilities of stored findings whose exploit data (KEV, EPSS) changed in the DB since the last
    /// match, and those among them newly listed in CISA KEV: their images' risk changed without any
    /// advisory changing.
    pub exploits_changed: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kev_added: Vec<String>,
    /// Stored rows that could not be used (each names the store and the row).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A decision about a vulnerability: `waive` (until `expires_at`), `accept` or `not-affected`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Decision {
    /// An image digest, or `*` for every image.
    pub scope: String,
    pub vuln_id: String,
    /// One package only, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    pub decision: String,
    pub reason: String,
    pub author: String,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// Retention and size bounds, kept in the store's `settings` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Scan results kept per image (the newest).
    pub scan_results_per_image: i64,
    /// Images not seen by a registry scan for this many days are removed (0: never).
    pub image_max_age_days: i64,
    /// Fixed findings history older than this many days is removed (0: never).
    pub fixed_history_days: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { scan_results_per_image: 10, image_max_age_days: 0, fixed_history_days: 365 }
    }
}
