//! `poetry.lock` (TOML): one `[[package]]` table per locked distribution.
//!
//! Each package has `name` and `version`. Poetry 1.x marks development packages with `category = "dev"`;
//! Poetry 2.x lists `groups` instead (a package outside the `main` group is dev). `optional = true` (an
//! extra) gives [`Scope::Optional`], and so does a Poetry 2.x `main` marker made only of `extra == ...`
//! clauses (the main group needs the package only for an extra, another group may need it always). `[package.dependencies]` names are resolved to the locked versions to
//! build the graph. Local directory packages (`[package.source] type = "directory"`) are the project's own
//! code: root projects, not packages. The lockfile does not name the project it belongs to: one unnamed
//! project is recorded for the `pyproject.toml` beside it to name. The lockfile does not say which packages are direct (the
//! `pyproject.toml` beside it does, see [`super::declared_roots`]). The purl name is PEP 503
//! normalised; [`Package::name`] keeps the lockfile's spelling.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser, Project, join_dir, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::package::normalize_pypi;
use palisade_core::{Ecosystem, Package, Scope};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Parser for `poetry.lock` (id `poetry-lock`).
pub struct PoetryLock;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockedPackage>,
    #[serde(default)]
    metadata: Option<toml::Value>,
}

#[derive(Deserialize)]
struct LockedPackage {
    name: String,
    version: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    optional: bool,
    /// Poetry 2.x: environment markers, one string for every group or a table per group.
    #[serde(default)]
    markers: Option<toml::Value>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    source: Option<Source>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

impl Parser for PoetryLock {
    fn id(&self) -> &'static str {
        "poetry-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["poetry.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = toml::from_str(input.text()?)
            .map_err(|e| ParseError::new(format!("invalid poetry.lock TOML: {e}")))?;
        if lock.package.is_empty() && lock.metadata.is_none() {
            return Err(ParseError::new("no [[package]] and no [metadata]: not a poetry.lock"));
        }
        let mut versions: BTreeMap<String, Vec<(&str, &str)>> = BTreeMap::new();
        for p in &lock.package {
            versions.entry(normalize_pypi(&p.name)).or_default().push((&p.name, &p.version));
        }
        let mut set = PackageSet::new();
        for p in &lock.package {
            let mut pkg = Package::new(Ecosystem::PyPI, &p.name, &p.version, input.location(), self.id());
            if p.source.as_ref().and_then(|s| s.kind.as_deref()) == Some("directory") {
                for dep in p.dependencies.keys() {
                    for (n, v) in versions.get(&normalize_pypi(dep)).into_iter().flatten() {
                        pkg.dependencies.push(purl(Ecosystem::PyPI, n, v));
                    }
                }
                let url = p.source.as_ref().and_then(|s| s.url.as_deref()).unwrap_or(".");
                out.projects.push(Project::new(pkg, join_dir(parent_dir(input.path), url)));
                continue;
            }
            let dev = match (&p.groups, &p.category) {
                (Some(groups), _) => !groups.iter().any(|g| g == "main"),
                (None, Some(c)) => c == "dev",
                (None, None) => false,
            };
            pkg.scope = if dev {
                Scope::Dev
            } else if p.optional || main_only_for_extras(p.markers.as_ref()) {
                Scope::Optional
            } else {
                Scope::Required
            };
            for dep in p.dependencies.keys() {
                for (n, v) in versions.get(&normalize_pypi(dep)).into_iter().flatten() {
                    pkg.dependencies.push(purl(Ecosystem::PyPI, n, v));
                }
            }
            set.add(pkg);
        }
        out.packages.extend(set.into_packages());
        let root = Package::new(Ecosystem::PyPI, "", "", input.location(), self.id());
        out.projects.push(Project::new(root, parent_dir(input.path)));
        Ok(())
    }
}

/// Poetry 2.x marks a package the `main` group needs only for extras with a `main` marker made of
/// `extra == "..."` clauses alone (`markers = {main = 'extra == "pretty"'}`), even with `optional = false`
/// (another group, e.g. a test group, may need it unconditionally): optional for the project.
fn main_only_for_extras(markers: Option<&toml::Value>) -> bool {
    let marker = match markers {
        Some(toml::Value::String(s)) => s.as_str(),
        Some(toml::Value::Table(t)) => match t.get("main").and_then(toml::Value::as_str) {
            Some(s) => s,
            None => return false,
        },
        _ => return false,
    };
    let mut clauses =
        marker.split(" or ").map(|c| c.trim().trim_start_matches('(').trim_end_matches(')').trim());
    clauses.all(|c| {
        c.strip_prefix("extra")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("=="))
            .is_some_and(|r| !r.contains(" and "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const V1: &[u8] = include_bytes!("../../tests/fixtures/python/poetry-v1.lock");
    const V2: &[u8] = include_bytes!("../../tests/fixtures/python/poetry-v2.lock");

    #[test]
    fn poetry_1_categories() {
        let out = run(&PoetryLock, "poetry.lock", V1).unwrap();
        assert_eq!(out.packages.len(), 6);
        assert_eq!(get(&out, "pytest", "7.4.0").scope, Scope::Dev);
        assert_eq!(
            get(&out, "pytest", "7.4.0").dependencies,
            ["pkg:pypi/colorama@0.4.6", "pkg:pypi/iniconfig@2.0.0"]
        );
        let socks = get(&out, "PySocks", "1.7.1");
        assert_eq!(socks.scope, Scope::Optional);
        assert_eq!(socks.purl, "pkg:pypi/pysocks@1.7.1");
        let requests = get(&out, "requests", "2.31.0");
        assert_eq!(requests.scope, Scope::Required);
        assert_eq!(requests.dependencies, ["pkg:pypi/certifi@2023.7.22", "pkg:pypi/pysocks@1.7.1"]);
        assert!(out.packages.iter().all(|p| p.direct.is_none()));
    }

    #[test]
    fn poetry_2_groups_and_directory_sources() {
        let out = run(&PoetryLock, "poetry.lock", V2).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["black", "click", "colorama"]);
        assert_eq!(get(&out, "black", "24.3.0").scope, Scope::Dev);
        assert_eq!(get(&out, "click", "8.1.7").scope, Scope::Required);
        // The local directory package is a project; the lockfile's own project is unnamed (pyproject.toml
        // names it).
        let out = run(&PoetryLock, "srv/poetry.lock", V2).unwrap();
        let projects: Vec<_> =
            out.projects.iter().map(|p| (p.package.name.as_str(), p.dir.as_str())).collect();
        assert_eq!(projects, [("mylib", "srv/libs/mylib"), ("", "srv")]);
        assert!(!out.packages.iter().any(|p| p.name == "mylib"));
    }

    #[test]
    fn malformed() {
        assert!(run(&PoetryLock, "poetry.lock", b"[[package]]\nname = \"x\"\n").is_err());
        assert!(run(&PoetryLock, "poetry.lock", b"[[package]\n").is_err());
        assert!(run(&PoetryLock, "poetry.lock", b"a = 1\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&PoetryLock, "poetry.lock", V1);
        no_panic_on_truncation(&PoetryLock, "poetry.lock", V2);
    }

    #[test]
    fn main_group_markers_of_extras_only_are_optional() {
        let t = |s: &str| Some(toml::Value::String(s.into()));
        assert!(main_only_for_extras(t(r#"extra == "pretty""#).as_ref()));
        assert!(main_only_for_extras(t(r#"extra == "a" or extra == "b""#).as_ref()));
        assert!(!main_only_for_extras(t(r#"python_version < "3.10""#).as_ref()));
        assert!(!main_only_for_extras(t(r#"python_version < "3.10" or extra == "a""#).as_ref()));
        assert!(!main_only_for_extras(t(r#"extra == "a" and sys_platform == "win32""#).as_ref()));
        let table: toml::Value = toml::from_str(r#"main = 'extra == "pretty"'"#).unwrap();
        assert!(main_only_for_extras(Some(&table)));
        let other: toml::Value = toml::from_str(r#"test = 'extra == "pretty"'"#).unwrap();
        assert!(!main_only_for_extras(Some(&other)));
        assert!(!main_only_for_extras(None));
    }
}
