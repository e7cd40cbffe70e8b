//! Debian security-tracker JSON (<https://security-tracker.debian.org/tracker/data/json>):
//! `{source-package: {CVE-id: {description, releases: {codename: {status, fixed_version, urgency,
//! nodsa_reason, ...}}}}}`.
//!
//! Converted like osv.dev's `DEBIAN-CVE-…` records: one advisory per CVE with the CVE as `upstream`, one
//! `affected` entry per (release, source package) in ecosystem `Debian:<major>`:
//! * `resolved` with a fixed version: `introduced 0, fixed <version>` (`0` means not affected: skipped);
//! * `open`: no fix, status `end-of-life` (urgency `end-of-life`), `ignored`/`postponed` (`nodsa_reason`)
//!   or `open`;
//! * `undetermined` and `TEMP-…` ids are skipped.
//!
//! The release urgency (`low`, `medium`, `high`, `unimportant`) is kept as the vendor severity.

use super::Collector;
use crate::model::{Advisory, Affected, Event, Range, RangeKind};

/// Debian major version of a release codename.
pub fn codename_major(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "woody" => "3.0",
        "sarge" => "3.1",
        "etch" => "4.0",
        "lenny" => "5.0",
        "squeeze" => "6.0",
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

/// True when a JSON object has the tracker shape (package → id → object with `releases`).
pub(crate) fn looks_like_tracker(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    map.values()
        .filter_map(|v| v.as_object())
        .flat_map(|m| m.values())
        .take(5)
        .any(|v| v.get("releases").is_some_and(|r| r.is_object()))
}

pub(crate) fn add_tracker(
    feed: &str,
    file: &str,
    value: &serde_json::Value,
    c: &mut Collector,
) -> Result<(), String> {
    let pkgs = value.as_object().ok_or("expected an object of source packages")?;
    for (source, cves) in pkgs {
        let Some(cves) = cves.as_object() else {
            c.warn(format!("{feed}: {file}: package {source}: expected an object of CVEs"));
            continue;
        };
        for (cve, entry) in cves {
            if cve.starts_with("TEMP-") {
                continue;
            }
            let Some(releases) = entry.get("releases").and_then(|r| r.as_object()) else { continue };
            let mut affected = Vec::new();
            for (codename, rel) in releases {
                let Some(major) = codename_major(codename) else { continue };
                let get =
                    |k: &str| rel.get(k).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty());
                let urgency = get("urgency").map(|u| u.trim_end_matches('*').to_string());
                let (events, status) = match get("status") {
                    Some("resolved") => match get("fixed_version") {
                        Some("0") | None => continue,
                        Some(v) => (vec![Event::Introduced("0".into()), Event::Fixed(v.to_string())], None),
                    },
                    Some("open") => {
                        let status = if urgency.as_deref() == Some("end-of-life") {
                            "end-of-life"
                        } else {
                            match get("nodsa_reason") {
                                Some("ignored") => "ignored",
                                Some("postponed") => "postponed",
                                _ => "open",
                            }
                        };
                        (vec![Event::Introduced("0".into())], Some(status.to_string()))
                    }
                    _ => continue,
                };
                let raw_eco = format!("Debian:{major}");
                let mut a = Affected {
                    ecosystem: raw_eco.to_ascii_lowercase(),
                    ecosystem_raw: raw_eco,
                    name: source.clone(),
                    ranges: vec![Range { kind: RangeKind::Ecosystem, events }],
                    versions: Vec::new(),
                    status,
                    severity: urgency.filter(|u| u != "end-of-life" && u != "not yet assigned"),
                };
                a.sort_events();
                affected.push(a);
            }
            if affected.is_empty() {
                continue;
            }
            let adv = Advisory {
                id: format!("DEBIAN-{cve}"),
                upstream: vec![cve.clone()],
                summary: None,
                details: entry.get("description").and_then(|d| d.as_str()).map(str::to_string),
                references: vec![format!("https://security-tracker.debian.org/tracker/{cve}")],
                feed: feed.to_string(),
                file: Some(file.to_string()),
                affected,
                ..Default::default()
            };
            c.add(adv, true);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_statuses() {
        let v = serde_json::json!({
            "openssl": {
                "CVE-2023-0001": {"description": "bad", "releases": {
                    "bookworm": {"status": "resolved", "fixed_version": "3.0.9-1", "urgency": "medium"},
                    "bullseye": {"status": "open", "urgency": "low**", "nodsa": "Minor", "nodsa_reason": "ignored"},
                    "buster": {"status": "open", "urgency": "end-of-life"},
                    "trixie": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"},
                    "sid": {"status": "resolved", "fixed_version": "3.0.9-1"}}},
                "TEMP-0000000-ABCDEF": {"releases": {"bookworm": {"status": "open"}}},
                "CVE-2023-0002": {"releases": {"bookworm": {"status": "undetermined"}}}
            }
        });
        let mut c = Collector::default();
        add_tracker("debian-tracker", "data.json", &v, &mut c).unwrap();
        assert_eq!(c.advisories.len(), 1);
        let a = &c.advisories["DEBIAN-CVE-2023-0001"];
        assert_eq!(a.upstream, ["CVE-2023-0001"]);
        let by_eco = |e: &str| a.affected.iter().find(|x| x.ecosystem == e).unwrap();
        assert_eq!(by_eco("debian:12").ranges[0].events[1], Event::Fixed("3.0.9-1".into()));
        assert_eq!(by_eco("debian:12").severity.as_deref(), Some("medium"));
        assert_eq!(by_eco("debian:11").status.as_deref(), Some("ignored"));
        assert_eq!(by_eco("debian:11").severity.as_deref(), Some("low"));
        assert_eq!(by_eco("debian:10").status.as_deref(), Some("end-of-life"));
        assert!(a.affected.iter().all(|x| x.ecosystem != "debian:13"), "fixed_version 0 = not affected");
        assert_eq!(a.affected.len(), 3);
    }

    #[test]
    fn tracker_detection() {
        let v = serde_json::json!({"pkg": {"CVE-1": {"releases": {}}}});
        assert!(looks_like_tracker(v.as_object().unwrap()));
        let w = serde_json::json!({"pkg": {"CVE-1": {"x": 1}}});
        assert!(!looks_like_tracker(w.as_object().unwrap()));
    }
}
