//! Matching packages against the database.
//!
//! For each package: its match key (see [`crate::ecosystem::match_key`]: language packages by name, OS
//! packages by source package and release) selects the affected rows; each row is evaluated with the OSV
//! algorithm (events in version order: `introduced` opens, `fixed` closes, `last_affected` closes after,
//! `limit` bounds; explicit `versions` lists; GIT ranges ignored). The advisories that hit are then grouped
//! into vulnerabilities: advisories sharing an id or alias merge; a distro advisory naming several CVEs
//! (DSA/DLA, DEBIAN-/ALPINE- records) counts once per CVE. Each group becomes one
//! [`VulnFinding`] whose id is the CVE when there is one.

use crate::DbError;
use crate::db::Db;
use crate::ecosystem::{MatchKey, is_distro, match_key, scheme_for};
use crate::model::{Advisory, Affected, Event, RangeKind};
use crate::severity;
use crate::version::{Scheme, Version};
use palisade_core::findings::vuln::{AdvisorySource, CvssScore, VulnFinding, VulnStatus};
use palisade_core::{OsInfo, Package, ScanReport};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// One range with its event versions parsed once.
#[derive(Debug)]
struct PreparedRange {
    kind: RangeKind,
    scheme: Scheme,
    /// `None` version for `introduced: 0` and `limit: *`.
    events: Vec<(Event, Option<Version>)>,
    /// False when an event version does not parse: the range is not used (never guessed).
    usable: bool,
}

/// An affected row ready for evaluation.
#[derive(Debug)]
pub(crate) struct PreparedAffected {
    advisory: i64,
    affected: Affected,
    ranges: Vec<PreparedRange>,
    /// The explicitly listed versions, parsed on first use (lists run to hundreds of versions and are only
    /// consulted when no range matches).
    listed: std::sync::OnceLock<Vec<Option<Version>>>,
}

/// The outcome of one affected row for one installed version.
#[derive(Debug, Clone)]
struct Hit {
    status: VulnStatus,
    fixed: Option<String>,
    text: String,
}

impl PreparedAffected {
    pub(crate) fn new(advisory: i64, affected: Affected) -> Self {
        let eco_scheme = scheme_for(&affected.ecosystem);
        let ranges = affected
            .ranges
            .iter()
            .filter(|r| r.kind != RangeKind::Git)
            .map(|r| {
                let scheme = match (r.kind, eco_scheme) {
                    (RangeKind::Semver, Scheme::Go) => Scheme::Go,
                    (RangeKind::Semver, _) => Scheme::Semver,
                    _ => eco_scheme,
                };
                let mut usable = true;
                let events = r
                    .events
                    .iter()
                    .map(|e| {
                        let v = match e {
                            Event::Introduced(v) if v == "0" => None,
                            Event::Limit(v) if v == "*" => None,
                            _ => match scheme.parse(e.version()) {
                                Ok(v) => Some(v),
                                Err(err) => {
                                    tracing::debug!("advisory row {advisory}: {err}; range not used");
                                    usable = false;
                                    None
                                }
                            },
                        };
                        (e.clone(), v)
                    })
                    .collect();
                PreparedRange { kind: r.kind, scheme, events, usable }
            })
            .collect();
        PreparedAffected { advisory, affected, ranges, listed: std::sync::OnceLock::new() }
    }

    fn status_without_fix(&self) -> VulnStatus {
        match self.affected.status.as_deref() {
            Some("end-of-life") => VulnStatus::EndOfLife,
            Some("ignored" | "no-dsa" | "will-not-fix" | "wontfix" | "will_not_fix") => {
                VulnStatus::WillNotFix
            }
            _ => VulnStatus::Affected,
        }
    }

    fn evaluate(&self, installed: &str, parsed: &mut ParsedCache) -> Option<Hit> {
        for r in self.ranges.iter().filter(|r| r.usable) {
            let Some(inst) = parsed.get(r.scheme, installed) else { continue };
            let ge = |v: &Option<Version>| {
                v.as_ref().and_then(|v| inst.compare(v)).is_some_and(|o| o != Ordering::Less)
            };
            let gt =
                |v: &Option<Version>| v.as_ref().and_then(|v| inst.compare(v)) == Some(Ordering::Greater);
            let mut affected = false;
            let mut intro: Option<&str> = None;
            let mut close: Option<&Event> = None;
            let mut limits = Vec::new();
            for (ev, ver) in &r.events {
                match ev {
                    Event::Introduced(v) => {
                        if ver.is_none() || ge(ver) {
                            affected = true;
                            intro = Some(v);
                            close = None;
                        }
                    }
                    Event::Fixed(_) => {
                        if ge(ver) {
                            affected = false;
                        } else if affected && close.is_none() {
                            close = Some(ev);
                        }
                    }
                    Event::LastAffected(_) => {
                        if gt(ver) {
                            affected = false;
                        } else if affected && close.is_none() {
                            close = Some(ev);
                        }
                    }
                    Event::Limit(_) => limits.push(ver),
                }
            }
            if !limits.is_empty()
                && !limits
                    .iter()
                    .any(|l| l.is_none() || l.as_ref().and_then(|l| inst.compare(l)) == Some(Ordering::Less))
            {
                affected = false;
            }
            if !affected {
                continue;
            }
            let intro = intro.unwrap_or("0");
            let kind = r.kind.as_str();
            return Some(match close {
                Some(Event::Fixed(f)) => Hit {
                    status: VulnStatus::Fixed,
                    fixed: Some(f.clone()),
                    text: format!("introduced {intro}, fixed {f} ({kind})"),
                },
                Some(Event::LastAffected(l)) => Hit {
                    status: VulnStatus::Affected,
                    fixed: None,
                    text: format!("introduced {intro}, last_affected {l} ({kind})"),
                },
                _ => {
                    let status = self.status_without_fix();
                    let why = match &self.affected.status {
                        Some(s) => format!("no fix ({s})"),
                        None => "no fix".to_string(),
                    };
                    Hit { status, fixed: None, text: format!("introduced {intro}, {why} ({kind})") }
                }
            });
        }
        if self.affected.versions.is_empty() {
            return None;
        }
        let listed = self.affected.versions.iter().any(|v| v == installed) || {
            let scheme = scheme_for(&self.affected.ecosystem);
            let parsed_listed = self
                .listed
                .get_or_init(|| self.affected.versions.iter().map(|v| scheme.parse(v).ok()).collect());
            parsed.get(scheme, installed).is_some_and(|inst| {
                parsed_listed.iter().flatten().any(|v| inst.compare(v) == Some(Ordering::Equal))
            })
        };
        listed.then(|| Hit {
            status: self.status_without_fix(),
            fixed: None,
            text: format!("version {installed} listed as affected"),
        })
    }
}

/// The installed version parsed per scheme, at most once each.
#[derive(Default)]
struct ParsedCache(Vec<(Scheme, Option<Version>)>);

impl ParsedCache {
    fn get(&mut self, scheme: Scheme, raw: &str) -> Option<&Version> {
        let i = match self.0.iter().position(|(s, _)| *s == scheme) {
            Some(i) => i,
            None => {
                self.0.push((scheme, scheme.parse(raw).ok()));
                self.0.len() - 1
            }
        };
        self.0.get(i).and_then(|(_, v)| v.as_ref())
    }
}

/// Match packages against the database. `os` is the scanned OS (needed for OS packages).
///
/// One finding per package and vulnerability: a package found in several files (see
/// `palisade-inventory`'s merge) is one [`Package`] with several locations, and its findings carry all of
/// them.
pub fn match_packages<'a>(
    db: &Db,
    os: Option<&OsInfo>,
    packages: impl IntoIterator<Item = &'a Package>,
) -> Result<Vec<VulnFinding>, DbError> {
    let mut findings = Vec::new();
    for pkg in packages {
        let Some(key) = match_key(os, pkg) else { continue };
        let rows = db.affected_for(&key.ecosystem, &key.name)?;
        if rows.is_empty() {
            continue;
        }
        let mut parsed = ParsedCache::default();
        let mut hits = Vec::new();
        for row in rows.iter() {
            if let Some(h) = row.evaluate(&key.version, &mut parsed) {
                hits.push((row, h));
            }
        }
        if hits.is_empty() {
            continue;
        }
        findings.extend(build_findings(db, pkg, &key, hits)?);
    }
    findings.sort_by(|a, b| (&a.purl, &a.id).cmp(&(&b.purl, &b.id)));
    Ok(findings)
}

/// Match a report's packages, and its root projects that are the module a binary was built from
/// ([`Package::is_binary_main`]: the binary ships that version), against the database. Other root projects
/// (a lockfile's own project) are the code being scanned, not a dependency of it, and are not matched.
pub fn match_report(db: &Db, report: &ScanReport) -> Result<Vec<VulnFinding>, DbError> {
    let binaries = report.projects.iter().filter(|p| p.is_binary_main());
    match_packages(db, report.os.as_ref(), report.packages.iter().chain(binaries))
}

/// One advisory hit, as one vulnerability (a multi-CVE distro advisory gives one unit per CVE).
struct Unit<'a> {
    /// Ids that identify the vulnerability (merge keys).
    keys: BTreeSet<String>,
    /// Other ids to list as aliases but not to merge on.
    extra: BTreeSet<String>,
    adv: Arc<Advisory>,
    row: &'a PreparedAffected,
    hit: Hit,
}

fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

fn units_of<'a>(adv: Arc<Advisory>, row: &'a PreparedAffected, hit: Hit) -> Vec<Unit<'a>> {
    let ids: BTreeSet<String> = std::iter::once(adv.id.clone()).chain(adv.aliases.iter().cloned()).collect();
    let upstream_cves: Vec<&String> = adv.upstream.iter().filter(|u| is_cve(u)).collect();
    if !ids.iter().any(|i| is_cve(i)) && !upstream_cves.is_empty() {
        return upstream_cves
            .into_iter()
            .map(|cve| Unit {
                keys: BTreeSet::from([cve.clone()]),
                extra: ids.clone(),
                adv: adv.clone(),
                row,
                hit: hit.clone(),
            })
            .collect();
    }
    let extra = adv.upstream.iter().filter(|u| !ids.contains(*u)).cloned().collect();
    vec![Unit { keys: ids, extra, adv, row, hit }]
}

fn canonical(keys: &BTreeSet<String>) -> String {
    keys.iter()
        .find(|k| is_cve(k))
        .or_else(|| keys.iter().find(|k| k.starts_with("GHSA-")))
        .or_else(|| keys.iter().next())
        .cloned()
        .unwrap_or_default()
}

/// Group units that share a key (transitively), with a union-find over the units: a kernel source package
/// can have thousands of hits. Groups come in the order of their first unit; units keep their order.
fn group_units(units: Vec<Unit<'_>>) -> Vec<Vec<Unit<'_>>> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while let Some(&p) = parent.get(i) {
            if p == i {
                break;
            }
            let grand = parent.get(p).copied().unwrap_or(p);
            if let Some(slot) = parent.get_mut(i) {
                *slot = grand;
            }
            i = p;
        }
        i
    }
    let mut parent: Vec<usize> = (0..units.len()).collect();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        for k in &u.keys {
            match first.get(k.as_str()) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    // The smaller index becomes the root, so a group's root is its first unit.
                    let (lo, hi) = (a.min(b), a.max(b));
                    if let Some(slot) = parent.get_mut(hi) {
                        *slot = lo;
                    }
                }
                None => {
                    first.insert(k.as_str(), i);
                }
            }
        }
    }
    let roots: Vec<usize> = (0..units.len()).map(|i| root(&mut parent, i)).collect();
    let mut slot_of_root: HashMap<usize, usize> = HashMap::new();
    let mut groups: Vec<Vec<Unit>> = Vec::new();
    for (u, r) in units.into_iter().zip(roots) {
        let slot = *slot_of_root.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(slot) {
            g.push(u);
        }
    }
    groups
}

fn build_findings(
    db: &Db,
    pkg: &Package,
    key: &MatchKey,
    hits: Vec<(&PreparedAffected, Hit)>,
) -> Result<Vec<VulnFinding>, DbError> {
    let mut units = Vec::new();
    for (row, hit) in hits {
        let adv = db.advisory(row.advisory)?;
        units.extend(units_of(adv, row, hit));
    }
    let groups = group_units(units);
    let scheme = scheme_for(&key.ecosystem);
    let distro = is_distro(&key.ecosystem);
    let mut out = Vec::new();
    for g in groups {
        let keys: BTreeSet<String> = g.iter().flat_map(|u| u.keys.iter().cloned()).collect();
        let id = canonical(&keys);
        let aliases: Vec<String> = keys
            .iter()
            .chain(g.iter().flat_map(|u| u.extra.iter()))
            .filter(|k| **k != id)
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let status = [VulnStatus::Fixed, VulnStatus::Affected, VulnStatus::WillNotFix, VulnStatus::EndOfLife]
            .into_iter()
            .find(|s| g.iter().any(|u| u.hit.status == *s))
            .unwrap_or(VulnStatus::Affected);
        let mut fixed: Vec<String> = g.iter().filter_map(|u| u.hit.fixed.clone()).collect();
        fixed.sort_by(|a, b| scheme.compare(a, b).unwrap_or_else(|| a.cmp(b)));
        fixed.dedup();
        let mut cvss: Vec<CvssScore> = Vec::new();
        for u in &g {
            for v in &u.adv.cvss {
                if !cvss.iter().any(|c| c.vector == *v)
                    && let Some(c) = severity::score_vector(v, Some(&u.adv.id))
                {
                    cvss.push(c);
                }
            }
        }
        let vendor = g
            .iter()
            .find_map(|u| {
                u.row.affected.severity.as_deref().map(|s| (s, format!("{} ({})", u.adv.feed, u.adv.id)))
            })
            .or_else(|| {
                g.iter().find_map(|u| {
                    u.adv.vendor_severity.as_deref().map(|s| (s, format!("{} ({})", u.adv.feed, u.adv.id)))
                })
            });
        let (sev, sev_source) =
            severity::choose(distro, vendor.as_ref().map(|(s, src)| (*s, src.as_str())), &cvss);
        let primary = g
            .iter()
            .find(|u| u.adv.id == id && u.adv.summary.is_some())
            .or_else(|| g.iter().find(|u| u.adv.summary.is_some()));
        let title = primary.and_then(|u| u.adv.summary.clone());
        let description = g.iter().find_map(|u| u.adv.details.clone());
        let mut references = Vec::new();
        for u in &g {
            for r in &u.adv.references {
                if !references.contains(r) {
                    references.push(r.clone());
                }
            }
        }
        let via = if key.via_source {
            format!(
                " for source package {} {} ({})",
                key.name,
                key.version,
                g.first().map_or("", |u| u.row.affected.ecosystem_raw.as_str())
            )
        } else if distro {
            format!(" ({})", g.first().map_or("", |u| u.row.affected.ecosystem_raw.as_str()))
        } else {
            String::new()
        };
        let mut matched_by: Vec<String> =
            g.iter().map(|u| format!("{} in {}{via}", u.hit.text, u.adv.id)).collect();
        matched_by.dedup();
        let mut advisory_sources: Vec<AdvisorySource> = g
            .iter()
            .map(|u| AdvisorySource {
                feed: u.adv.feed.clone(),
                id: u.adv.id.clone(),
                file: u.adv.file.clone(),
            })
            .collect();
        advisory_sources.sort();
        advisory_sources.dedup();
        let published = g.iter().filter_map(|u| u.adv.published.clone()).min();
        let modified = g.iter().filter_map(|u| u.adv.modified.clone()).max();
        let exploit = match std::iter::once(&id).chain(&aliases).find(|a| is_cve(a)) {
            Some(cve) => db.exploit(cve)?,
            None => None,
        };
        out.push(VulnFinding {
            id,
            aliases,
            package_name: pkg.name.clone(),
            package_version: pkg.version.clone(),
            ecosystem: pkg.ecosystem,
            purl: pkg.purl.clone(),
            locations: pkg.locations.clone(),
            installed_version: key.version.clone(),
            fixed_version: fixed.first().cloned(),
            fixed_versions: fixed,
            status,
            severity: sev,
            severity_source: sev_source,
            cvss,
            title,
            description,
            references,
            matched_by,
            advisory_sources,
            published,
            modified,
            exploit,
            suppressed: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Range;

    fn row(eco: &str, events: Vec<Event>, versions: &[&str], status: Option<&str>) -> PreparedAffected {
        let mut a = Affected {
            ecosystem: eco.into(),
            ecosystem_raw: eco.into(),
            name: "p".into(),
            ranges: vec![Range { kind: RangeKind::Ecosystem, events }],
            versions: versions.iter().map(|s| s.to_string()).collect(),
            status: status.map(str::to_string),
            severity: None,
        };
        a.sort_events();
        PreparedAffected::new(1, a)
    }

    fn eval(r: &PreparedAffected, v: &str) -> Option<Hit> {
        r.evaluate(v, &mut ParsedCache::default())
    }

    use Event::*;

    #[test]
    fn introduced_fixed_several_ranges() {
        let r = row(
            "pypi",
            vec![
                Introduced("0".into()),
                Fixed("2.2.24".into()),
                Introduced("3.0".into()),
                Fixed("3.1.12".into()),
            ],
            &[],
            None,
        );
        let h = eval(&r, "2.2.0").unwrap();
        assert_eq!(h.fixed.as_deref(), Some("2.2.24"));
        assert_eq!(h.text, "introduced 0, fixed 2.2.24 (ECOSYSTEM)");
        assert!(eval(&r, "2.2.24").is_none());
        assert!(eval(&r, "2.2.99").is_none());
        assert_eq!(eval(&r, "3.0").unwrap().fixed.as_deref(), Some("3.1.12"));
        assert!(eval(&r, "3.1.12").is_none());
        assert!(eval(&r, "3.2").is_none());
    }

    #[test]
    fn last_affected_limit_and_versions() {
        let r = row("npm", vec![Introduced("1.0.0".into()), LastAffected("1.4.0".into())], &[], None);
        assert_eq!(eval(&r, "1.4.0").unwrap().status, VulnStatus::Affected);
        assert!(eval(&r, "1.4.1").is_none());
        assert!(eval(&r, "0.9.0").is_none());
        let l = row("npm", vec![Introduced("0".into()), Limit("2.0.0".into())], &[], None);
        assert!(eval(&l, "1.9.9").is_some());
        assert!(eval(&l, "2.0.0").is_none());
        let v = row("pypi", vec![], &["1.0.1", "1.0.2"], None);
        assert_eq!(eval(&v, "1.0.1").unwrap().text, "version 1.0.1 listed as affected");
        assert!(eval(&v, "1.0.3").is_none());
        // An unparseable bound disables the range instead of guessing.
        let bad = row("npm", vec![Introduced("0".into()), Fixed("not-a-version".into())], &[], None);
        assert!(eval(&bad, "1.0.0").is_none());
        // An unparseable installed version matches nothing.
        assert!(eval(&r, "garbage").is_none());
    }

    #[test]
    fn distro_statuses() {
        let eol = row("debian:11", vec![Introduced("0".into())], &[], Some("end-of-life"));
        assert_eq!(eval(&eol, "1.0-1").unwrap().status, VulnStatus::EndOfLife);
        let ign = row("debian:11", vec![Introduced("0".into())], &[], Some("ignored"));
        assert_eq!(eval(&ign, "1.0-1").unwrap().status, VulnStatus::WillNotFix);
        let open = row("debian:11", vec![Introduced("0".into())], &[], Some("unfixed"));
        let h = eval(&open, "1.0-1").unwrap();
        assert_eq!(
            (h.status, h.text.as_str()),
            (VulnStatus::Affected, "introduced 0, no fix (unfixed) (ECOSYSTEM)")
        );
        let fixed = row("debian:11", vec![Introduced("0".into()), Fixed("1.0-1+deb11u1".into())], &[], None);
        assert_eq!(eval(&fixed, "1.0-1").unwrap().status, VulnStatus::Fixed);
        assert!(eval(&fixed, "1.0-1+deb11u1").is_none());
    }

    #[test]
    fn units_group_transitively_in_first_seen_order() {
        let r = row("pypi", vec![Introduced("0".into())], &[], None);
        let unit = |keys: &[&str], id: &str| Unit {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            extra: BTreeSet::new(),
            adv: Arc::new(Advisory { id: id.into(), ..Default::default() }),
            row: &r,
            hit: Hit { status: VulnStatus::Affected, fixed: None, text: String::new() },
        };
        // a and c only meet through b, which comes last; d stands alone.
        let units =
            vec![unit(&["A", "X"], "a"), unit(&["D"], "d"), unit(&["C"], "c"), unit(&["X", "C"], "b")];
        let groups = group_units(units);
        let ids: Vec<Vec<&str>> =
            groups.iter().map(|g| g.iter().map(|u| u.adv.id.as_str()).collect()).collect();
        assert_eq!(ids, [vec!["a", "c", "b"], vec!["d"]]);
        assert!(group_units(Vec::new()).is_empty());
    }

    #[test]
    fn multi_cve_distro_advisory_splits() {
        let adv = Arc::new(Advisory {
            id: "DSA-1-1".into(),
            upstream: vec!["CVE-1".into(), "CVE-2".into()],
            ..Default::default()
        });
        let r = row("debian:11", vec![Introduced("0".into())], &[], None);
        let hit = Hit { status: VulnStatus::Affected, fixed: None, text: String::new() };
        let units = units_of(adv, &r, hit);
        assert_eq!(units.len(), 2);
        assert!(units[0].extra.contains("DSA-1-1"));
        assert_eq!(canonical(&BTreeSet::from(["GHSA-x".to_string(), "PYSEC-1".to_string()])), "GHSA-x");
    }
}
