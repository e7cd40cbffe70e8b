//! Findings of the vulnerability matcher (`palisade-vulndb`).
//!
//! One [`VulnFinding`] is one vulnerability in one package: every advisory that describes the same
//! vulnerability (CVE, GHSA, PYSEC, RUSTSEC, GO, DSA/DLA, ...) is merged into it, under one canonical id (the
//! CVE when there is one) with the other ids as aliases. Each finding explains itself: which range or rule
//! matched, in which advisory of which feed, and where the package was found.

use crate::{Ecosystem, Location};
use serde::{Deserialize, Serialize};
use std::fmt;

pub use crate::severity::{ParseSeverityError, Severity};

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

/// What is known of a vulnerability's exploitation, from the DB's exploit data: CISA's Known Exploited
/// Vulnerabilities catalog and FIRST's EPSS scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exploit {
    /// Listed in CISA KEV: the date it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev_added: Option<String>,
    /// The remediation due date CISA set for federal agencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev_due: Option<String>,
    /// CISA knows of its use in ransomware campaigns.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ransomware: bool,
    /// EPSS: probability of exploitation in the next 30 days (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<f64>,
    /// EPSS percentile (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss_percentile: Option<f64>,
}

impl Exploit {
    /// Listed in CISA KEV.
    pub fn in_kev(&self) -> bool {
        self.kev_added.is_some()
    }

    /// Its class for risk ordering.
    pub fn class(&self) -> ExploitClass {
        match (self.in_kev(), self.ransomware, self.epss) {
            (true, true, _) => ExploitClass::KevRansomware,
            (true, false, _) => ExploitClass::Kev,
            (false, _, Some(e)) if e >= ExploitClass::HIGH_EPSS => ExploitClass::HighEpss,
            _ => ExploitClass::None,
        }
    }
}

/// How exploitable a vulnerability is known to be, the exploitability factor of every risk score
/// (`registry report`, `palisade report`): listed in CISA KEV ≫ a high EPSS score ≫ nothing known. Each
/// class weighs ten times the one below it (KEV with known ransomware use twice KEV).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExploitClass {
    /// No KEV listing, EPSS below [`ExploitClass::HIGH_EPSS`] or unknown.
    #[default]
    None,
    /// EPSS (probability of exploitation in the next 30 days) at least [`ExploitClass::HIGH_EPSS`].
    HighEpss,
    /// Listed in CISA KEV: exploited in the wild.
    Kev,
    /// Listed in CISA KEV with known use in ransomware campaigns.
    KevRansomware,
}

impl ExploitClass {
    /// The EPSS score from which a vulnerability counts as likely exploited (about the top 5% of CVEs).
    pub const HIGH_EPSS: f64 = 0.1;

    /// The class of a finding's exploit data (none known: [`ExploitClass::None`]).
    pub fn of(x: Option<&Exploit>) -> ExploitClass {
        x.map_or(ExploitClass::None, Exploit::class)
    }

    /// The exploitability factor.
    pub fn weight(self) -> i64 {
        match self {
            ExploitClass::None => 1,
            ExploitClass::HighEpss => 10,
            ExploitClass::Kev => 100,
            ExploitClass::KevRansomware => 200,
        }
    }

    /// How a report says it (empty for [`ExploitClass::None`]).
    pub fn label(self) -> &'static str {
        match self {
            ExploitClass::None => "",
            ExploitClass::HighEpss => "EPSS ≥ 0.1",
            ExploitClass::Kev => "in CISA KEV",
            ExploitClass::KevRansomware => "in CISA KEV, used by ransomware",
        }
    }
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
    /// Known exploitation (KEV listing, EPSS score), when the DB carries exploit data for this CVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exploit: Option<Exploit>,
    /// Why the finding does not count (ignore file entry, VEX statement, ...). Suppressed findings stay in
    /// the report so the decision is visible; only active ones fail a gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

impl VulnFinding {
    /// Not suppressed.
    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            exploit: Some(Exploit {
                kev_added: Some("2021-12-10".into()),
                epss: Some(0.94),
                ..Exploit::default()
            }),
            suppressed: None,
        };
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains("\"status\":\"fixed\""));
        assert!(json.contains("\"severity\":\"critical\""));
        let back: VulnFinding = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn exploit_classes_order_kev_over_epss_over_nothing() {
        let kev = Exploit { kev_added: Some("2026-01-02".into()), epss: Some(0.01), ..Exploit::default() };
        let ransom = Exploit { ransomware: true, ..kev.clone() };
        let likely = Exploit { epss: Some(0.1), ..Exploit::default() };
        let unlikely = Exploit { epss: Some(0.09), ..Exploit::default() };
        assert_eq!(kev.class(), ExploitClass::Kev);
        assert_eq!(ransom.class(), ExploitClass::KevRansomware);
        assert_eq!(likely.class(), ExploitClass::HighEpss);
        assert_eq!(ExploitClass::of(Some(&unlikely)), ExploitClass::None);
        assert_eq!(ExploitClass::of(None), ExploitClass::None);
        let w: Vec<i64> =
            [ExploitClass::None, ExploitClass::HighEpss, ExploitClass::Kev, ExploitClass::KevRansomware]
                .map(ExploitClass::weight)
                .to_vec();
        assert_eq!(w, [1, 10, 100, 200]);
    }
}
