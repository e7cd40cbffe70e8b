//! Alpine secdb (`secdb.alpinelinux.org/<branch>/<repo>.json`, and the older YAML of `alpine-secdb`).
//!
//! Each branch file maps `packages[].pkg.name` → `secfixes: {fixed-version: [CVE…]}`. Converted like osv.dev
//! does: one advisory `ALPINE-<CVE>` per vulnerability id with the CVE as `upstream`, and per (branch,
//! package) an `affected` entry `introduced 0, fixed <version>` in ecosystem `Alpine:<branch>`. A fixed
//! version of `0` means "never affected" and is skipped.

use super::Collector;
use crate::ecosystem::ecosystem_key;
use crate::model::{Advisory, Affected, Event, Range, RangeKind};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct SecDb {
    distroversion: String,
    #[serde(default)]
    packages: Option<Vec<PkgWrap>>,
}

#[derive(Deserialize)]
struct PkgWrap {
    pkg: Pkg,
}

#[derive(Deserialize)]
struct Pkg {
    name: String,
    #[serde(default)]
    secfixes: Option<BTreeMap<String, Option<Vec<String>>>>,
}

pub(crate) fn add_value(
    feed: &str,
    file: &str,
    value: serde_json::Value,
    c: &mut Collector,
) -> Result<(), String> {
    let db: SecDb =
        serde_json::from_value(value).map_err(|e| format!("not an Alpine secdb document: {e}"))?;
    add_secdb(feed, file, db, c)
}

pub(crate) fn add_yaml(feed: &str, file: &str, text: &str, c: &mut Collector) -> Result<(), String> {
    let db: SecDb = serde_saphyr::from_str(text).map_err(|e| format!("not an Alpine secdb document: {e}"))?;
    add_secdb(feed, file, db, c)
}

/// The vulnerability ids in one secfixes line, e.g. `CVE-2019-1 CVE-2019-2`, `XSA-123 (CVE-2020-5)`.
fn ids(line: &str) -> Vec<String> {
    line.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .map(|t| t.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|t| {
            t.contains('-')
                && t.starts_with(|c: char| c.is_ascii_uppercase())
                && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
        .collect()
}

fn add_secdb(feed: &str, file: &str, db: SecDb, c: &mut Collector) -> Result<(), String> {
    let branch = db.distroversion.trim();
    if !branch.starts_with('v') && branch != "edge" {
        return Err(format!("unexpected distroversion {branch:?}"));
    }
    let raw_eco = format!("Alpine:{branch}");
    let eco = ecosystem_key(&raw_eco).ok_or("empty distroversion")?;
    for p in db.packages.unwrap_or_default() {
        let name = p.pkg.name.trim();
        if name.is_empty() {
            continue;
        }
        for (fixed, lines) in p.pkg.secfixes.unwrap_or_default() {
            let fixed = fixed.trim();
            if fixed.is_empty() || fixed == "0" {
                continue;
            }
            for vid in lines.unwrap_or_default().iter().flat_map(|l| ids(l)) {
                let mut affected = Affected {
                    ecosystem: eco.clone(),
                    ecosystem_raw: raw_eco.clone(),
                    name: name.to_string(),
                    ranges: vec![Range {
                        kind: RangeKind::Ecosystem,
                        events: vec![Event::Introduced("0".into()), Event::Fixed(fixed.to_string())],
                    }],
                    ..Default::default()
                };
                affected.sort_events();
                let adv = Advisory {
                    id: format!("ALPINE-{vid}"),
                    upstream: vec![vid.clone()],
                    references: vec![format!("https://security.alpinelinux.org/vuln/{vid}")],
                    feed: feed.to_string(),
                    file: Some(file.to_string()),
                    affected: vec![affected],
                    ..Default::default()
                };
                c.add(adv, true);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"---
distroversion: v3.11
reponame: main
packages:
  - pkg:
      name: openssl
      secfixes:
        1.1.1d-r2:
          - CVE-2019-1551
        1.1.1a-r0:
          - CVE-2018-0734 CVE-2018-0735
        0:
          - CVE-2000-0001
  - pkg:
      name: xen
      secfixes:
        4.13.0-r0:
          - XSA-307 (CVE-2019-19581)
"#;

    #[test]
    fn yaml_secdb() {
        let mut c = Collector::default();
        add_yaml("alpine-secdb", "v3.11/main.yaml", YAML, &mut c).unwrap();
        let a = &c.advisories["ALPINE-CVE-2019-1551"];
        assert_eq!(a.upstream, ["CVE-2019-1551"]);
        assert_eq!(a.affected[0].ecosystem, "alpine:v3.11");
        assert_eq!(a.affected[0].ranges[0].events[1], Event::Fixed("1.1.1d-r2".into()));
        assert!(c.advisories.contains_key("ALPINE-CVE-2018-0735"));
        assert!(c.advisories.contains_key("ALPINE-XSA-307"));
        assert!(c.advisories.contains_key("ALPINE-CVE-2019-19581"));
        assert!(!c.advisories.contains_key("ALPINE-CVE-2000-0001"), "version 0 means not affected");
    }

    #[test]
    fn json_secdb_merges_branches() {
        let mut c = Collector::default();
        for branch in ["v3.18", "v3.19"] {
            let v = serde_json::json!({"distroversion": branch, "reponame": "main", "packages": [
                {"pkg": {"name": "curl", "secfixes": {"8.5.0-r0": ["CVE-2023-46218"]}}}]});
            add_value("secdb", &format!("{branch}/main.json"), v, &mut c).unwrap();
        }
        let a = &c.advisories["ALPINE-CVE-2023-46218"];
        assert_eq!(a.affected.len(), 2);
        let bad = serde_json::json!({"distroversion": "3.19", "packages": []});
        assert!(add_value("secdb", "x.json", bad, &mut c).is_err());
    }
}
