//! Findings of the vulnerability matcher (`palisade-vulndb`).
//!
//! One [`VulnFinding`] is one vulnerability in one package: every advisory that describes the same
//! vulnerability (CVE, GHSA, PYSEC, RUSTSEC, GO, DSA/DLA, ...) is merged into it, under one canonical id (the
//! CVE when there is one) with the other ids as aliases. Each finding explains itself: which range or rule
//! matched, in which advisory of which feed, and where the package was found.

use crate::{Ecosystem, Location};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Severity of a vulnerability. Ordered from least to most severe, so `severity >= Severity::High` gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No source gave a severity.
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Unknown, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Severity of a CVSS base score (v3.x and v4.0 qualitative scale; 0.0 counts as `Low`).
    pub fn from_cvss_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score >= 0.0 {
            Severity::Low
        } else {
            Severity::Unknown
        }
    }

    /// Parse a comma-separated list such as `critical,high` (spaces allowed, empty items ignored).
    pub fn parse_list(s: &str) -> Result<Vec<Severity>, ParseSeverityError> {
        let mut out = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let sev: Severity = item.parse()?;
            if !out.contains(&sev) {
                out.push(sev);
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`Severity::from_str`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSeverityError(pub String);

impl fmt::Display for ParseSeverityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown severity {:?} (expected one of critical, high, medium, low, unknown)", self.0)
    }
}

impl std::error::Error for ParseSeverityError {}

impl FromStr for Severity {
    type Err = ParseSeverityError;

    /// Accepts the Palisade names and the vendor spellings met in feeds (case-insensitive): GHSA `moderate`,
    /// Red Hat `important`, Debian `unimportant`/`negligible`, `none`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "high" | "important" => Ok(Severity::High),
            "medium" | "moderate" => Ok(Severity::Medium),
            "low" | "negligible" | "unimportant" | "none" => Ok(Severity::Low),
            "unknown" | "not yet assigned" | "undetermined" => Ok(Severity::Unknown),
            _ => Err(ParseSeverityError(s.to_string())),
        }
    }
}

/// Whether and how a vulnerability is fixed for the installed package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VulnStatus {
    /// A fixed version exists (see [`VulnFinding::fixed_version`]).
    Fixed,
    /// Affected and no fix is published yet.
    Affected,
    /// The vendor decided not to fix it (Debian `ignored`/`no-dsa`, Red Hat `will not fix`).
    WillNotFix,
    /// The release is out of support for this package; no fix will come.
    EndOfLife,
}

impl fmt::Display for VulnStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VulnStatus::Fixed => "fixed",
            VulnStatus::Affected => "affected",
            VulnStatus::WillNotFix => "will-not-fix",
            VulnStatus::EndOfLife => "end-of-life",
        })
    }
}

/// One CVSS vector with its computed base score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssScore {
    /// `2.0`, `3.0`, `3.1` or `4.0`.
    pub version: String,
    pub vector: String,
    pub score: f64,
    /// Who published the vector (the advisory id or feed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One advisory that contributed to a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AdvisorySource {
    /// The feed the advisory came from, e.g. `osv-pypa`, `debian-osv`, `alpine-secdb`.
    pub feed: String,
    /// The advisory id in that feed, e.g. `PYSEC-2021-9`, `DSA-5380-1`.
    pub id: String,
    /// The file inside the feed, when known (`vulns/django/PYSEC-2021-9.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// One vulnerability in one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnFinding {
    /// Canonical id: the CVE when one is known, otherwise the advisory id.
    pub id: String,
    /// Every other id of the same vulnerability, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub package_name: String,
    /// The package version as inventoried.
    pub package_version: String,
    pub ecosystem: Ecosystem,
    pub purl: String,
    /// Where the package was found (file and layer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// The version compared against the advisories: the source package version for distro packages.
    pub installed_version: String,
    /// The lowest fixed version above the installed one, when a fix exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    /// Every fixed version the advisories name for the matched ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_versions: Vec<String>,
    pub status: VulnStatus,
    pub severity: Severity,
    /// Where [`VulnFinding::severity`] came from, e.g. `debian urgency`, `CVSS:3.1 (GHSA-...)`, `ghsa`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_source: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<CvssScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Human text of each range or rule that matched, e.g.
    /// `introduced 0, fixed 2.2.24 (ECOSYSTEM) in PYSEC-2021-9`.
    pub matched_by: Vec<String>,
    /// The advisories merged into this finding.
    pub advisory_sources: Vec<AdvisorySource>,
    /// RFC 3339, earliest of the merged advisories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// RFC 3339, latest of the merged advisories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Unknown);
        assert_eq!("MODERATE".parse::<Severity>(), Ok(Severity::Medium));
        assert_eq!(Severity::parse_list("critical, high,,"), Ok(vec![Severity::Critical, Severity::High]));
        assert!(Severity::parse_list("critical,severe").is_err());
        assert_eq!(Severity::from_cvss_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_cvss_score(5.3), Severity::Medium);
        assert_eq!(Severity::from_cvss_score(0.0), Severity::Low);
    }

    #[test]
    fn finding_round_trips_as_json() {
        let f = VulnFinding {
            id: "CVE-2021-44228".into(),
            aliases: vec!["GHSA-jfh8-c2jp-5v3q".into()],
            package_name: "org.apache.logging.log4j:log4j-core".into(),
            package_version: "2.14.1".into(),
            ecosystem: Ecosystem::Maven,
            purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into(),
            locations: vec![Location::new("app/lib/log4j-core-2.14.1.jar", Some(2))],
            installed_version: "2.14.1".into(),
            fixed_version: Some("2.15.0".into()),
            fixed_versions: vec!["2.15.0".into()],
            status: VulnStatus::Fixed,
            severity: Severity::Critical,
            severity_source: Some("CVSS:3.1".into()),
            cvss: vec![CvssScore {
                version: "3.1".into(),
                vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into(),
                score: 10.0,
                source: None,
            }],
            title: Some("Remote code injection in Log4j".into()),
            description: None,
            references: vec![],
            matched_by: vec!["introduced 2.13.0, fixed 2.15.0 (ECOSYSTEM) in GHSA-jfh8-c2jp-5v3q".into()],
            advisory_sources: vec![AdvisorySource {
                feed: "osv".into(),
                id: "GHSA-jfh8-c2jp-5v3q".into(),
                file: None,
            }],
            published: None,
            modified: None,
        };
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains("\"status\":\"fixed\""));
        assert!(json.contains("\"severity\":\"critical\""));
        let back: VulnFinding = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
    }
}
