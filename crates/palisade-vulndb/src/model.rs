//! The normalised advisory model: what every importer produces and what the database stores (as JSON).
//!
//! It is OSV's model with only what matching and reporting use; distro feeds (Debian tracker, Alpine secdb)
//! are converted into it the way osv.dev converts them (`DEBIAN-CVE-…`, `ALPINE-CVE-…` records with the CVE
//! as `upstream`).

use crate::ecosystem::scheme_for;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// One advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Advisory {
    pub id: String,
    /// Other ids of the same vulnerability (OSV `aliases`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Upstream vulnerabilities this advisory is about (OSV `upstream`; for DSA/DLA and distro records, the
    /// CVEs). A distro advisory naming several CVEs yields one finding per CVE.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// CVSS vectors (OSV `severity[]` of type `CVSS_V2`/`CVSS_V3`/`CVSS_V4`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<String>,
    /// A vendor's qualitative severity (GHSA `database_specific.severity`, Ubuntu priority, Debian urgency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_severity: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// The feed (source) it came from, e.g. `osv-pypa`.
    pub feed: String,
    /// The file inside the feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Stored separately in the database (one row per affected package).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Affected>,
}

/// The affected versions of one package in one ecosystem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Affected {
    /// Ecosystem key (see [`crate::ecosystem::ecosystem_key`]).
    pub ecosystem: String,
    /// The ecosystem as the advisory spells it (`Debian:12`).
    pub ecosystem_raw: String,
    /// Package name as the advisory spells it.
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Distro status when there is no fix: `unfixed`, `open`, `end-of-life`, `ignored`, `postponed`, `no-dsa`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Per-package vendor severity (Debian urgency of this release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
}

/// Kind of an OSV range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeKind {
    #[serde(rename = "ECOSYSTEM")]
    Ecosystem,
    #[serde(rename = "SEMVER")]
    Semver,
    #[serde(rename = "GIT")]
    Git,
}

impl RangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RangeKind::Ecosystem => "ECOSYSTEM",
            RangeKind::Semver => "SEMVER",
            RangeKind::Git => "GIT",
        }
    }
}

/// One OSV range: events in version order (sorted at import).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

/// One OSV range event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }

    fn rank(&self) -> u8 {
        // At equal versions: introduced before last_affected before fixed/limit.
        match self {
            Event::Introduced(_) => 0,
            Event::LastAffected(_) => 1,
            Event::Fixed(_) => 2,
            Event::Limit(_) => 3,
        }
    }
}

impl Affected {
    /// Sort the events of each ECOSYSTEM/SEMVER range in version order, as the OSV evaluation algorithm
    /// requires. `introduced: 0` sorts first. A range with a version that does not parse keeps its order.
    pub fn sort_events(&mut self) {
        let scheme = scheme_for(&self.ecosystem);
        for r in &mut self.ranges {
            if r.kind == RangeKind::Git {
                continue;
            }
            let parsed: Option<Vec<_>> = r
                .events
                .iter()
                .map(|e| {
                    if matches!(e, Event::Introduced(v) if v == "0")
                        || matches!(e, Event::Limit(v) if v == "*")
                    {
                        Some(None)
                    } else {
                        scheme.parse(e.version()).ok().map(Some)
                    }
                })
                .collect();
            let Some(parsed) = parsed else { continue };
            let mut pairs: Vec<_> = r.events.drain(..).zip(parsed).collect();
            pairs.sort_by(|(ea, va), (eb, vb)| {
                let by_version = match (va, vb) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => {
                        if matches!(ea, Event::Limit(_)) {
                            Ordering::Greater
                        } else {
                            Ordering::Less
                        }
                    }
                    (Some(_), None) => {
                        if matches!(eb, Event::Limit(_)) {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        }
                    }
                    (Some(a), Some(b)) => a.compare(b).unwrap_or(Ordering::Equal),
                };
                by_version.then(ea.rank().cmp(&eb.rank()))
            });
            r.events = pairs.into_iter().map(|(e, _)| e).collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_sorted_per_scheme() {
        let mut a = Affected {
            ecosystem: "pypi".into(),
            name: "django".into(),
            ranges: vec![Range {
                kind: RangeKind::Ecosystem,
                events: vec![
                    Event::Introduced("3.0".into()),
                    Event::Fixed("3.0.14".into()),
                    Event::Introduced("0".into()),
                    Event::Fixed("2.2.10".into()),
                ],
            }],
            ..Default::default()
        };
        a.sort_events();
        let got: Vec<&str> = a.ranges[0].events.iter().map(Event::version).collect();
        assert_eq!(got, ["0", "2.2.10", "3.0", "3.0.14"]);
    }
}
