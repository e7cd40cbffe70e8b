//! .NET `*.deps.json`, written next to a built application or library (`bin/`, published images).
//!
//! `libraries` maps `Name/Version` to a `type`; only `package` entries are NuGet packages (`project` and
//! `reference` entries are the application's own assemblies). `targets` holds, per runtime target, each
//! library's `dependencies` (name to version), which become purls where the dependency is a package.
//! Packages that a `project` library depends on are direct.

use super::lang_common::{MAX_FILE_SIZE, PackageSet, file_name, purl};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Parser for .NET `*.deps.json` (id `dotnet-deps`).
pub struct DotnetDeps;

#[derive(Deserialize)]
struct DepsJson {
    #[serde(default)]
    targets: BTreeMap<String, BTreeMap<String, TargetEntry>>,
    libraries: Option<BTreeMap<String, Library>>,
}

#[derive(Deserialize)]
struct TargetEntry {
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Library {
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// `Name/Version` to (name, version).
fn split(key: &str) -> Option<(&str, &str)> {
    key.rsplit_once('/').filter(|(n, v)| !n.is_empty() && !v.is_empty())
}

impl Parser for DotnetDeps {
    fn id(&self) -> &'static str {
        "dotnet-deps"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        let name = file_name(meta.path);
        meta.size <= MAX_FILE_SIZE && name.ends_with(".deps.json") && name.len() > ".deps.json".len()
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let deps: DepsJson = serde_json::from_slice(input.data)?;
        let Some(libraries) = deps.libraries else {
            return Err(ParseError::new("no `libraries`: not a .deps.json"));
        };
        // Packages by lower-cased name and version (NuGet ids are case-insensitive).
        let mut packages: BTreeMap<(String, String), (&str, &str)> = BTreeMap::new();
        let mut projects = BTreeSet::new();
        for (key, lib) in &libraries {
            let Some((name, version)) = split(key) else {
                out.warnings.push(format!("library key {key:?} is not Name/Version, skipped"));
                continue;
            };
            match lib.kind.as_deref() {
                Some("package") => {
                    packages.insert((name.to_ascii_lowercase(), version.to_string()), (name, version));
                }
                Some("project") => {
                    projects.insert(key.to_ascii_lowercase());
                }
                _ => {}
            }
        }
        let lookup = |name: &str, version: &serde_json::Value| {
            let version = version.as_str()?;
            packages.get(&(name.to_ascii_lowercase(), version.to_string())).copied()
        };
        let mut edges: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
        let mut direct = BTreeSet::new();
        for entries in deps.targets.values() {
            for (key, entry) in entries {
                let resolved: Vec<(&str, &str)> =
                    entry.dependencies.iter().filter_map(|(n, v)| lookup(n, v)).collect();
                if projects.contains(&key.to_ascii_lowercase()) {
                    direct.extend(resolved.iter().copied());
                }
                let Some((n, v)) = split(key) else { continue };
                if let Some(from) = packages.get(&(n.to_ascii_lowercase(), v.to_string())) {
                    let e = edges.entry(*from).or_default();
                    e.extend(resolved.iter().map(|(dn, dv)| purl(Ecosystem::Nuget, dn, dv)));
                }
            }
        }
        let mut set = PackageSet::new();
        for nv @ (name, version) in packages.values().copied() {
            let mut pkg = Package::new(Ecosystem::Nuget, name, version, input.location(), self.id());
            pkg.direct = Some(direct.contains(&nv));
            if let Some(e) = edges.get(&nv) {
                pkg.dependencies = e.iter().cloned().collect();
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

    const DEPS: &[u8] = include_bytes!("../../tests/fixtures/dotnet/app.deps.json");

    #[test]
    fn packages_only() {
        assert!(DotnetDeps.wants(&FileMeta { path: "app/App.deps.json", size: 10, mode: 0, layer: None }));
        assert!(!DotnetDeps.wants(&FileMeta { path: "app/.deps.json", size: 10, mode: 0, layer: None }));
        let out = run(&DotnetDeps, "app/app.deps.json", DEPS).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["Newtonsoft.Json@13.0.3", "Serilog@3.1.1", "Serilog.Sinks.Console@5.0.1"]);
        assert_eq!(get(&out, "Serilog.Sinks.Console", "5.0.1").direct, Some(true));
        assert_eq!(get(&out, "Newtonsoft.Json", "13.0.3").direct, Some(true));
        assert_eq!(get(&out, "Serilog", "3.1.1").direct, Some(false));
        assert_eq!(get(&out, "Serilog.Sinks.Console", "5.0.1").dependencies, ["pkg:nuget/Serilog@3.1.1"]);
    }

    #[test]
    fn malformed() {
        assert!(run(&DotnetDeps, "a.deps.json", b"{\"targets\": {}}").is_err());
        assert!(run(&DotnetDeps, "a.deps.json", b"{\"libraries\": []}").is_err());
        let out =
            run(&DotnetDeps, "a.deps.json", br#"{"libraries": {"NoVersion": {"type": "package"}}}"#).unwrap();
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1);
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&DotnetDeps, "a.deps.json", DEPS);
    }
}
