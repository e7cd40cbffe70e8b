//! `uv.lock` (TOML): one `[[package]]` table per locked distribution.
//!
//! The project itself and other workspace members have `source = { virtual = ... }` or
//! `source = { editable = ... }`, local packages `source = { directory = ... }`: they are the file's root
//! projects, not packages, each depending on its `dependencies`, `optional-dependencies` and
//! `dev-dependencies`, which are the direct dependencies. Scope is computed from the
//! graph: reachable from a regular dependency of the project is required, else reachable from an extra is
//! optional, else reachable from a dependency group (`dev-dependencies`) is dev. Dependency entries name a
//! package and, when several versions are locked (per-marker forks), the version too. Packages without a
//! version (dynamic local projects) are skipped. The purl name is PEP 503 normalised.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser, Project, join_dir, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::package::normalize_pypi;
use palisade_core::{Ecosystem, Package, Scope};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Parser for `uv.lock` (id `uv-lock`).
pub struct UvLock;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    version: Option<toml::Value>,
    #[serde(default)]
    package: Vec<LockedPackage>,
}

#[derive(Deserialize)]
struct LockedPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, toml::Value>,
    #[serde(default)]
    dependencies: Vec<Dep>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<Dep>>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, Vec<Dep>>,
}

#[derive(Deserialize)]
struct Dep {
    name: String,
    #[serde(default)]
    version: Option<String>,
}

/// Graph node: (normalised name, version).
type Node = (String, String);

impl LockedPackage {
    fn is_local_project(&self) -> bool {
        ["virtual", "editable", "directory"].iter().any(|k| self.source.contains_key(*k))
    }
}

impl Parser for UvLock {
    fn id(&self) -> &'static str {
        "uv-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["uv.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = toml::from_str(input.text()?)
            .map_err(|e| ParseError::new(format!("invalid uv.lock TOML: {e}")))?;
        if lock.version.is_none() && lock.package.is_empty() {
            return Err(ParseError::new("no version and no [[package]]: not a uv.lock"));
        }
        // Every locked version per normalised name, to resolve dependency entries.
        let mut versions: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for p in &lock.package {
            if let Some(v) = p.version.as_deref() {
                versions.entry(normalize_pypi(&p.name)).or_default().push(v);
            }
        }
        let resolve = |d: &Dep| -> Vec<Node> {
            let n = normalize_pypi(&d.name);
            let candidates = versions.get(&n).map(Vec::as_slice).unwrap_or_default();
            candidates
                .iter()
                .filter(|v| d.version.as_deref().is_none_or(|want| want == **v))
                .map(|v| (n.clone(), v.to_string()))
                .collect()
        };

        let mut graph: BTreeMap<Node, BTreeSet<Node>> = BTreeMap::new();
        let (mut prod, mut opt, mut dev) = (Vec::new(), Vec::new(), Vec::new());
        for p in &lock.package {
            if p.is_local_project() {
                let start = (prod.len(), opt.len(), dev.len());
                prod.extend(p.dependencies.iter().flat_map(&resolve));
                opt.extend(p.optional_dependencies.values().flatten().flat_map(&resolve));
                dev.extend(p.dev_dependencies.values().flatten().flat_map(&resolve));
                let version = p.version.as_deref().unwrap_or_default();
                let mut project =
                    Package::new(Ecosystem::PyPI, &p.name, version, input.location(), self.id());
                let own = prod[start.0..].iter().chain(&opt[start.1..]).chain(&dev[start.2..]);
                project.dependencies = own.map(|(n, v)| purl(Ecosystem::PyPI, n, v)).collect();
                project.dependencies.sort();
                project.dependencies.dedup();
                let path = ["virtual", "editable", "directory"]
                    .iter()
                    .find_map(|k| p.source.get(*k).and_then(toml::Value::as_str))
                    .unwrap_or(".");
                out.projects.push(Project::new(project, join_dir(parent_dir(input.path), path)));
                continue;
            }
            let Some(v) = p.version.as_deref() else { continue };
            let edges = graph.entry((normalize_pypi(&p.name), v.to_string())).or_default();
            let all = p.dependencies.iter().chain(p.optional_dependencies.values().flatten());
            edges.extend(all.flat_map(&resolve));
        }
        let direct: BTreeSet<Node> = prod.iter().chain(&opt).chain(&dev).cloned().collect();
        let prod = reachable(&graph, &prod);
        let opt = reachable(&graph, &opt);
        let dev = reachable(&graph, &dev);

        let mut set = PackageSet::new();
        for p in &lock.package {
            if p.is_local_project() {
                continue;
            }
            let Some(version) = p.version.as_deref() else {
                out.warnings.push(format!("{}: no version, skipped", p.name));
                continue;
            };
            let node = (normalize_pypi(&p.name), version.to_string());
            let mut pkg = Package::new(Ecosystem::PyPI, &p.name, version, input.location(), self.id());
            pkg.scope = if prod.contains(&node) {
                Scope::Required
            } else if opt.contains(&node) {
                Scope::Optional
            } else if dev.contains(&node) {
                Scope::Dev
            } else {
                Scope::Required
            };
            pkg.direct = Some(direct.contains(&node));
            if let Some(edges) = graph.get(&node) {
                pkg.dependencies = edges.iter().map(|(n, v)| purl(Ecosystem::PyPI, n, v)).collect();
            }
            set.add(pkg);
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

fn reachable(graph: &BTreeMap<Node, BTreeSet<Node>>, roots: &[Node]) -> BTreeSet<Node> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&Node> = roots.iter().collect();
    while let Some(n) = stack.pop() {
        if seen.insert(n.clone())
            && let Some(edges) = graph.get(n)
        {
            stack.extend(edges.iter().filter(|e| !seen.contains(*e)));
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/python/uv.lock");

    #[test]
    fn generated_by_uv() {
        let out = run(&UvLock, "uv.lock", LOCK).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "certifi@2026.10.18",
                "charset-normalizer@3.5.2",
                "idna@3.20",
                "iniconfig@2.0.0",
                "pysocks@1.7.1",
                "requests@2.31.0",
                "urllib3@2.6.3",
                "urllib3@2.8.0"
            ]
        );
        let requests = get(&out, "requests", "2.31.0");
        assert_eq!(requests.direct, Some(true));
        assert_eq!(requests.scope, Scope::Required);
        assert_eq!(requests.dependencies.len(), 5);
        assert!(requests.dependencies.contains(&"pkg:pypi/urllib3@2.6.3".to_string()));
        assert_eq!(get(&out, "urllib3", "2.8.0").direct, Some(false));
        assert_eq!(get(&out, "urllib3", "2.8.0").scope, Scope::Required);
        assert_eq!(get(&out, "pysocks", "1.7.1").scope, Scope::Optional);
        assert_eq!(get(&out, "iniconfig", "2.0.0").scope, Scope::Dev);
        assert!(!out.packages.iter().any(|p| p.name == "fixture-app"));
        // The virtual root is the project, depending on its regular, optional and dev dependencies.
        assert_eq!(out.projects.len(), 1);
        let root = &out.projects[0];
        assert_eq!((root.package.purl.as_str(), root.dir.as_str()), ("pkg:pypi/fixture-app@0.1.0", ""));
        assert_eq!(
            root.package.dependencies,
            ["pkg:pypi/iniconfig@2.0.0", "pkg:pypi/pysocks@1.7.1", "pkg:pypi/requests@2.31.0"]
        );
    }

    #[test]
    fn malformed() {
        assert!(run(&UvLock, "uv.lock", b"[[package]]\nversion = \"1\"\n").is_err());
        assert!(run(&UvLock, "uv.lock", b"x = 1\n").is_err());
        assert!(run(&UvLock, "uv.lock", b"version = 1\n[[package]\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&UvLock, "uv.lock", LOCK);
    }
}
