//! Project manifests: a `package.json` outside `node_modules` (npm, yarn and pnpm projects) and a
//! `pyproject.toml` (PEP 621 `[project]`, or Poetry's `[tool.poetry]`).
//!
//! A manifest is not a package source: it declares the project itself, so it yields
//! [`Output::manifest`], never packages. After the walk the inventory uses it to name the root project of a
//! lockfile in the same directory (a `yarn.lock`, `pnpm-lock.yaml` or `poetry.lock` does not name the
//! project it belongs to) and records it as one of that project's locations; a manifest without a lockfile
//! beside it is dropped. `name` is required (a manifest without one names nothing); `version` may be absent
//! (private applications often omit it; Python projects may declare it `dynamic`). The licence is the
//! `license` string (or legacy `{ "type": ... }` object, PEP 621 `{ text = ... }` table).

use super::lang_common::file_name;
use super::npm_lock::license_value;
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use serde::Deserialize;

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
            let doc: PyProject = toml::from_str(input.text()?)
                .map_err(|e| ParseError::new(format!("invalid pyproject.toml: {e}")))?;
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
}
