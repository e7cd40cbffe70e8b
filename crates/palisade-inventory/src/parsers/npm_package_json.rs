//! Installed npm packages: `node_modules/<name>/package.json` and `node_modules/@scope/<name>/package.json`.
//!
//! Only a `package.json` sitting directly in a package directory under `node_modules/` is read, so project
//! manifests and the helper `package.json` files some packages ship in sub-folders (`esm/package.json` with
//! only `"type": "module"`) are ignored. `name` and `version` are required; a file without them yields
//! nothing. The licence is the `license` string (or legacy `{ "type": ... }` object) or the legacy
//! `licenses` array. Installed packages do not say whether they are direct or dev, so those stay unset.

use super::lang_common::{MAX_FILE_SIZE, file_name};
use super::npm_lock::license_value;
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use serde::Deserialize;

/// Parser for installed `node_modules/**/package.json` (id `npm-package-json`).
pub struct NpmPackageJson;

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    version: Option<serde_json::Value>,
    #[serde(default)]
    license: Option<serde_json::Value>,
    #[serde(default)]
    licenses: Option<serde_json::Value>,
}

/// True for `.../node_modules/<name>/package.json` and `.../node_modules/@scope/<name>/package.json`.
fn is_installed_manifest(path: &str) -> bool {
    if file_name(path) != "package.json" {
        return false;
    }
    let mut dirs = path.rsplit('/').skip(1);
    match (dirs.next(), dirs.next(), dirs.next()) {
        (Some(name), Some("node_modules"), _) => !name.is_empty() && !name.starts_with('@'),
        (Some(name), Some(scope), Some("node_modules")) => {
            scope.len() > 1 && scope.starts_with('@') && !name.is_empty()
        }
        _ => false,
    }
}

impl Parser for NpmPackageJson {
    fn id(&self) -> &'static str {
        "npm-package-json"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size <= MAX_FILE_SIZE && is_installed_manifest(meta.path)
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let m: Manifest = serde_json::from_slice(input.data)?;
        let as_str = |v: &Option<serde_json::Value>| {
            v.as_ref().and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
        };
        let (Some(name), Some(version)) = (as_str(&m.name), as_str(&m.version)) else {
            return Ok(());
        };
        let mut pkg = Package::new(Ecosystem::Npm, name, version, input.location(), self.id());
        if let Some(l) = m.license.as_ref().and_then(license_value) {
            pkg.licenses.push(l);
        } else if let Some(serde_json::Value::Array(list)) = &m.licenses {
            pkg.licenses.extend(list.iter().filter_map(license_value));
        }
        out.packages.push(pkg);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{no_panic_on_truncation, run};

    const MS: &[u8] = include_bytes!("../../tests/fixtures/npm/node_modules/ms/package.json");
    const TYPES: &[u8] = include_bytes!("../../tests/fixtures/npm/node_modules/@types/node/package.json");
    const LEGACY: &[u8] =
        include_bytes!("../../tests/fixtures/npm/node_modules/legacy-licenses/package.json");
    const ESM: &[u8] = include_bytes!("../../tests/fixtures/npm/node_modules/ms/esm/package.json");

    #[test]
    fn wants_only_package_directories() {
        let meta = |path| FileMeta { path, size: 100, mode: 0o644, layer: None };
        assert!(NpmPackageJson.wants(&meta("app/node_modules/ms/package.json")));
        assert!(NpmPackageJson.wants(&meta("node_modules/@types/node/package.json")));
        assert!(NpmPackageJson.wants(&meta("a/node_modules/b/node_modules/c/package.json")));
        assert!(!NpmPackageJson.wants(&meta("app/package.json")));
        assert!(!NpmPackageJson.wants(&meta("app/node_modules/ms/esm/package.json")));
        assert!(!NpmPackageJson.wants(&meta("app/node_modules/@types/package.json")));
        assert!(!NpmPackageJson.wants(&meta("app/node_modules/ms/index.js")));
    }

    #[test]
    fn installed_packages() {
        let out = run(&NpmPackageJson, "usr/lib/node_modules/ms/package.json", MS).unwrap();
        assert_eq!(out.packages.len(), 1);
        let p = &out.packages[0];
        assert_eq!(
            (p.name.as_str(), p.version.as_str(), p.purl.as_str()),
            ("ms", "2.1.3", "pkg:npm/ms@2.1.3")
        );
        assert_eq!(p.licenses, ["MIT"]);
        assert_eq!(p.direct, None);

        let out = run(&NpmPackageJson, "node_modules/@types/node/package.json", TYPES).unwrap();
        assert_eq!(out.packages[0].purl, "pkg:npm/%40types/node@20.11.30");

        let out = run(&NpmPackageJson, "node_modules/legacy-licenses/package.json", LEGACY).unwrap();
        assert_eq!(out.packages[0].licenses, ["MIT", "GPL-2.0"]);
    }

    #[test]
    fn missing_name_or_version_yields_nothing() {
        assert!(run(&NpmPackageJson, "node_modules/ms/package.json", ESM).unwrap().packages.is_empty());
        let out = run(&NpmPackageJson, "node_modules/x/package.json", br#"{"name": "x", "version": 3}"#);
        assert!(out.unwrap().packages.is_empty());
        assert!(run(&NpmPackageJson, "node_modules/x/package.json", b"{\"name\": ").is_err());
        assert!(run(&NpmPackageJson, "node_modules/x/package.json", b"\"text\"").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&NpmPackageJson, "node_modules/ms/package.json", MS);
        no_panic_on_truncation(&NpmPackageJson, "node_modules/x/package.json", LEGACY);
    }
}
