//! `Pipfile.lock` (pipenv, JSON): the `default` section (run time) and `develop` section (dev).
//!
//! Each entry maps a name to `{"version": "==1.2.3", ...}`. Only pinned `==` versions are packages;
//! editable, path and git entries (no `version`) are skipped. A package in both sections is required. The
//! lockfile records neither the graph nor what is direct. The purl name is PEP 503 normalised.

use super::lang_common::{PackageSet, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Parser for `Pipfile.lock` (id `pipfile-lock`).
pub struct PipfileLock;

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "_meta")]
    meta: Option<serde_json::Value>,
    #[serde(default)]
    default: BTreeMap<String, Entry>,
    #[serde(default)]
    develop: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    version: Option<String>,
}

impl Parser for PipfileLock {
    fn id(&self) -> &'static str {
        "pipfile-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["Pipfile.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = serde_json::from_slice(input.data)?;
        if lock.meta.is_none() && lock.default.is_empty() && lock.develop.is_empty() {
            return Err(ParseError::new("no _meta, default or develop section: not a Pipfile.lock"));
        }
        let mut set = PackageSet::new();
        for (section, scope) in [(&lock.default, Scope::Required), (&lock.develop, Scope::Dev)] {
            for (name, entry) in section {
                let Some(version) = entry.version.as_deref() else { continue };
                let Some(version) =
                    version.trim().strip_prefix("==").map(str::trim).filter(|v| !v.is_empty())
                else {
                    out.warnings.push(format!("{name}: version {version:?} is not an == pin, skipped"));
                    continue;
                };
                let mut pkg = Package::new(Ecosystem::PyPI, name, version, input.location(), self.id());
                pkg.scope = scope;
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

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/python/Pipfile.lock");

    #[test]
    fn sections() {
        let out = run(&PipfileLock, "Pipfile.lock", LOCK).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Django", "certifi", "pytest"]);
        assert_eq!(get(&out, "certifi", "2023.7.22").scope, Scope::Required);
        assert_eq!(get(&out, "pytest", "7.4.0").scope, Scope::Dev);
        assert_eq!(get(&out, "Django", "4.2.3").purl, "pkg:pypi/django@4.2.3");
    }

    #[test]
    fn malformed() {
        assert!(run(&PipfileLock, "Pipfile.lock", b"{}").is_err());
        assert!(run(&PipfileLock, "Pipfile.lock", b"{\"default\": []}").is_err());
        let out = run(&PipfileLock, "Pipfile.lock", br#"{"default": {"x": {"version": ">=1"}}}"#).unwrap();
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1);
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&PipfileLock, "Pipfile.lock", LOCK);
    }
}
