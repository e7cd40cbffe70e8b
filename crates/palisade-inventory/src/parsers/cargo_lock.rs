//! `Cargo.lock`, lockfile formats v1 to v4.
//!
//! Packages without a `source` are the root package and the other workspace and path members (the project
//! itself): they are the file's root projects, not packages, each depending on the crates it lists. The
//! crates they depend on are direct, everything else is transitive. Each package's `dependencies` become
//! purls of the exact locked versions: the `name version` and v1 `name version (source)` forms name the
//! version, the bare `name` form (v2+, used when one version is locked) is resolved through an index of the
//! packages by name built once, so the graph is built in linear time (a lockfile of 80,000 packages each
//! depending on the next is read in well under a second). Git and alternative-registry crates are kept with
//! their version; the source is recorded in metadata. A package with an invalid version or a dependency that
//! names no locked package is one warning and the rest of the file is kept. Cargo.lock does not record dev or
//! optional dependencies.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser, Project, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

/// Parser for `Cargo.lock` (id `cargo-lock`).
pub struct CargoLock;

/// The parts of the file read (the `[metadata]` checksums of v1 and the v2+ checksums are not needed).
#[derive(Deserialize)]
struct Lockfile {
    #[serde(default, rename = "package")]
    packages: Vec<LockedPackage>,
}

#[derive(Deserialize)]
struct LockedPackage {
    name: String,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// Warnings kept per file; the rest are counted.
const MAX_WARNINGS: usize = 20;

impl Parser for CargoLock {
    fn id(&self) -> &'static str {
        "cargo-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["Cargo.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lockfile =
            toml::from_str(input.text()?).map_err(|e| ParseError::new(format!("invalid Cargo.lock: {e}")))?;
        let mut problems: Vec<String> = Vec::new();
        let mut packages: Vec<&LockedPackage> = Vec::with_capacity(lock.packages.len());
        for p in &lock.packages {
            match cargo_lock::Version::parse(&p.version) {
                Ok(_) => packages.push(p),
                Err(e) => {
                    problems.push(format!("package {} {}: invalid version ({e}); skipped", p.name, p.version))
                }
            }
        }
        if packages.is_empty() && !problems.is_empty() {
            return Err(ParseError::new(format!("invalid Cargo.lock: {}", problems[0])));
        }
        // name → the versions locked under it, built once.
        let mut by_name: HashMap<&str, Vec<&str>> = HashMap::with_capacity(packages.len());
        for p in &packages {
            by_name.entry(p.name.as_str()).or_default().push(p.version.as_str());
        }
        let mut resolve = |owner: &LockedPackage| -> Vec<(String, String)> {
            let mut deps = Vec::with_capacity(owner.dependencies.len());
            for d in &owner.dependencies {
                let mut parts = d.split_whitespace();
                let Some(name) = parts.next() else { continue };
                match parts.next() {
                    Some(version) if by_name.get(name).is_some_and(|v| v.contains(&version)) => {
                        deps.push((name.to_string(), version.to_string()))
                    }
                    Some(version) => problems.push(format!(
                        "package {} {}: dependency \"{name} {version}\" names no locked package; left out",
                        owner.name, owner.version
                    )),
                    None => match by_name.get(name).and_then(|v| v.first()) {
                        Some(version) => deps.push((name.to_string(), version.to_string())),
                        None => problems.push(format!(
                            "package {} {}: dependency {name:?} names no locked package; left out",
                            owner.name, owner.version
                        )),
                    },
                }
            }
            deps
        };
        let mut direct: BTreeSet<(String, String)> = BTreeSet::new();
        for p in packages.iter().filter(|p| p.source.is_none()) {
            let deps = resolve(p);
            let mut project =
                Package::new(Ecosystem::Cargo, &p.name, &p.version, input.location(), self.id());
            project.dependencies = deps.iter().map(|(n, v)| purl(Ecosystem::Cargo, n, v)).collect();
            project.dependencies.sort();
            project.dependencies.dedup();
            direct.extend(deps);
            out.projects.push(Project::new(project, parent_dir(input.path)));
        }
        let mut set = PackageSet::new();
        for p in &packages {
            let Some(source) = &p.source else { continue };
            let mut pkg = Package::new(Ecosystem::Cargo, &p.name, &p.version, input.location(), self.id());
            pkg.direct = Some(direct.contains(&(p.name.clone(), p.version.clone())));
            match cargo_lock::SourceId::from_url(source) {
                Ok(id) if id.is_default_registry() => {}
                Ok(id) => {
                    pkg.metadata.insert("source".into(), id.to_string());
                }
                Err(_) => {
                    pkg.metadata.insert("source".into(), source.clone());
                }
            }
            pkg.dependencies = resolve(p).iter().map(|(n, v)| purl(Ecosystem::Cargo, n, v)).collect();
            set.add(pkg);
        }
        out.packages.extend(set.into_packages());
        let extra = problems.len().saturating_sub(MAX_WARNINGS);
        out.warnings.extend(problems.into_iter().take(MAX_WARNINGS));
        if extra > 0 {
            out.warnings.push(format!("{extra} more problems of the same kinds"));
        }
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
        // One bad package is a warning; the rest is kept.
        let out = run(
            &CargoLock,
            "Cargo.lock",
            b"[[package]]\nname = \"x\"\nversion = \"not-semver\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
              [[package]]\nname = \"y\"\nversion = \"1.0.0\"\ndependencies = [\"gone\"]\n\
              source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        )
        .unwrap();
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("not-semver") && out.warnings[1].contains("\"gone\""));
        assert!(run(&CargoLock, "Cargo.lock", b"version = 4\n[[package\n").is_err());
    }

    /// Issue 13: a dependency naming a crate absent from the file (either form) is a warning about that edge;
    /// every package is kept.
    #[test]
    fn dangling_dependencies_keep_the_packages() {
        let lock = b"version = 3\n\
            [[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"serde\", \"gone 2.0.0\"]\n\
            [[package]]\nname = \"serde\"\nversion = \"1.0.0\"\n\
            source = \"registry+https://github.com/rust-lang/crates.io-index\"\ndependencies = [\"missing\"]\n\
            [[package]]\nname = \"libc\"\nversion = \"0.2.0\"\n\
            source = \"registry+https://github.com/rust-lang/crates.io-index\"\ndependencies = [\"libc 9.9.9\"]\n";
        let out = run(&CargoLock, "Cargo.lock", lock).unwrap();
        assert_eq!(out.packages.len(), 2);
        assert_eq!(out.projects[0].package.dependencies, ["pkg:cargo/serde@1.0.0"]);
        assert!(get(&out, "libc", "0.2.0").dependencies.is_empty());
        assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
        assert!(out.warnings.iter().any(|w| w.contains("\"gone 2.0.0\"")));
    }

    /// Each package depends on the next by bare name: building the graph must be linear (the issue measured
    /// 16 s for 80,000 packages with a search per dependency).
    #[test]
    fn a_long_dependency_chain_is_linear() {
        const N: usize = 80_000;
        let mut lock = String::from("version = 3\n");
        for i in 0..N {
            lock.push_str(&format!(
                "\n[[package]]\nname = \"c{i}\"\nversion = \"1.0.0\"\n\
                 source = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
            ));
            if i + 1 < N {
                lock.push_str(&format!("dependencies = [\"c{}\"]\n", i + 1));
            }
        }
        let start = std::time::Instant::now();
        let out = run(&CargoLock, "Cargo.lock", lock.as_bytes()).unwrap();
        let took = start.elapsed();
        assert_eq!(out.packages.len(), N);
        assert!(out.warnings.is_empty());
        assert_eq!(get(&out, "c7", "1.0.0").dependencies, ["pkg:cargo/c8@1.0.0"]);
        // A hang guard, not a benchmark: linear is ~2 s in a debug build, the old quadratic resolver took
        // minutes; the margin absorbs a loaded CI machine.
        assert!(took < std::time::Duration::from_secs(60), "{took:?}");
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&CargoLock, "Cargo.lock", V4);
        no_panic_on_truncation(&CargoLock, "Cargo.lock", V1);
    }
}
