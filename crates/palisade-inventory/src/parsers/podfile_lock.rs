//! CocoaPods `Podfile.lock`: `PODS` lists every installed pod as `Name (version)`, with the pods it depends
//! on nested under it; `DEPENDENCIES` lists what the `Podfile` asks for (direct).
//!
//! Subspecs (`Firebase/Analytics (10.18.0)`) are parts of their pod: they are reported as the pod
//! (`Firebase`), once. Dependencies are resolved to the locked versions by pod name.

use super::lang_common::{PackageSet, purl, wants_name, yaml_options};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Parser for `Podfile.lock` (id `podfile-lock`).
pub struct PodfileLock;

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "PODS")]
    pods: Option<Vec<serde_json::Value>>,
    #[serde(rename = "DEPENDENCIES", default)]
    dependencies: Vec<serde_json::Value>,
    #[serde(rename = "COCOAPODS")]
    cocoapods: Option<serde_json::Value>,
}

/// `Name/Sub (= 1.0)` → (`Name`, `1.0` or the constraint).
fn split(entry: &str) -> (&str, Option<&str>) {
    let (name, rest) = match entry.split_once(" (") {
        Some((n, r)) => (n.trim(), Some(r.trim_end_matches(')').trim())),
        None => (entry.trim(), None),
    };
    (name.split('/').next().unwrap_or(name), rest)
}

impl Parser for PodfileLock {
    fn id(&self) -> &'static str {
        "podfile-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["Podfile.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = serde_saphyr::from_str_with_options(input.text()?, yaml_options())
            .map_err(|e| ParseError::new(format!("invalid Podfile.lock YAML: {e}")))?;
        let Some(pods) = lock.pods else {
            if lock.cocoapods.is_some() {
                return Ok(());
            }
            return Err(ParseError::new("no PODS section: not a Podfile.lock"));
        };
        // Each entry is `"Name (1.0)"` or `{"Name (1.0)": ["Dep (~> 2)", ...]}`.
        let mut entries: Vec<(String, Vec<String>)> = Vec::new();
        for p in &pods {
            match p {
                serde_json::Value::String(s) => entries.push((s.clone(), Vec::new())),
                serde_json::Value::Object(o) => {
                    for (k, v) in o {
                        let deps = v
                            .as_array()
                            .map(|a| a.iter().filter_map(|d| d.as_str().map(str::to_string)).collect())
                            .unwrap_or_default();
                        entries.push((k.clone(), deps));
                    }
                }
                other => out.warnings.push(format!("PODS entry {other} is not a pod; skipped")),
            }
        }
        let mut versions: BTreeMap<String, String> = BTreeMap::new();
        for (e, _) in &entries {
            if let (name, Some(v)) = split(e) {
                versions.entry(name.to_string()).or_insert(v.to_string());
            }
        }
        let direct: BTreeSet<&str> =
            lock.dependencies.iter().filter_map(|d| d.as_str()).map(|d| split(d).0).collect();
        let mut set = PackageSet::new();
        for (e, deps) in &entries {
            let (name, Some(version)) = split(e) else {
                out.warnings.push(format!("pod {e:?} has no version; skipped"));
                continue;
            };
            let mut pkg = Package::new(Ecosystem::CocoaPods, name, version, input.location(), self.id());
            pkg.direct = Some(direct.contains(name));
            for d in deps {
                let dn = split(d).0;
                if dn != name
                    && let Some(v) = versions.get(dn)
                {
                    pkg.dependencies.push(purl(Ecosystem::CocoaPods, dn, v));
                }
            }
            set.add(pkg);
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/cocoapods/Podfile.lock");

    #[test]
    fn pods_subspecs_and_direct() {
        let out = run(&PodfileLock, "ios/Podfile.lock", LOCK).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["AFNetworking@4.0.1", "Alamofire@5.8.1", "SwiftyJSON@5.0.1"]);
        assert_eq!(get(&out, "Alamofire", "5.8.1").purl, "pkg:cocoapods/Alamofire@5.8.1");
        assert_eq!(get(&out, "Alamofire", "5.8.1").direct, Some(true));
        assert_eq!(get(&out, "SwiftyJSON", "5.0.1").direct, Some(false));
        assert_eq!(get(&out, "AFNetworking", "4.0.1").direct, Some(true));
        assert_eq!(get(&out, "Alamofire", "5.8.1").dependencies, ["pkg:cocoapods/SwiftyJSON@5.0.1"]);
    }

    #[test]
    fn malformed() {
        assert!(run(&PodfileLock, "Podfile.lock", b"hello world\n").is_err());
        assert!(run(&PodfileLock, "Podfile.lock", b"PODS: {a: 1}\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&PodfileLock, "Podfile.lock", LOCK);
    }
}
