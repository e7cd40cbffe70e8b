//! PDM `pdm.lock` (TOML): `[[package]]` tables with `name`, `version`, `groups` and `dependencies`
//! (requirement strings such as `"idna<4,>=2.5"`), and `[metadata]` naming the lock's groups.
//!
//! A package locked only for groups other than `default` (`dev`, `test`, ...) is [`Scope::Dev`]. Dependency
//! requirements are resolved by name to the locked version (the first locked when a name has several).
//! Packages without a version (local editable projects) are skipped. The purl name is PEP 503 normalised.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::package::normalize_pypi;
use palisade_core::{Ecosystem, Package, Scope};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Parser for `pdm.lock` (id `pdm-lock`).
pub struct PdmLock;

#[derive(Deserialize)]
struct Lock {
    metadata: Option<toml::Table>,
    #[serde(default)]
    package: Vec<Locked>,
}

#[derive(Deserialize)]
struct Locked {
    name: String,
    version: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// The distribution name at the start of a requirement string (`idna<4,>=2.5`, `urllib3[socks]>=1`).
fn requirement_name(req: &str) -> &str {
    let end =
        req.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(req.len());
    &req[..end]
}

impl Parser for PdmLock {
    fn id(&self) -> &'static str {
        "pdm-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["pdm.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = toml::from_str(input.text()?)
            .map_err(|e| ParseError::new(format!("invalid pdm.lock TOML: {e}")))?;
        if lock.metadata.is_none() && lock.package.is_empty() {
            return Err(ParseError::new("no [metadata] or [[package]]: not a pdm.lock"));
        }
        let mut versions: BTreeMap<String, String> = BTreeMap::new();
        for p in &lock.package {
            if let Some(v) = &p.version {
                versions.entry(normalize_pypi(&p.name)).or_insert(v.clone());
            }
        }
        let mut set = PackageSet::new();
        for p in &lock.package {
            let Some(version) = &p.version else { continue };
            let mut pkg = Package::new(Ecosystem::PyPI, &p.name, version, input.location(), self.id());
            if !p.groups.is_empty() && !p.groups.iter().any(|g| g == "default") {
                pkg.scope = Scope::Dev;
            }
            for d in &p.dependencies {
                let dn = requirement_name(d.trim());
                if let Some(v) = versions.get(&normalize_pypi(dn)) {
                    pkg.dependencies.push(purl(Ecosystem::PyPI, dn, v));
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

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/python/pdm.lock");

    #[test]
    fn groups_and_dependencies() {
        let out = run(&PdmLock, "pdm.lock", LOCK).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["certifi@2023.7.22", "idna@3.4", "iniconfig@2.0.0", "requests@2.31.0"]);
        assert_eq!(get(&out, "iniconfig", "2.0.0").scope, Scope::Dev);
        assert_eq!(get(&out, "requests", "2.31.0").scope, Scope::Required);
        assert_eq!(
            get(&out, "requests", "2.31.0").dependencies,
            ["pkg:pypi/certifi@2023.7.22", "pkg:pypi/idna@3.4"]
        );
    }

    #[test]
    fn malformed() {
        assert!(run(&PdmLock, "pdm.lock", b"hello world\n").is_err());
        assert!(run(&PdmLock, "pdm.lock", b"x = 1\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&PdmLock, "pdm.lock", LOCK);
    }
}
