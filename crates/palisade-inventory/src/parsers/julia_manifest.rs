//! Julia `Manifest.toml` (also `Manifest-v1.x.toml`), formats 1 and 2.
//!
//! * Format 2 (`manifest_format = "2.0"`): `[[deps.Name]]` tables with `uuid`, `version`, `deps`.
//! * Format 1: top-level `[[Name]]` tables.
//!
//! Standard-library packages have no `version` (they ship with Julia) and are skipped, as are packages
//! tracked by `path` (local development copies). A package tracked from a repository (`repo-url`,
//! `git-tree-sha1`) says so in the purl qualifier `vcs_url`. `deps` (a list of names, or a table of name →
//! uuid) becomes the dependency graph, resolved to the locked versions. The purl carries the package's
//! `uuid` as a qualifier, as Julia names packages by name and UUID.

use super::lang_common::{MAX_FILE_SIZE, PackageSet, file_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, package::build_purl};
use std::collections::BTreeMap;

/// Parser for Julia `Manifest.toml` (id `julia-manifest`).
pub struct JuliaManifest;

/// One locked package: name, version, uuid, dependency names, repository qualifier.
type Locked = (String, String, String, Vec<String>, Option<String>);

impl Parser for JuliaManifest {
    fn id(&self) -> &'static str {
        "julia-manifest"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        let name = file_name(meta.path);
        meta.size <= MAX_FILE_SIZE
            && (name == "Manifest.toml"
                || name == "JuliaManifest.toml"
                || (name.starts_with("Manifest-v") && name.ends_with(".toml")))
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let doc: toml::Table =
            toml::from_str(input.text()?).map_err(|e| ParseError::new(format!("invalid TOML: {e}")))?;
        let entries: &toml::Table = match doc.get("manifest_format") {
            Some(_) => doc
                .get("deps")
                .and_then(|d| d.as_table())
                .ok_or_else(|| ParseError::new("format 2 manifest without [deps]"))?,
            None => &doc,
        };
        let mut locked: Vec<Locked> = Vec::new();
        for (name, list) in entries {
            let Some(list) = list.as_array() else {
                if doc.get("manifest_format").is_none() {
                    return Err(ParseError::new(format!(
                        "`{name}` is not an array of tables: not a Julia manifest"
                    )));
                }
                continue;
            };
            for entry in list.iter().filter_map(|e| e.as_table()) {
                if entry.get("uuid").is_none() {
                    return Err(ParseError::new(format!("`{name}` has no uuid: not a Julia manifest")));
                }
                let Some(version) = entry.get("version").and_then(|v| v.as_str()) else { continue };
                if entry.contains_key("path") {
                    continue;
                }
                let uuid = entry.get("uuid").and_then(|u| u.as_str()).unwrap_or("").to_string();
                let deps = match entry.get("deps") {
                    Some(toml::Value::Array(a)) => {
                        a.iter().filter_map(|d| d.as_str().map(str::to_string)).collect()
                    }
                    Some(toml::Value::Table(t)) => t.keys().cloned().collect(),
                    _ => Vec::new(),
                };
                let vcs = entry.get("repo-url").and_then(|u| u.as_str()).map(|u| {
                    let u = if u.starts_with("git+") { u.to_string() } else { format!("git+{u}") };
                    match entry.get("git-tree-sha1").and_then(|s| s.as_str()) {
                        Some(sha) => format!("{u}#{sha}"),
                        None => u,
                    }
                });
                locked.push((name.clone(), version.to_string(), uuid, deps, vcs));
            }
        }
        let versions: BTreeMap<&str, (&str, &str)> =
            locked.iter().map(|(n, v, u, _, _)| (n.as_str(), (v.as_str(), u.as_str()))).collect();
        let julia_purl = |name: &str, version: &str, uuid: &str| {
            build_purl(Ecosystem::Julia, name, version, &[("uuid", uuid)])
        };
        let mut set = PackageSet::new();
        for (name, version, uuid, deps, vcs) in &locked {
            let mut pkg = Package::new(Ecosystem::Julia, name, version, input.location(), self.id());
            let mut qualifiers = vec![("uuid", uuid.as_str())];
            if let Some(v) = vcs {
                qualifiers.push(("vcs_url", v.as_str()));
                pkg.metadata.insert("vcs_url".into(), v.clone());
            }
            pkg.purl = build_purl(Ecosystem::Julia, name, version, &qualifiers);
            pkg.metadata.insert("uuid".into(), uuid.clone());
            pkg.dependencies = deps
                .iter()
                .filter_map(|d| versions.get(d.as_str()).map(|(v, u)| julia_purl(d, v, u)))
                .collect();
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

    const V2: &[u8] = include_bytes!("../../tests/fixtures/julia/Manifest.toml");
    const V1: &[u8] = include_bytes!("../../tests/fixtures/julia/Manifest-v1.toml");

    #[test]
    fn formats_1_and_2() {
        for (data, label) in [(V2, "v2"), (V1, "v1")] {
            let out = run(&JuliaManifest, "Manifest.toml", data).unwrap();
            let names: Vec<String> =
                out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
            assert_eq!(names, ["JSON@0.21.4", "Parsers@2.8.1", "PrecompileTools@1.2.0"], "{label}");
            let json = get(&out, "JSON", "0.21.4");
            assert_eq!(
                json.purl, "pkg:julia/JSON@0.21.4?uuid=682c06a0-de6a-54ab-a142-c8b1cf79cde6",
                "{label}"
            );
            assert_eq!(
                json.dependencies,
                ["pkg:julia/Parsers@2.8.1?uuid=69de0a69-1ddd-5017-9359-2bf0b02dc9f0"],
                "{label}: stdlib dependencies (Dates, Unicode) are not packages"
            );
        }
    }

    #[test]
    fn malformed() {
        assert!(run(&JuliaManifest, "Manifest.toml", b"hello world\n").is_err());
        assert!(run(&JuliaManifest, "Manifest.toml", b"manifest_format = \"2.0\"\n").is_err());
        assert!(run(&JuliaManifest, "Manifest.toml", b"a = 1\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&JuliaManifest, "Manifest.toml", V2);
    }
}
