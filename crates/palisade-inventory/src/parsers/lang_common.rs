//! Helpers shared by the language lockfile and installed-metadata parsers: file-name matching, YAML limits,
//! and a package set that merges repeated `(name, version)` entries of one file into one [`Package`].

use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope, package::build_purl};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Lockfiles and metadata files larger than this are not read.
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

pub use palisade_artifact::file_name;

/// True when the file's name is one of `names` and it is not too large.
pub fn wants_name(meta: &FileMeta, names: &[&str]) -> bool {
    meta.size <= MAX_FILE_SIZE && names.contains(&file_name(meta.path))
}

/// The purl of a dependency, for [`Package::dependencies`].
pub fn purl(ecosystem: Ecosystem, name: &str, version: &str) -> String {
    build_purl(ecosystem, name, version, &[])
}

/// Options for YAML lockfiles: the default budget of serde-saphyr is sized for configuration files, and
/// large monorepo lockfiles have millions of nodes. Depth stays bounded.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 40_000_000;
    budget.max_nodes = 20_000_000;
    budget.max_total_scalar_bytes = 256 * 1024 * 1024;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.emit_comments = false;
    options
}

/// `#[serde(deserialize_with = "nullable")]`: a key with an empty value (YAML `packages:` with nothing under
/// it, JSON `null`) reads as the type's default instead of failing the whole file.
pub fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Merge two scopes of the same package reached along different paths: needed at run time wins over
/// optional, which wins over development-only.
pub fn merge_scope(a: Scope, b: Scope) -> Scope {
    match (a, b) {
        (Scope::Required, _) | (_, Scope::Required) => Scope::Required,
        (Scope::Optional, _) | (_, Scope::Optional) => Scope::Optional,
        _ => Scope::Dev,
    }
}

/// Packages of one file keyed by `(name, version)`. Adding a package already present merges scope, `direct`,
/// licences and dependencies instead of duplicating it (e.g. npm copies nested at several paths).
#[derive(Debug, Default)]
pub struct PackageSet {
    packages: BTreeMap<(String, String), Package>,
}

impl PackageSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add or merge a package.
    pub fn add(&mut self, pkg: Package) {
        let key = (pkg.name.clone(), pkg.version.clone());
        match self.packages.get_mut(&key) {
            None => {
                self.packages.insert(key, pkg);
            }
            Some(existing) => {
                existing.scope = merge_scope(existing.scope, pkg.scope);
                existing.direct = match (existing.direct, pkg.direct) {
                    (Some(a), Some(b)) => Some(a || b),
                    (a, b) => a.or(b),
                };
                for l in pkg.licenses {
                    if !existing.licenses.contains(&l) {
                        existing.licenses.push(l);
                    }
                }
                // Deduplicated when the list has doubled since the last time, so merging k copies of a
                // package with d dependencies costs O(k·d log d), not O(k·d²).
                existing.dependencies.extend(pkg.dependencies);
                if existing.dependencies.len() > 64 && existing.dependencies.len().is_power_of_two() {
                    existing.dependencies.sort_unstable();
                    existing.dependencies.dedup();
                }
                for (k, v) in pkg.metadata {
                    existing.metadata.entry(k).or_insert(v);
                }
            }
        }
    }

    /// All packages, dependencies sorted and deduplicated.
    pub fn into_packages(self) -> Vec<Package> {
        self.packages
            .into_values()
            .map(|mut p| {
                p.dependencies.sort();
                p.dependencies.dedup();
                p
            })
            .collect()
    }
}

/// Test helpers shared by the parser tests.
#[cfg(test)]
pub mod testing {
    use crate::{Input, Output, ParseError, Parser};

    /// Run a parser on in-memory content.
    pub fn run(parser: &dyn Parser, path: &str, data: &[u8]) -> Result<Output, ParseError> {
        let mut out = Output::default();
        parser.parse(&Input { path, layer: Some(1), data }, &mut out)?;
        Ok(out)
    }

    /// Find a package by name and version or fail the test with the list of names seen.
    pub fn get<'a>(out: &'a Output, name: &str, version: &str) -> &'a palisade_core::Package {
        match out.packages.iter().find(|p| p.name == name && p.version == version) {
            Some(p) => p,
            None => panic!(
                "{name}@{version} not found in {:?}",
                out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect::<Vec<_>>()
            ),
        }
    }

    /// Feed every prefix (at a stride) of a valid fixture, plus garbage, to a parser: it must return, never
    /// panic. Also checks that total garbage is rejected or yields nothing.
    pub fn no_panic_on_truncation(parser: &dyn Parser, path: &str, fixture: &[u8]) {
        let stride = (fixture.len() / 200).max(1);
        let mut cut = 0;
        while cut < fixture.len() {
            let _ = run(parser, path, &fixture[..cut]);
            cut += stride;
        }
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        match run(parser, path, &garbage) {
            Ok(out) => assert!(out.packages.is_empty(), "garbage produced packages"),
            Err(e) => assert!(!e.0.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lockfile and metadata paths, one per format.
    const LOCKFILE_PATHS: &[&str] = &[
        "app/package-lock.json",
        "app/npm-shrinkwrap.json",
        "app/yarn.lock",
        "app/pnpm-lock.yaml",
        "app/poetry.lock",
        "app/Pipfile.lock",
        "app/uv.lock",
        "app/Cargo.lock",
        "app/composer.lock",
        "app/Gemfile.lock",
        "src/App/packages.lock.json",
        "app/App.deps.json",
        "app/go.mod",
        "app/go.sum",
        "app/vendor/modules.txt",
        "app/pom.xml",
        "app/gradle.lockfile",
        "app/gradle/libs.versions.toml",
        "app/packages.config",
        "app/Directory.Packages.props",
        "app/obj/project.assets.json",
        "app/pubspec.lock",
        "app/Package.resolved",
        "app/Podfile.lock",
        "app/mix.lock",
        "app/pylock.toml",
        "app/pdm.lock",
        "app/bun.lock",
        "app/conan.lock",
        "app/renv.lock",
        "app/stack.yaml.lock",
        "app/Manifest.toml",
    ];

    /// Each language file is wanted by exactly its own parser among all registered parsers.
    #[test]
    fn registry_routes_language_files() {
        let parsers = crate::registry::all();
        for (path, id) in [
            ("app/package-lock.json", "npm-package-lock"),
            ("app/npm-shrinkwrap.json", "npm-package-lock"),
            ("app/node_modules/@types/node/package.json", "npm-package-json"),
            ("app/yarn.lock", "yarn-lock"),
            ("app/pnpm-lock.yaml", "pnpm-lock"),
            ("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", "python-dist-info"),
            ("app/poetry.lock", "poetry-lock"),
            ("app/Pipfile.lock", "pipfile-lock"),
            ("app/uv.lock", "uv-lock"),
            ("app/requirements-dev.txt", "pip-requirements"),
            ("app/Cargo.lock", "cargo-lock"),
            ("app/composer.lock", "composer-lock"),
            ("app/Gemfile.lock", "gemfile-lock"),
            ("usr/local/bundle/specifications/rake-13.0.6.gemspec", "gemspec"),
            ("src/App/packages.lock.json", "nuget-packages-lock"),
            ("app/App.deps.json", "dotnet-deps"),
            ("app/go.sum", "go-sum"),
            ("app/vendor/modules.txt", "go-vendor-modules"),
            ("app/pom.xml", "maven-pom"),
            ("app/gradle.lockfile", "gradle-lockfile"),
            ("app/gradle/libs.versions.toml", "gradle-version-catalog"),
            ("app/packages.config", "nuget-packages-config"),
            ("app/Directory.Packages.props", "nuget-central-versions"),
            ("app/obj/project.assets.json", "nuget-project-assets"),
            ("app/pubspec.lock", "pubspec-lock"),
            ("app/Package.resolved", "swift-package-resolved"),
            ("app/Podfile.lock", "podfile-lock"),
            ("app/mix.lock", "mix-lock"),
            ("app/pylock.toml", "pylock"),
            ("app/pdm.lock", "pdm-lock"),
            ("app/bun.lock", "bun-lock"),
            ("app/conan.lock", "conan-lock"),
            ("app/renv.lock", "renv-lock"),
            ("app/stack.yaml.lock", "stack-lock"),
            ("app/Manifest.toml", "julia-manifest"),
            ("app/build.gradle", "not-inventoried"),
        ] {
            let meta = FileMeta { path, size: 1000, mode: 0o644, layer: None };
            let wanted: Vec<_> = parsers.iter().filter(|p| p.wants(&meta)).map(|p| p.id()).collect();
            assert_eq!(wanted, [id], "{path}");
        }
        // Project manifests only name the projects of the lockfiles beside them.
        for path in ["app/package.json", "app/pyproject.toml"] {
            let meta = FileMeta { path, size: 1000, mode: 0o644, layer: None };
            let wanted: Vec<_> = parsers.iter().filter(|p| p.wants(&meta)).map(|p| p.id()).collect();
            assert_eq!(wanted, ["project-manifest"], "{path}");
        }
    }

    /// Issue 13: a file with a known lockfile name that is not that format is never silently empty: the parser
    /// fails (a warning naming the file) or warns.
    #[test]
    fn known_lockfile_names_never_accept_garbage_silently() {
        let parsers = crate::registry::all();
        let mut silent = Vec::new();
        for path in LOCKFILE_PATHS {
            let meta = FileMeta { path, size: 1000, mode: 0o644, layer: None };
            for data in [&b"hello world\n"[..], b"[1, 2]", b"\"text\"", b"<html><body>404</body></html>\n"] {
                for p in parsers.iter().filter(|p| p.wants(&meta)) {
                    match testing::run(p.as_ref(), path, data) {
                        Err(e) => assert!(!e.0.is_empty()),
                        Ok(out) if !out.warnings.is_empty() => {}
                        Ok(_) => silent.push(format!(
                            "{} on {path} with {:?}",
                            p.id(),
                            String::from_utf8_lossy(data)
                        )),
                    }
                }
            }
        }
        assert!(silent.is_empty(), "accepted garbage silently: {silent:#?}");
    }

    #[test]
    fn package_set_merges_copies() {
        use palisade_core::Location;
        let loc = Location::new("package-lock.json", None);
        let mut set = PackageSet::new();
        let mut a = Package::new(Ecosystem::Npm, "ms", "2.0.0", loc.clone(), "t");
        a.scope = Scope::Dev;
        a.direct = Some(false);
        a.dependencies = vec!["pkg:npm/b@1".into()];
        let mut b = Package::new(Ecosystem::Npm, "ms", "2.0.0", loc.clone(), "t");
        b.direct = Some(true);
        b.dependencies = vec!["pkg:npm/a@1".into(), "pkg:npm/b@1".into()];
        set.add(a);
        set.add(b);
        set.add(Package::new(Ecosystem::Npm, "ms", "2.1.3", loc, "t"));
        let out = set.into_packages();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].scope, Scope::Required);
        assert_eq!(out[0].direct, Some(true));
        assert_eq!(out[0].dependencies, ["pkg:npm/a@1", "pkg:npm/b@1"]);
        assert_eq!(merge_scope(Scope::Dev, Scope::Optional), Scope::Optional);
        assert_eq!(merge_scope(Scope::Dev, Scope::Dev), Scope::Dev);
    }
}
