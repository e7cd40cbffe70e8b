//! Direct and development dependencies of lockfiles that do not record them, from the project manifest
//! beside them.
//!
//! `yarn.lock` (classic) says neither which packages the project asks for nor which are for development;
//! berry says what is direct but not what is dev; `poetry.lock`, `pdm.lock` and `pylock.toml` record scope
//! but not what is direct. The project manifest in the same directory does (`package.json`
//! `dependencies`, `optionalDependencies`, `devDependencies`; `pyproject.toml` `[project]` dependencies,
//! optional dependencies and `[dependency-groups]`, Poetry's `[tool.poetry.*dependencies]` and groups, PDM's
//! and uv's dev dependencies): [`crate::parsers::project_manifest`] records the names it declares
//! ([`Declared`]) and, after the walk, [`apply`] completes such a lockfile of the same ecosystem:
//!
//! - direct: a package whose name the manifest declares (PyPI names compared PEP 503 normalised). When the
//!   lockfile holds several versions of that name, the ones no other locked package depends on are the
//!   project's (npm: the nested `ms 2.0.0` of `debug` is not the project's `ms 2.1.3`); PyPI lockfiles list
//!   several versions only for per-environment forks, all the project's. Every other package is transitive.
//! - scope (yarn only): a package not reachable through the lockfile's graph from the direct dependencies
//!   the manifest declares as `dependencies` is [`Scope::Optional`] when reachable from its
//!   `optionalDependencies`, else [`Scope::Dev`] when reachable from its `devDependencies`.
//!
//! A lockfile that records these itself is left as it is, and so is one with no manifest beside it.

use super::lang_common::file_name;
use crate::Output;
use palisade_core::package::normalize_pypi;
use palisade_core::{Ecosystem, Scope};
use std::collections::{BTreeSet, HashMap};

/// The dependency names a project manifest declares, by kind.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Declared {
    pub ecosystem: Option<Ecosystem>,
    pub required: BTreeSet<String>,
    pub optional: BTreeSet<String>,
    pub dev: BTreeSet<String>,
}

impl Declared {
    fn key(&self, name: &str) -> String {
        match self.ecosystem {
            Some(Ecosystem::PyPI) => normalize_pypi(name),
            _ => name.to_string(),
        }
    }

    /// Add `name` to the set of kind `kind` (`required`, `optional`, `dev`).
    pub fn add(&mut self, kind: Kind, name: &str) {
        let name = self.key(name.trim());
        if name.is_empty() {
            return;
        }
        match kind {
            Kind::Required => self.required.insert(name),
            Kind::Optional => self.optional.insert(name),
            Kind::Dev => self.dev.insert(name),
        };
    }

    fn is_empty(&self) -> bool {
        self.required.is_empty() && self.optional.is_empty() && self.dev.is_empty()
    }
}

/// What a manifest declares a dependency as.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Required,
    Optional,
    Dev,
}

/// The leading name of a PEP 508 requirement (`requests[socks]>=2; python_version < "3.11"` → `requests`).
pub fn pep508_name(requirement: &str) -> &str {
    let r = requirement.trim_start();
    let end =
        r.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(r.len());
    &r[..end]
}

/// Lockfiles that do not say what is direct.
const WITHOUT_DIRECT: &[&str] = &["yarn.lock", "poetry.lock", "pdm.lock", "pylock.toml"];
/// Lockfiles that do not say what is for development.
const WITHOUT_DEV: &[&str] = &["yarn.lock"];

/// Complete the lockfile at `path` (its `out`) from the manifests declared in its directory (`by_dir`:
/// directory → what its manifests declare).
pub fn apply(by_dir: &HashMap<String, Vec<Declared>>, path: &str, out: &mut Output) {
    let name = file_name(path);
    if !WITHOUT_DIRECT.contains(&name) && !WITHOUT_DEV.contains(&name) || out.packages.is_empty() {
        return;
    }
    let Some(ecosystem) = out.packages.first().map(|p| p.ecosystem) else { return };
    let Some(declared) = by_dir
        .get(crate::parent_dir(path))
        .and_then(|list| list.iter().find(|d| d.ecosystem == Some(ecosystem) && !d.is_empty()))
    else {
        return;
    };
    if WITHOUT_DIRECT.contains(&name) && out.packages.iter().all(|p| p.direct.is_none()) {
        let depended: BTreeSet<&str> =
            out.packages.iter().flat_map(|p| p.dependencies.iter().map(String::as_str)).collect();
        let mut direct = BTreeSet::new();
        let names: BTreeSet<String> = out.packages.iter().map(|p| declared.key(&p.name)).collect();
        for n in names.iter().filter(|n| {
            declared.required.contains(*n) || declared.optional.contains(*n) || declared.dev.contains(*n)
        }) {
            let candidates: Vec<usize> =
                (0..out.packages.len()).filter(|&i| declared.key(&out.packages[i].name) == *n).collect();
            let roots: Vec<usize> = if ecosystem == Ecosystem::Npm && candidates.len() > 1 {
                let top: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&i| !depended.contains(out.packages[i].purl.as_str()))
                    .collect();
                if top.is_empty() { candidates } else { top }
            } else {
                candidates
            };
            direct.extend(roots);
        }
        for (i, p) in out.packages.iter_mut().enumerate() {
            p.direct = Some(direct.contains(&i));
        }
        // A project recorded without dependencies (yarn classic) depends on the direct ones.
        let purls: Vec<String> =
            out.packages.iter().filter(|p| p.direct == Some(true)).map(|p| p.purl.clone()).collect();
        for project in out.projects.iter_mut().filter(|p| p.package.dependencies.is_empty()) {
            project.package.dependencies = purls.clone();
        }
    }
    if WITHOUT_DEV.contains(&name) {
        let index: HashMap<&str, usize> =
            out.packages.iter().enumerate().map(|(i, p)| (p.purl.as_str(), i)).collect();
        // Roots by kind: a name declared as required wins over optional, optional over dev.
        let roots = |kind: Kind| -> Vec<usize> {
            (0..out.packages.len())
                .filter(|&i| out.packages[i].direct == Some(true))
                .filter(|&i| {
                    let n = declared.key(&out.packages[i].name);
                    let (r, o) = (declared.required.contains(&n), declared.optional.contains(&n));
                    match kind {
                        Kind::Required => r,
                        Kind::Optional => o && !r,
                        Kind::Dev => declared.dev.contains(&n) && !r && !o,
                    }
                })
                .collect()
        };
        let reach = |start: Vec<usize>| -> BTreeSet<usize> {
            let mut seen: BTreeSet<usize> = start.iter().copied().collect();
            let mut stack = start;
            while let Some(i) = stack.pop() {
                for d in &out.packages[i].dependencies {
                    if let Some(&j) = index.get(d.as_str())
                        && seen.insert(j)
                    {
                        stack.push(j);
                    }
                }
            }
            seen
        };
        let required = reach(roots(Kind::Required));
        let optional = reach(roots(Kind::Optional));
        let dev = reach(roots(Kind::Dev));
        for (i, p) in out.packages.iter_mut().enumerate() {
            if required.contains(&i) {
                continue;
            }
            if optional.contains(&i) {
                p.scope = Scope::Optional;
            } else if dev.contains(&i) {
                p.scope = Scope::Dev;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Location, Package};

    fn npm(name: &str, version: &str, deps: &[&str]) -> Package {
        let mut p =
            Package::new(Ecosystem::Npm, name, version, Location::new("web/yarn.lock", None), "yarn-lock");
        p.dependencies = deps.iter().map(|d| d.to_string()).collect();
        p
    }

    fn declared(
        eco: Ecosystem,
        required: &[&str],
        optional: &[&str],
        dev: &[&str],
    ) -> HashMap<String, Vec<Declared>> {
        let mut d = Declared { ecosystem: Some(eco), ..Default::default() };
        required.iter().for_each(|n| d.add(Kind::Required, n));
        optional.iter().for_each(|n| d.add(Kind::Optional, n));
        dev.iter().for_each(|n| d.add(Kind::Dev, n));
        HashMap::from([("web".to_string(), vec![d])])
    }

    #[test]
    fn yarn_direct_and_dev_from_package_json() {
        let mut out = Output {
            packages: vec![
                npm("debug", "2.6.9", &["pkg:npm/ms@2.0.0"]),
                npm("ms", "2.0.0", &[]),
                npm("ms", "2.1.3", &[]),
                npm("jest", "29.0.0", &["pkg:npm/chalk@4.1.2"]),
                npm("chalk", "4.1.2", &[]),
            ],
            ..Default::default()
        };
        out.projects.push(crate::Project::new(npm("", "", &[]), "web"));
        apply(&declared(Ecosystem::Npm, &["debug", "ms"], &[], &["jest"]), "web/yarn.lock", &mut out);
        let got: Vec<String> = out
            .packages
            .iter()
            .map(|p| format!("{}@{} {:?} {:?}", p.name, p.version, p.direct, p.scope))
            .collect();
        assert_eq!(
            got,
            [
                "debug@2.6.9 Some(true) Required",
                "ms@2.0.0 Some(false) Required",
                "ms@2.1.3 Some(true) Required",
                "jest@29.0.0 Some(true) Dev",
                "chalk@4.1.2 Some(false) Dev",
            ]
        );
        assert_eq!(out.projects[0].package.dependencies.len(), 3);
        // Another directory, another ecosystem, or a lockfile that records direct: untouched.
        let mut other = Output { packages: vec![npm("ms", "2.1.3", &[])], ..Default::default() };
        apply(&declared(Ecosystem::Npm, &["ms"], &[], &[]), "api/yarn.lock", &mut other);
        apply(&declared(Ecosystem::PyPI, &["ms"], &[], &[]), "web/yarn.lock", &mut other);
        apply(&declared(Ecosystem::Npm, &["ms"], &[], &[]), "web/package-lock.json", &mut other);
        assert_eq!(other.packages[0].direct, None);
    }

    #[test]
    fn pypi_names_are_normalised_and_forks_are_all_direct() {
        let py = |n: &str, v: &str| {
            Package::new(Ecosystem::PyPI, n, v, Location::new("web/poetry.lock", None), "poetry-lock")
        };
        let mut out = Output {
            packages: vec![py("Click", "8.1.8"), py("click", "8.5.1"), py("colorama", "0.4.6")],
            ..Default::default()
        };
        apply(&declared(Ecosystem::PyPI, &["click"], &[], &[]), "web/poetry.lock", &mut out);
        let direct: Vec<Option<bool>> = out.packages.iter().map(|p| p.direct).collect();
        assert_eq!(direct, [Some(true), Some(true), Some(false)]);
    }

    #[test]
    fn requirement_names() {
        assert_eq!(pep508_name("requests[socks]>=2.31"), "requests");
        assert_eq!(pep508_name("  tomli>=2.0; python_version < '3.11'"), "tomli");
        assert_eq!(pep508_name("zope.interface"), "zope.interface");
        assert_eq!(pep508_name(""), "");
    }
}
