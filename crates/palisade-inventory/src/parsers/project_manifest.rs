//! Project manifests: a `package.json` outside `node_modules` (npm, yarn and pnpm projects) and a
//! `pyproject.toml` (PEP 621 `[project]`, or Poetry's `[tool.poetry]`).
//!
//! A manifest is not a package source: it declares the project itself, so it yields
//! [`Output::manifest`], never packages. After the walk the inventory uses it to name the root project of a
//! lockfile in the same directory (a `yarn.lock`, `pnpm-lock.yaml` or `poetry.lock` does not name the
//! project it belongs to) and records it as one of that project's locations; a manifest without a lockfile
//! beside it is dropped. `name` is required (a manifest without one names nothing); `version` may be absent
//! (private applications often omit it; Python projects may declare it `dynamic`). The licence is the
//! `license` string (or legacy `{ "type": ... }` object, PEP 621 `{ text = ... }` table). The dependency
//! names the manifest declares ([`Output::declared`]) tell which packages of a lockfile beside it that does
//! not record it are direct or for development (see [`super::declared_roots`]).

use super::declared_roots::{Declared, Kind, pep508_name};
use super::lang_common::file_name;
use super::npm_lock::license_value;
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use serde::Deserialize;
#[cfg(test)]
use std::collections::BTreeSet;

/// Parser for project `package.json` and `pyproject.toml` files (id `project-manifest`).
pub struct ProjectManifest;

/// Manifests are small; anything larger is not one.
const MAX_MANIFEST_SIZE: u64 = 1024 * 1024;

#[derive(Deserialize)]
struct PackageJson {
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    version: Option<serde_json::Value>,
    #[serde(default)]
    license: Option<serde_json::Value>,
    #[serde(default)]
    dependencies: Option<serde_json::Value>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: Option<serde_json::Value>,
    #[serde(default, rename = "devDependencies")]
    dev_dependencies: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct PyProject {
    #[serde(default)]
    project: Option<PyProjectTable>,
    #[serde(default)]
    tool: Option<Tool>,
}

#[derive(Deserialize, Default)]
struct Tool {
    #[serde(default)]
    poetry: Option<PyProjectTable>,
}

#[derive(Deserialize, Default)]
struct PyProjectTable {
    #[serde(default)]
    name: Option<toml::Value>,
    #[serde(default)]
    version: Option<toml::Value>,
    #[serde(default)]
    license: Option<toml::Value>,
}

fn json_str(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn toml_str(v: &Option<toml::Value>) -> Option<String> {
    v.as_ref().and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

impl Parser for ProjectManifest {
    fn id(&self) -> &'static str {
        "project-manifest"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        if meta.size > MAX_MANIFEST_SIZE {
            return false;
        }
        match file_name(meta.path) {
            // Installed packages' manifests (and their sub-folder helpers) belong to `npm-package-json`.
            "package.json" => {
                !meta.path.starts_with("node_modules/") && !meta.path.contains("/node_modules/")
            }
            "pyproject.toml" => true,
            _ => false,
        }
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let manifest = if file_name(input.path) == "pyproject.toml" {
            let value: toml::Value = toml::from_str(input.text()?)
                .map_err(|e| ParseError::new(format!("invalid pyproject.toml: {e}")))?;
            out.declared = Some(pyproject_declared(&value));
            let doc: PyProject =
                value.try_into().map_err(|e| ParseError::new(format!("invalid pyproject.toml: {e}")))?;
            let tables = [doc.project, doc.tool.and_then(|t| t.poetry)];
            tables.into_iter().flatten().find_map(|t| {
                let name = toml_str(&t.name)?;
                let mut p = Package::new(
                    Ecosystem::PyPI,
                    name,
                    toml_str(&t.version).unwrap_or_default(),
                    input.location(),
                    self.id(),
                );
                let licence = match &t.license {
                    Some(toml::Value::Table(t)) => t.get("text").and_then(|v| v.as_str()).map(str::to_string),
                    other => toml_str(other),
                };
                p.licenses.extend(licence.map(|l| l.trim().to_string()).filter(|l| !l.is_empty()));
                Some(p)
            })
        } else {
            let m: PackageJson = serde_json::from_slice(input.data)?;
            let mut declared = Declared { ecosystem: Some(Ecosystem::Npm), ..Default::default() };
            for (kind, table) in [
                (Kind::Required, &m.dependencies),
                (Kind::Optional, &m.optional_dependencies),
                (Kind::Dev, &m.dev_dependencies),
            ] {
                for name in table.as_ref().and_then(|t| t.as_object()).into_iter().flat_map(|o| o.keys()) {
                    declared.add(kind, name);
                }
            }
            out.declared = Some(declared);
            json_str(&m.name).map(|name| {
                let version = json_str(&m.version).unwrap_or_default();
                let mut p = Package::new(Ecosystem::Npm, name, version, input.location(), self.id());
                p.licenses.extend(m.license.as_ref().and_then(license_value));
                p
            })
        };
        out.manifest = manifest;
        Ok(())
    }
}

/// The dependency names a `pyproject.toml` declares: PEP 621 `[project]` `dependencies` and
/// `optional-dependencies`, PEP 735 `[dependency-groups]`, Poetry's `[tool.poetry.dependencies]` (optional
/// ones behind extras), `dev-dependencies` and `group.*.dependencies`, PDM's and uv's dev dependencies.
fn pyproject_declared(doc: &toml::Value) -> Declared {
    let mut d = Declared { ecosystem: Some(Ecosystem::PyPI), ..Default::default() };
    let at = |path: &[&str]| path.iter().try_fold(doc, |v, k| v.get(*k));
    let requirements = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(toml::Value::as_str)
            .map(|r| pep508_name(r).to_string())
            .collect()
    };
    let tables_of_lists = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(toml::Value::as_table)
            .into_iter()
            .flat_map(|t| t.values())
            .flat_map(|l| requirements(Some(l)))
            .collect()
    };
    for n in requirements(at(&["project", "dependencies"])) {
        d.add(Kind::Required, &n);
    }
    for n in tables_of_lists(at(&["project", "optional-dependencies"])) {
        d.add(Kind::Optional, &n);
    }
    for n in tables_of_lists(at(&["dependency-groups"]))
        .into_iter()
        .chain(tables_of_lists(at(&["tool", "pdm", "dev-dependencies"])))
        .chain(requirements(at(&["tool", "uv", "dev-dependencies"])))
    {
        d.add(Kind::Dev, &n);
    }
    if let Some(deps) = at(&["tool", "poetry", "dependencies"]).and_then(toml::Value::as_table) {
        for (name, spec) in deps.iter().filter(|(n, _)| n.as_str() != "python") {
            let optional = spec.get("optional").and_then(toml::Value::as_bool).unwrap_or(false);
            d.add(if optional { Kind::Optional } else { Kind::Required }, name);
        }
    }
    let groups = at(&["tool", "poetry", "group"]).and_then(toml::Value::as_table);
    let group_deps = groups.into_iter().flat_map(|g| g.values()).filter_map(|g| g.get("dependencies"));
    for deps in
        group_deps.chain(at(&["tool", "poetry", "dev-dependencies"])).filter_map(toml::Value::as_table)
    {
        for name in deps.keys() {
            d.add(Kind::Dev, name);
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::run;

    #[test]
    fn wants_project_manifests_only() {
        let meta = |path| FileMeta { path, size: 100, mode: 0o644, layer: None };
        assert!(ProjectManifest.wants(&meta("app/package.json")));
        assert!(ProjectManifest.wants(&meta("package.json")));
        assert!(ProjectManifest.wants(&meta("srv/api/pyproject.toml")));
        assert!(!ProjectManifest.wants(&meta("app/node_modules/ms/package.json")));
        assert!(!ProjectManifest.wants(&meta("node_modules/x/package.json")));
        assert!(!ProjectManifest.wants(&meta("app/node_modules/ms/esm/package.json")));
        assert!(!ProjectManifest.wants(&meta("app/package-lock.json")));
        let big = FileMeta { path: "package.json", size: 2 * 1024 * 1024, mode: 0, layer: None };
        assert!(!ProjectManifest.wants(&big));
    }

    #[test]
    fn package_json() {
        let out = run(
            &ProjectManifest,
            "app/web/package.json",
            br#"{"name": "@acme/web", "version": "1.2.0",
                "license": "MIT", "dependencies": {"lodash": "^4"}}"#,
        )
        .unwrap();
        assert!(out.packages.is_empty(), "a manifest is never a package");
        let m = out.manifest.unwrap();
        assert_eq!((m.purl.as_str(), m.found_by.as_str()), ("pkg:npm/%40acme/web@1.2.0", "project-manifest"));
        assert_eq!(m.licenses, ["MIT"]);
        assert_eq!(m.locations[0].path, "app/web/package.json");
        // No version: kept, without one. No name: names nothing.
        let m = run(&ProjectManifest, "package.json", br#"{"name": "api", "private": true}"#).unwrap();
        assert_eq!(m.manifest.unwrap().version, "");
        assert!(
            run(&ProjectManifest, "package.json", br#"{"version": "1.0.0"}"#).unwrap().manifest.is_none()
        );
        assert!(run(&ProjectManifest, "package.json", br#"{"name": 5}"#).unwrap().manifest.is_none());
        assert!(run(&ProjectManifest, "package.json", b"{\"name\": ").is_err());
    }

    #[test]
    fn pyproject() {
        let pep621 =
            b"[project]\nname = \"Fixture_App\"\nversion = \"0.3.0\"\nlicense = { text = \"MIT\" }\n";
        let m = run(&ProjectManifest, "api/pyproject.toml", pep621).unwrap().manifest.unwrap();
        assert_eq!((m.name.as_str(), m.purl.as_str()), ("Fixture_App", "pkg:pypi/fixture-app@0.3.0"));
        assert_eq!(m.licenses, ["MIT"]);
        let poetry = b"[tool.poetry]\nname = \"svc\"\nversion = \"1.0\"\nlicense = \"Apache-2.0\"\n";
        let m = run(&ProjectManifest, "pyproject.toml", poetry).unwrap().manifest.unwrap();
        assert_eq!((m.name.as_str(), m.version.as_str()), ("svc", "1.0"));
        assert_eq!(m.licenses, ["Apache-2.0"]);
        let dynamic = b"[project]\nname = \"dyn\"\ndynamic = [\"version\"]\n";
        assert_eq!(run(&ProjectManifest, "pyproject.toml", dynamic).unwrap().manifest.unwrap().version, "");
        // Only tool settings (black, ruff): no project.
        let tools = b"[tool.black]\nline-length = 100\n";
        assert!(run(&ProjectManifest, "pyproject.toml", tools).unwrap().manifest.is_none());
        assert!(run(&ProjectManifest, "pyproject.toml", b"[project\n").unwrap_err().0.contains("pyproject"));
    }

    #[test]
    fn declared_dependencies() {
        let pkg = br#"{"name": "web", "dependencies": {"debug": "2.6.9"}, "devDependencies": {"jest": "29"},
                       "optionalDependencies": {"fsevents": "2"}}"#;
        let d = run(&ProjectManifest, "package.json", pkg).unwrap().declared.unwrap();
        let set = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<BTreeSet<String>>();
        assert_eq!((d.required, d.optional, d.dev), (set(&["debug"]), set(&["fsevents"]), set(&["jest"])));
        let py = br#"
[project]
name = "app"
dependencies = ["Requests[socks]>=2", "tomli; python_version < '3.11'"]
[project.optional-dependencies]
yaml = ["PyYAML>=6"]
[dependency-groups]
dev = ["pytest>=8", {include-group = "lint"}]
[tool.poetry.dependencies]
python = "^3.9"
rich = { version = "^13", optional = true }
[tool.poetry.group.docs.dependencies]
mkdocs = "^1"
[tool.uv]
dev-dependencies = ["ruff"]
"#;
        let d = run(&ProjectManifest, "pyproject.toml", py).unwrap().declared.unwrap();
        assert_eq!(d.required, set(&["requests", "tomli"]));
        assert_eq!(d.optional, set(&["pyyaml", "rich"]));
        assert_eq!(d.dev, set(&["mkdocs", "pytest", "ruff"]));
    }
}
