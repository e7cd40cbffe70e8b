//! Gradle version catalogs, `gradle/libs.versions.toml`: the libraries a build declares, with their versions.
//!
//! `[libraries]` entries are `"group:artifact:version"` strings or tables with `module = "group:artifact"` (or
//! `group` and `name`) and a `version` that is a string, a `{ ref = "..." }` into `[versions]` (also written
//! `version.ref`), or a rich version (`{ strictly, require, prefer }`, taken in that order). Only one exact
//! version is a package version: a range (`[1.0, 2.0)`, `1.+`, `latest.release`) or a library without a
//! version (its version comes from a platform/BOM) is reported without a version and with a warning.
//! Catalog entries are declarations: every library is direct. Plugins and bundles are not packages.

use super::lang_common::{MAX_FILE_SIZE, PackageSet};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use std::collections::BTreeMap;

/// Parser for `gradle/libs.versions.toml` and other `*.versions.toml` catalogs (id `gradle-version-catalog`).
pub struct GradleVersionCatalog;

/// One exact version from a version value, or `Err` with why not.
fn version_of(
    value: &toml::Value,
    versions: &BTreeMap<String, toml::Value>,
    depth: usize,
) -> Result<String, String> {
    if depth > 8 {
        return Err("version references nested too deeply".into());
    }
    match value {
        toml::Value::String(s) => {
            let s = s.trim();
            let range =
                s.starts_with('[') || s.starts_with('(') || s.ends_with('+') || s.starts_with("latest.");
            if range || s.is_empty() {
                Err(format!("version {s:?} is not one version"))
            } else {
                Ok(s.to_string())
            }
        }
        toml::Value::Table(t) => {
            if let Some(r) = t.get("ref").and_then(|r| r.as_str()) {
                let v = versions.get(r).ok_or_else(|| format!("version.ref {r:?} is not in [versions]"))?;
                return version_of(v, versions, depth + 1);
            }
            for key in ["strictly", "require", "prefer"] {
                if let Some(v) = t.get(key) {
                    return version_of(v, versions, depth + 1);
                }
            }
            Err("no version".into())
        }
        _ => Err("version is not a string or table".into()),
    }
}

impl Parser for GradleVersionCatalog {
    fn id(&self) -> &'static str {
        "gradle-version-catalog"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size <= MAX_FILE_SIZE && meta.path.ends_with(".versions.toml") && meta.path.contains("gradle/")
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let doc: toml::Table =
            toml::from_str(input.text()?).map_err(|e| ParseError::new(format!("invalid TOML: {e}")))?;
        let versions: BTreeMap<String, toml::Value> = doc
            .get("versions")
            .and_then(|v| v.as_table())
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let Some(libraries) = doc.get("libraries") else {
            if doc.contains_key("versions") || doc.contains_key("plugins") || doc.contains_key("bundles") {
                return Ok(());
            }
            return Err(ParseError::new(
                "no [libraries], [versions] or [plugins]: not a Gradle version catalog",
            ));
        };
        let libraries = libraries.as_table().ok_or_else(|| ParseError::new("[libraries] is not a table"))?;
        let mut set = PackageSet::new();
        for (alias, lib) in libraries {
            let (module, version) = match lib {
                toml::Value::String(s) => {
                    let mut parts = s.splitn(3, ':');
                    let (g, a, v) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next());
                    (format!("{g}:{a}"), v.map(|v| toml::Value::String(v.to_string())))
                }
                toml::Value::Table(t) => {
                    let module =
                        match (t.get("module").and_then(|m| m.as_str()), t.get("group"), t.get("name")) {
                            (Some(m), _, _) => m.to_string(),
                            (None, Some(g), Some(n)) => {
                                format!("{}:{}", g.as_str().unwrap_or(""), n.as_str().unwrap_or(""))
                            }
                            _ => String::new(),
                        };
                    (module, t.get("version").cloned())
                }
                _ => (String::new(), None),
            };
            let valid = module.split(':').count() == 2 && module.split(':').all(|p| !p.is_empty());
            if !valid {
                out.warnings.push(format!("library {alias:?}: no `group:artifact` module; skipped"));
                continue;
            }
            let version = match version.map(|v| version_of(&v, &versions, 0)) {
                Some(Ok(v)) => v,
                Some(Err(why)) => {
                    out.warnings
                        .push(format!("library {alias:?} ({module}): {why}; reported without a version"));
                    String::new()
                }
                None => {
                    out.warnings.push(format!(
                        "library {alias:?} ({module}): no version (set by a platform or BOM); reported without a version"
                    ));
                    String::new()
                }
            };
            let mut pkg = Package::new(Ecosystem::Maven, &module, version, input.location(), self.id());
            pkg.direct = Some(true);
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

    const CATALOG: &[u8] = include_bytes!("../../tests/fixtures/gradle/gradle/libs.versions.toml");

    #[test]
    fn libraries_with_refs_and_rich_versions() {
        let out = run(&GradleVersionCatalog, "gradle/libs.versions.toml", CATALOG).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "androidx.core:core-ktx@1.12.0",
                "com.squareup.okhttp3:okhttp@",
                "com.squareup.okhttp3:okhttp-bom@4.12.0",
                "io.ktor:ktor-client-core@2.3.7",
                "junit:junit@4.13.2",
                "org.jetbrains.kotlinx:kotlinx-coroutines-core@1.7.3",
            ]
        );
        assert_eq!(get(&out, "junit:junit", "4.13.2").direct, Some(true));
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    }

    #[test]
    fn malformed() {
        assert!(run(&GradleVersionCatalog, "gradle/libs.versions.toml", b"[libraries\n").is_err());
        assert!(run(&GradleVersionCatalog, "gradle/libs.versions.toml", b"a = 1\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&GradleVersionCatalog, "gradle/libs.versions.toml", CATALOG);
    }
}
