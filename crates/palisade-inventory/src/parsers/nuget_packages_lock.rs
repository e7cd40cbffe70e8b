//! NuGet `packages.lock.json` (`RestorePackagesWithLockFile`).
//!
//! `dependencies` maps each target framework (`net8.0`, and runtime-specific `net8.0/linux-x64`) to
//! packages with `type` `Direct`, `Transitive`, `CentralTransitive` or `Project` and the `resolved`
//! version. Project references are the solution's own code and are skipped. `Direct` gives
//! `direct = Some(true)`, the others `Some(false)`. Each package's `dependencies` (name to version range)
//! are resolved to the versions locked for the same framework. Packages locked for several frameworks
//! merge into one.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Parser for NuGet `packages.lock.json` (id `nuget-packages-lock`).
pub struct NugetPackagesLock;

#[derive(Deserialize)]
struct Lock {
    version: Option<serde_json::Value>,
    dependencies: Option<BTreeMap<String, BTreeMap<String, Locked>>>,
}

#[derive(Deserialize)]
struct Locked {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Value>,
}

impl Parser for NugetPackagesLock {
    fn id(&self) -> &'static str {
        "nuget-packages-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["packages.lock.json"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = serde_json::from_slice(input.data)?;
        let Some(frameworks) = lock.dependencies else {
            let v = lock.version.map(|v| v.to_string()).unwrap_or_else(|| "none".into());
            return Err(ParseError::new(format!(
                "no `dependencies` (version {v}): not a packages.lock.json"
            )));
        };
        let mut set = PackageSet::new();
        for packages in frameworks.values() {
            let resolved: BTreeMap<String, (&str, &str)> = packages
                .iter()
                .filter_map(|(n, p)| Some((n.to_ascii_lowercase(), (n.as_str(), p.resolved.as_deref()?))))
                .collect();
            for (name, p) in packages {
                if p.kind.as_deref() == Some("Project") {
                    continue;
                }
                let Some(version) = p.resolved.as_deref().filter(|v| !v.is_empty()) else {
                    out.warnings.push(format!("{name}: no resolved version, skipped"));
                    continue;
                };
                let mut pkg = Package::new(Ecosystem::Nuget, name, version, input.location(), self.id());
                pkg.direct = Some(p.kind.as_deref() == Some("Direct"));
                for dep in p.dependencies.keys() {
                    if let Some((n, v)) = resolved.get(&dep.to_ascii_lowercase()) {
                        pkg.dependencies.push(purl(Ecosystem::Nuget, n, v));
                    }
                }
                set.add(pkg);
            }
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/dotnet/packages.lock.json");

    #[test]
    fn direct_and_transitive() {
        let out = run(&NugetPackagesLock, "src/App/packages.lock.json", LOCK).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "Newtonsoft.Json@13.0.3",
                "Serilog@3.1.1",
                "Serilog.Sinks.Console@5.0.1",
                "System.Text.Json@8.0.4"
            ]
        );
        assert_eq!(get(&out, "Newtonsoft.Json", "13.0.3").direct, Some(true));
        assert_eq!(get(&out, "Newtonsoft.Json", "13.0.3").purl, "pkg:nuget/Newtonsoft.Json@13.0.3");
        assert_eq!(get(&out, "Serilog", "3.1.1").direct, Some(false));
        assert_eq!(get(&out, "System.Text.Json", "8.0.4").direct, Some(false));
        assert_eq!(get(&out, "Serilog.Sinks.Console", "5.0.1").dependencies, ["pkg:nuget/Serilog@3.1.1"]);
    }

    #[test]
    fn malformed() {
        assert!(run(&NugetPackagesLock, "packages.lock.json", b"{\"version\": 1}").is_err());
        assert!(
            run(&NugetPackagesLock, "packages.lock.json", b"{\"dependencies\": {\"net8.0\": []}}").is_err()
        );
        let out = run(
            &NugetPackagesLock,
            "packages.lock.json",
            br#"{"dependencies": {"net8.0": {"A": {"type": "Direct"}}}}"#,
        )
        .unwrap();
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1);
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&NugetPackagesLock, "packages.lock.json", LOCK);
    }
}
