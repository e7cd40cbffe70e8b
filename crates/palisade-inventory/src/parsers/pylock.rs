//! Python `pylock.toml` (PEP 751, also `pylock.<name>.toml`): `[[packages]]` with `name`, `version` and
//! where each comes from (`index` with `sdist`/`wheels`, `vcs`, `directory`, `archive`).
//!
//! Every package with a version is a package; one locked under several environment markers (`idna` 3.20 for
//! old Pythons, 3.21 for new) is reported at each version. A `vcs` package says where it comes from in the
//! purl qualifier `vcs_url` (repository and commit); its version, optional for VCS packages in PEP 751, may
//! be missing, and it is then reported without one. `directory` packages are local (the project itself) and
//! are skipped. `dependencies` entries, when present, name packages and resolve to the locked versions; the
//! format does not say which packages are direct. A `lock-version` other than 1.x is an error.

use super::lang_common::{MAX_FILE_SIZE, PackageSet, file_name, purl};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::package::{build_purl, normalize_pypi};
use palisade_core::{Ecosystem, Package};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Parser for `pylock.toml` (id `pylock`).
pub struct Pylock;

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "lock-version")]
    lock_version: Option<String>,
    #[serde(default)]
    packages: Vec<Locked>,
}

#[derive(Deserialize)]
struct Locked {
    name: String,
    version: Option<String>,
    #[serde(default)]
    vcs: Option<Vcs>,
    #[serde(default)]
    directory: Option<toml::Value>,
    #[serde(default)]
    dependencies: Vec<toml::Table>,
}

#[derive(Deserialize)]
struct Vcs {
    url: Option<String>,
    #[serde(rename = "commit-id")]
    commit_id: Option<String>,
}

impl Parser for Pylock {
    fn id(&self) -> &'static str {
        "pylock"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        let name = file_name(meta.path);
        meta.size <= MAX_FILE_SIZE && name.starts_with("pylock.") && name.ends_with(".toml")
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = toml::from_str(input.text()?)
            .map_err(|e| ParseError::new(format!("invalid pylock TOML: {e}")))?;
        let version =
            lock.lock_version.ok_or_else(|| ParseError::new("no `lock-version`: not a pylock.toml"))?;
        if !version.starts_with("1.") && version != "1" {
            return Err(ParseError::new(format!("unsupported lock-version {version:?}")));
        }
        let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in &lock.packages {
            if let Some(v) = &p.version {
                versions.entry(normalize_pypi(&p.name)).or_default().push(v.clone());
            }
        }
        let mut set = PackageSet::new();
        for p in &lock.packages {
            if p.directory.is_some() {
                continue;
            }
            let version = p.version.clone().unwrap_or_default();
            let mut pkg = Package::new(Ecosystem::PyPI, &p.name, &version, input.location(), self.id());
            if let Some(vcs) = &p.vcs
                && let Some(url) = &vcs.url
            {
                let url = if url.starts_with("git+") { url.clone() } else { format!("git+{url}") };
                let q = match &vcs.commit_id {
                    Some(c) => format!("{url}#{c}"),
                    None => url,
                };
                pkg.purl = build_purl(Ecosystem::PyPI, &p.name, &version, &[("vcs_url", &q)]);
                pkg.metadata.insert("vcs_url".into(), q);
            }
            for d in &p.dependencies {
                let Some(dn) = d.get("name").and_then(|n| n.as_str()) else { continue };
                let dv = d.get("version").and_then(|v| v.as_str()).map(str::to_string);
                let locked = versions.get(&normalize_pypi(dn));
                let v = dv.or_else(|| locked.filter(|v| v.len() == 1).map(|v| v[0].clone()));
                if let Some(v) = v {
                    pkg.dependencies.push(purl(Ecosystem::PyPI, dn, &v));
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

    /// Written by `uv export --format pylock.toml` (uv 0.13.9, wheels lists trimmed to one entry).
    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/python/pylock.toml");

    #[test]
    fn generated_by_uv() {
        let out = run(&Pylock, "pylock.toml", LOCK).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert!(names.contains(&"requests@2.31.0".to_string()), "{names:?}");
        assert!(names.contains(&"iniconfig@2.0.0".to_string()), "{names:?}");
        // Locked per marker: both versions are reported.
        assert_eq!(out.packages.iter().filter(|p| p.name == "idna").count(), 2, "{names:?}");
        assert_eq!(get(&out, "requests", "2.31.0").purl, "pkg:pypi/requests@2.31.0");
        assert!(!names.iter().any(|n| n.starts_with("fixture-app")), "the project itself is not a package");
    }

    #[test]
    fn vcs_and_directory_entries() {
        let lock = b"lock-version = \"1.0\"\n[[packages]]\nname = \"app\"\ndirectory = { path = \".\" }\n\
            [[packages]]\nname = \"tool\"\nvcs = { type = \"git\", url = \"https://github.com/o/tool\", commit-id = \"abc123\" }\n";
        let out = run(&Pylock, "pylock.toml", lock).unwrap();
        assert_eq!(out.packages.len(), 1);
        assert_eq!(get(&out, "tool", "").metadata["vcs_url"], "git+https://github.com/o/tool#abc123");
    }

    #[test]
    fn malformed() {
        assert!(run(&Pylock, "pylock.toml", b"hello world\n").is_err());
        assert!(run(&Pylock, "pylock.toml", b"[[packages]]\nname = \"a\"\n").is_err());
        assert!(run(&Pylock, "pylock.toml", b"lock-version = \"2.0\"\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&Pylock, "pylock.toml", LOCK);
    }
}
