//! OSV advisories (<https://ossf.github.io/osv-schema/>) in JSON or YAML.
//!
//! Kept: id, aliases, upstream (falling back to `related` CVEs for distro-only advisories such as DSA/DLA),
//! summary, details, dates, CVSS vectors, GHSA/Ubuntu qualitative severity, reference URLs and every
//! `affected` entry with a package. Withdrawn advisories are dropped. Ranges of type GIT are kept but never
//! used to match packages.

use super::Collector;
use crate::ecosystem::{ecosystem_key, is_distro};
use crate::model::{Advisory, Affected, Event, Range, RangeKind};
use serde::Deserialize;

#[derive(Deserialize)]
struct Raw {
    id: String,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    upstream: Option<Vec<String>>,
    #[serde(default)]
    related: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    affected: Option<Vec<RawAffected>>,
    #[serde(default)]
    references: Option<Vec<RawReference>>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default)]
    ranges: Option<Vec<RawRange>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
    #[serde(default)]
    ecosystem_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    ecosystem: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(default)]
    introduced: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    last_affected: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

pub(crate) fn add_value(
    feed: &str,
    file: &str,
    value: serde_json::Value,
    c: &mut Collector,
) -> Result<(), String> {
    let raw: Raw = serde_json::from_value(value).map_err(|e| format!("not an OSV advisory: {e}"))?;
    add_raw(feed, file, raw, c)
}

pub(crate) fn add_yaml(feed: &str, file: &str, text: &str, c: &mut Collector) -> Result<(), String> {
    let raw: Raw = serde_saphyr::from_str(text).map_err(|e| format!("not an OSV advisory: {e}"))?;
    add_raw(feed, file, raw, c)
}

fn str_field<'a>(v: &'a Option<serde_json::Value>, key: &str) -> Option<&'a str> {
    v.as_ref()?.get(key)?.as_str().map(str::trim).filter(|s| !s.is_empty())
}

fn add_raw(feed: &str, file: &str, raw: Raw, c: &mut Collector) -> Result<(), String> {
    match convert(feed, file, raw)? {
        Some(adv) => c.add(adv, false),
        None => c.feed(feed).withdrawn += 1,
    }
    Ok(())
}

/// Convert one raw OSV record; `Ok(None)` when it is withdrawn.
fn convert(feed: &str, file: &str, raw: Raw) -> Result<Option<Advisory>, String> {
    let id = raw.id.trim().to_string();
    if id.is_empty() {
        return Err("empty id".into());
    }
    if raw.withdrawn.as_deref().is_some_and(|w| !w.trim().is_empty()) {
        return Ok(None);
    }
    let mut cvss = Vec::new();
    let mut vendor_severity = str_field(&raw.database_specific, "severity").map(str::to_string);
    for s in raw.severity.unwrap_or_default() {
        match s.kind.as_str() {
            "CVSS_V2" | "CVSS_V3" | "CVSS_V4" if !s.score.trim().is_empty() => {
                cvss.push(s.score.trim().to_string())
            }
            "Ubuntu" => vendor_severity = Some(s.score.trim().to_string()),
            _ => {}
        }
    }
    let mut affected = Vec::new();
    for a in raw.affected.unwrap_or_default() {
        let Some(pkg) = a.package else { continue };
        let Some(eco) = ecosystem_key(&pkg.ecosystem) else { continue };
        if pkg.name.trim().is_empty() {
            continue;
        }
        let mut ranges = Vec::new();
        for r in a.ranges.unwrap_or_default() {
            let kind = match r.kind.as_str() {
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "SEMVER" => RangeKind::Semver,
                "GIT" => RangeKind::Git,
                other => return Err(format!("unknown range type {other:?}")),
            };
            let mut events = Vec::new();
            for e in r.events {
                let ev = match (e.introduced, e.fixed, e.last_affected, e.limit) {
                    (Some(v), None, None, None) => Event::Introduced(v),
                    (None, Some(v), None, None) => Event::Fixed(v),
                    (None, None, Some(v), None) => Event::LastAffected(v),
                    (None, None, None, Some(v)) => Event::Limit(v),
                    _ => {
                        return Err(
                            "a range event must have exactly one of introduced/fixed/last_affected/limit"
                                .into(),
                        );
                    }
                };
                events.push(ev);
            }
            ranges.push(Range { kind, events });
        }
        let status = str_field(&a.database_specific, "status").map(str::to_string);
        let mut severity = str_field(&a.ecosystem_specific, "urgency")
            .or_else(|| str_field(&a.ecosystem_specific, "severity"))
            .map(str::to_string);
        for s in a.severity.unwrap_or_default() {
            if s.kind == "Ubuntu" {
                severity = Some(s.score.trim().to_string());
            } else if s.kind.starts_with("CVSS_V") && !cvss.contains(&s.score) {
                cvss.push(s.score.trim().to_string());
            }
        }
        let mut entry = Affected {
            ecosystem: eco,
            ecosystem_raw: pkg.ecosystem.trim().to_string(),
            name: pkg.name.trim().to_string(),
            ranges,
            versions: a.versions.unwrap_or_default(),
            status,
            severity,
        };
        entry.sort_events();
        affected.push(entry);
    }
    let aliases: Vec<String> = raw.aliases.unwrap_or_default().into_iter().filter(|a| *a != id).collect();
    let mut upstream = raw.upstream.unwrap_or_default();
    let distro_only = !affected.is_empty() && affected.iter().all(|a| is_distro(&a.ecosystem));
    if upstream.is_empty() && distro_only && !id.starts_with("CVE-") {
        upstream = raw.related.unwrap_or_default().into_iter().filter(|r| r.starts_with("CVE-")).collect();
    }
    let references = raw.references.unwrap_or_default().into_iter().filter_map(|r| r.url).collect();
    Ok(Some(Advisory {
        id,
        aliases,
        upstream,
        summary: raw.summary.filter(|s| !s.trim().is_empty()),
        details: raw.details.filter(|s| !s.trim().is_empty()),
        published: raw.published,
        modified: raw.modified,
        cvss,
        vendor_severity,
        references,
        feed: feed.to_string(),
        file: Some(file.to_string()),
        affected,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"id: PYSEC-2021-9
details: Example
affected:
- package:
    name: Django
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "3.0"
    - fixed: 3.0.14
    - introduced: "0"
    - fixed: 2.2.24
  versions:
  - 2.2.0
  - "2.2"
  - 3.0
aliases:
- CVE-2021-31542
modified: "2021-05-05T00:00:00Z"
"#;

    #[test]
    fn yaml_with_unquoted_versions() {
        let mut c = Collector::default();
        add_yaml("osv-pypa", "vulns/django/PYSEC-2021-9.yaml", YAML, &mut c).unwrap();
        let adv = &c.advisories["PYSEC-2021-9"];
        assert_eq!(adv.aliases, ["CVE-2021-31542"]);
        let a = &adv.affected[0];
        assert_eq!(a.ecosystem, "pypi");
        assert_eq!(a.versions, ["2.2.0", "2.2", "3.0"], "YAML scalars must be kept as written");
        let ev: Vec<&str> = a.ranges[0].events.iter().map(Event::version).collect();
        assert_eq!(ev, ["0", "2.2.24", "3.0", "3.0.14"]);
    }

    #[test]
    fn withdrawn_dropped_and_bad_events_rejected() {
        let mut c = Collector::default();
        let w = serde_json::json!({"id": "GHSA-x", "withdrawn": "2022-01-01T00:00:00Z", "affected": []});
        add_value("f", "w.json", w, &mut c).unwrap();
        assert!(c.advisories.is_empty());
        assert_eq!(c.feeds["f"].withdrawn, 1);
        let bad = serde_json::json!({"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1.0.0"}]}]}]});
        assert!(add_value("f", "b.json", bad, &mut c).unwrap_err().contains("exactly one"));
        let no_id = serde_json::json!({"id": " "});
        assert!(add_value("f", "n.json", no_id, &mut c).is_err());
    }

    #[test]
    fn dsa_related_cves_become_upstream() {
        let mut c = Collector::default();
        let v = serde_json::json!({"id": "DSA-1-1", "related": ["CVE-2020-1", "CVE-2020-2"],
            "affected": [{"package": {"ecosystem": "Debian:11", "name": "openssl"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1n-0+deb11u4"}]}]}]});
        add_value("debian", "DSA/DSA-1-1.json", v, &mut c).unwrap();
        assert_eq!(c.advisories["DSA-1-1"].upstream, ["CVE-2020-1", "CVE-2020-2"]);
    }
}
