//! `Cargo.lock`, lockfile formats v1 to v4, read with the `cargo-lock` crate.
//!
//! Packages without a `source` are the root package and the other workspace and path members (the project
//! itself): they are the file's root projects, not packages, each depending on the crates it lists. The
//! crates they depend on are direct, everything else is transitive. Each package's `dependencies` become
//! purls of the exact locked versions (cargo-lock resolves the `name`, `name version` and v1
//! `name version (source)` forms). Git and alternative-registry crates are kept with their version; the
//! source is recorded in metadata. Cargo.lock does not record dev or optional dependencies.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser, Project, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use std::collections::BTreeSet;
use std::str::FromStr;

/// Parser for `Cargo.lock` (id `cargo-lock`).
pub struct CargoLock;

impl Parser for CargoLock {
    fn id(&self) -> &'static str {
        "cargo-lock"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, &["Cargo.lock"])
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock = cargo_lock::Lockfile::from_str(input.text()?)
            .map_err(|e| ParseError::new(format!("invalid Cargo.lock: {e}")))?;
        let direct: BTreeSet<(String, String)> = lock
            .packages
            .iter()
            .filter(|p| p.source.is_none())
            .flat_map(|p| &p.dependencies)
            .map(|d| (d.name.as_str().to_string(), d.version.to_string()))
            .collect();
        let mut set = PackageSet::new();
        for p in lock.packages.iter().filter(|p| p.source.is_none()) {
            let mut project = Package::new(
                Ecosystem::Cargo,
                p.name.as_str(),
                p.version.to_string(),
                input.location(),
                self.id(),
            );
            project.dependencies = p
                .dependencies
                .iter()
                .map(|d| purl(Ecosystem::Cargo, d.name.as_str(), &d.version.to_string()))
                .collect();
            project.dependencies.sort();
            project.dependencies.dedup();
            out.projects.push(Project::new(project, parent_dir(input.path)));
        }
        for p in &lock.packages {
            let Some(source) = &p.source else { continue };
            let (name, version) = (p.name.as_str(), p.version.to_string());
            let mut pkg = Package::new(Ecosystem::Cargo, name, &version, input.location(), self.id());
            pkg.direct = Some(direct.contains(&(name.to_string(), version.clone())));
            if !source.is_default_registry() {
                pkg.metadata.insert("source".into(), source.to_string());
            }
            pkg.dependencies = p
                .dependencies
                .iter()
                .map(|d| purl(Ecosystem::Cargo, d.name.as_str(), &d.version.to_string()))
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

    const V4: &[u8] = include_bytes!("../../tests/fixtures/cargo/Cargo-v4.lock");
    const V1: &[u8] = include_bytes!("../../tests/fixtures/cargo/Cargo-v1.lock");

    #[test]
    fn v4_skips_workspace_members() {
        let out = run(&CargoLock, "Cargo.lock", V4).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            ["proc-macro2@1.0.85", "serde@1.0.203", "syn@1.0.109", "syn@2.0.66", "unicode-ident@1.0.12"]
        );
        assert_eq!(get(&out, "syn", "1.0.109").direct, Some(true));
        assert_eq!(get(&out, "syn", "2.0.66").direct, Some(true));
        assert_eq!(get(&out, "serde", "1.0.203").direct, Some(true));
        assert_eq!(get(&out, "proc-macro2", "1.0.85").direct, Some(false));
        assert_eq!(
            get(&out, "syn", "2.0.66").dependencies,
            ["pkg:cargo/proc-macro2@1.0.85", "pkg:cargo/unicode-ident@1.0.12"]
        );
        assert_eq!(get(&out, "serde", "1.0.203").purl, "pkg:cargo/serde@1.0.203");
        assert!(get(&out, "serde", "1.0.203").metadata.is_empty());
    }

    #[test]
    fn workspace_members_are_projects() {
        let out = run(&CargoLock, "app/Cargo.lock", V4).unwrap();
        let projects: Vec<_> = out
            .projects
            .iter()
            .map(|p| format!("{}@{} in {}", p.package.name, p.package.version, p.dir))
            .collect();
        assert_eq!(projects, ["app@0.1.0 in app", "helper@0.1.0 in app"]);
        // A member depends on crates and on the other member (a path dependency).
        let root = &out.projects[0].package;
        assert_eq!(root.purl, "pkg:cargo/app@0.1.0");
        assert_eq!(
            root.dependencies,
            ["pkg:cargo/helper@0.1.0", "pkg:cargo/serde@1.0.203", "pkg:cargo/syn@1.0.109"]
        );
        assert_eq!(out.projects[1].package.dependencies, ["pkg:cargo/syn@2.0.66"]);
        assert!(!out.packages.iter().any(|p| p.name == "app" || p.name == "helper"));
    }

    #[test]
    fn v1_with_metadata_checksums() {
        let out = run(&CargoLock, "Cargo.lock", V1).unwrap();
        assert_eq!(out.packages.len(), 2);
        assert_eq!(get(&out, "libc", "0.2.155").direct, Some(true));
    }

    #[test]
    fn malformed() {
        assert!(run(&CargoLock, "Cargo.lock", b"[[package]]\nname = \"x\"\n").is_err());
        assert!(
            run(&CargoLock, "Cargo.lock", b"[[package]]\nname = \"x\"\nversion = \"not-semver\"\n").is_err()
        );
        assert!(run(&CargoLock, "Cargo.lock", b"version = 4\n[[package\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&CargoLock, "Cargo.lock", V4);
        no_panic_on_truncation(&CargoLock, "Cargo.lock", V1);
    }
}
