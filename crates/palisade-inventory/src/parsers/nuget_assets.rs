//! NuGet `obj/project.assets.json`: what `dotnet restore` resolved for a PackageReference project.
//!
//! `libraries` lists every resolved package (`Name/Version` keys, `type` `package`; `project` entries are
//! other projects of the solution and are skipped). `targets.<framework>` gives each package's dependencies,
//! resolved here to the versions locked for that framework. `project.frameworks.<tfm>.dependencies` are the
//! project's own references: those are direct; `suppressParent: "All"` (analyzers, build tools referenced
//! with `PrivateAssets="all"`) marks a development-only reference.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Parser for `project.assets.json` (id `nuget-project-assets`).
pub struct NugetProjectAssets;

#[derive(Deserialize)]
struct Assets {
    version: Option<u32>,
    #[serde(default)]
    targets: BTreeMap<String, BTreeMap<String, TargetEntry>>,
    #[serde(default)]
    libraries: BTreeMap<String, Library>,
    #[serde(default)]
    project: ProjectSection,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TargetEntry {
    #[serde(rename = "type")]
    kind: String,
    dependencies: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Library {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProjectSection {
    frameworks: BTreeMap<String, Framework>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Framework {
    dependencies: BTreeMap<String, FrameworkDep>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FrameworkDep {
    #[serde(rename = "suppressParent")]
    suppress_parent: Option<String>,
}

impl Parser for NugetProjectAssets {
    fn id(&self) -> &'static str {
        "nuget-project-assets"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["project.assets.json"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let assets: Assets = serde_json::from_slice(input.data)?;
        if assets.version.is_none() || (assets.libraries.is_empty() && assets.targets.is_empty()) {
            if assets.version.is_none() {
                return Err(ParseError::new("no `version`: not a project.assets.json"));
            }
            return Ok(());
        }
        // Lower-cased name → version per framework, for resolving dependency ranges.
        let mut locked: BTreeMap<String, String> = BTreeMap::new();
        for key in assets.libraries.keys() {
            if let Some((n, v)) = key.split_once('/') {
                locked.entry(n.to_lowercase()).or_insert(v.to_string());
            }
        }
        let mut direct: BTreeMap<String, bool> = BTreeMap::new();
        for f in assets.project.frameworks.values() {
            for (n, d) in &f.dependencies {
                let dev = d.suppress_parent.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("all"));
                let e = direct.entry(n.to_lowercase()).or_insert(dev);
                *e &= dev;
            }
        }
        let mut deps: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for target in assets.targets.values() {
            for (key, entry) in target {
                if entry.kind != "package" {
                    continue;
                }
                for dn in entry.dependencies.keys() {
                    if let Some(v) = locked.get(&dn.to_lowercase()) {
                        deps.entry(key.as_str()).or_default().insert(purl(Ecosystem::Nuget, dn, v));
                    }
                }
            }
        }
        let mut set = PackageSet::new();
        for (key, lib) in &assets.libraries {
            if lib.kind != "package" {
                continue;
            }
            let Some((name, version)) = key.split_once('/') else {
                out.warnings.push(format!("library {key:?}: not `Name/Version`; skipped"));
                continue;
            };
            let mut pkg = Package::new(Ecosystem::Nuget, name, version, input.location(), self.id());
            let is_direct = direct.get(&name.to_lowercase());
            pkg.direct = Some(is_direct.is_some());
            if is_direct == Some(&true) {
                pkg.scope = Scope::Dev;
            }
            pkg.dependencies =
                deps.get(key.as_str()).map(|d| d.iter().cloned().collect()).unwrap_or_default();
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

    const ASSETS: &[u8] = include_bytes!("../../tests/fixtures/dotnet/obj/project.assets.json");

    #[test]
    fn restored_packages() {
        let out = run(&NugetProjectAssets, "src/App/obj/project.assets.json", ASSETS).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "Microsoft.Extensions.DependencyInjection.Abstractions@8.0.0",
                "Microsoft.Extensions.Logging.Abstractions@8.0.0",
                "Newtonsoft.Json@13.0.3",
                "StyleCop.Analyzers@1.1.118"
            ]
        );
        let logging = get(&out, "Microsoft.Extensions.Logging.Abstractions", "8.0.0");
        assert_eq!(logging.direct, Some(true));
        assert_eq!(
            logging.dependencies,
            ["pkg:nuget/Microsoft.Extensions.DependencyInjection.Abstractions@8.0.0"]
        );
        assert_eq!(get(&out, "StyleCop.Analyzers", "1.1.118").scope, Scope::Dev);
        assert_eq!(
            get(&out, "Microsoft.Extensions.DependencyInjection.Abstractions", "8.0.0").direct,
            Some(false)
        );
    }

    #[test]
    fn malformed() {
        assert!(run(&NugetProjectAssets, "project.assets.json", b"{}").is_err());
        assert!(run(&NugetProjectAssets, "project.assets.json", b"[").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&NugetProjectAssets, "project.assets.json", ASSETS);
    }
}
