//! One package per package: entries that name the same package, found by several sources, become one
//! [`Package`] with several locations.
//!
//! **Identity** ([`identity`]):
//! - OS packages (deb, apk, rpm): the full distro purl, qualifiers included (`arch`, `distro`, `upstream`,
//!   `epoch`), so `libc6` for `amd64` and for `i386` stay two packages.
//! - Language packages: ecosystem + name key + version key. The name key is the name as the registry
//!   compares names: PEP 503 normalised for PyPI (`Django_Rest.framework` = `django-rest-framework`), lower
//!   case for Composer and NuGet (case-insensitive registries), as written elsewhere (npm, Cargo, Go module
//!   paths, Maven `group:artifact`, gems are case-sensitive). The version key is the version as written,
//!   except for PyPI, where trailing zero release segments are dropped (PEP 440: `2.2.0` = `2.2`), so the
//!   `Django-2.2.dist-info` and a `django==2.2.0` pin are one package.
//!
//! Nothing else is part of the identity: the same version of a crate from two lockfiles, from a lockfile and
//! a `cargo auditable` binary, or of a Go module linked into two binaries, is one package.
//!
//! **Order of the locations** ([`source_rank`]): OS package databases; then installed metadata and binaries
//! (`node_modules/*/package.json`, `*.dist-info`, gemspecs, jars, `*.deps.json`, Go and Rust binaries); then
//! lockfiles (`package-lock.json`, `Cargo.lock`, `go.mod`, ...); then pinned requirements files. The first
//! is the primary location, whose parser is [`Package::found_by`] and whose name, version and purl the
//! package keeps. Installed metadata comes first because it is what the artifact actually runs: it is the
//! file to change or delete to fix a finding, it still holds when a lockfile is stale, its licence is the
//! package's own declaration, and it is where Trivy's image scans point.
//!
//! **Fields** ([`merge_into`]): scope `required` wins over `optional`, which wins over `dev` (a package one
//! project needs at run time ships, whatever another project uses it for); `direct` `true` wins over
//! `false`, which wins over unknown; dependencies and licences are unioned (the primary's licences first);
//! `source` and `arch` are the first known; metadata keys of the primary win, the others fill in.

use crate::parsers::lang_common::merge_scope;
use palisade_core::package::normalize_pypi as normalize_pypi_name;
use palisade_core::{Ecosystem, Package};
use std::collections::HashMap;

/// What makes two entries the same package (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    /// OS packages: the distro purl.
    Os(String),
    /// Language packages: ecosystem, name key, version key.
    Lang(Ecosystem, String, String),
}

/// The identity of a package. For OS packages the purl must already be the distro purl.
pub fn identity(p: &Package) -> Identity {
    if p.ecosystem.is_os() {
        return Identity::Os(p.purl.clone());
    }
    let name = match p.ecosystem {
        Ecosystem::PyPI => normalize_pypi_name(&p.name),
        Ecosystem::Composer | Ecosystem::Nuget => p.name.to_lowercase(),
        _ => p.name.clone(),
    };
    let version = match p.ecosystem {
        Ecosystem::PyPI => pep440_key(&p.version),
        _ => p.version.clone(),
    };
    Identity::Lang(p.ecosystem, name, version)
}

/// True when two names of one ecosystem are the same package name (see [`identity`]).
pub fn same_name(ecosystem: Ecosystem, a: &str, b: &str) -> bool {
    let v = |n: &str| identity(&Package::new(ecosystem, n, "", palisade_core::Location::new("", None), ""));
    v(a) == v(b)
}

/// A PEP 440 comparison key that is exact for the common forms: lower case, a leading `v` dropped, and the
/// trailing `.0` segments of the leading release number dropped (`2.2.0` and `2.2` compare equal, `2.0.0rc1`
/// and `2rc1` too). Anything else is kept as written: two spellings this does not unify stay two packages.
fn pep440_key(version: &str) -> String {
    let v = version.trim().to_ascii_lowercase();
    let v = v.strip_prefix('v').unwrap_or(&v);
    let release_len = v
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_digit() || (*c == '.' && v[i + 1..].starts_with(|d: char| d.is_ascii_digit())))
        })
        .map_or(v.len(), |(i, _)| i);
    let (release, rest) = v.split_at(release_len);
    let mut segments: Vec<&str> = release.split('.').collect();
    while segments.len() > 1 && segments.last().is_some_and(|s| s.bytes().all(|b| b == b'0')) {
        segments.pop();
    }
    format!("{}{rest}", segments.join("."))
}

/// Where a parser's packages rank as a location (lower first). See the module documentation.
pub fn source_rank(found_by: &str) -> u8 {
    match found_by {
        "dpkg-status" | "dpkg-status-d" | "apk-installed" | "rpm-sqlite" | "rpm-bdb" | "rpm-ndb" => 0,
        "npm-package-json" | "python-dist-info" | "gemspec" | "java-archive" | "dotnet-deps"
        | "go-binary" | "cargo-auditable" => 1,
        "pip-requirements" => 3,
        // Lockfiles, and anything new until it is placed.
        _ => 2,
    }
}

/// Merge `other` (another entry of the same package) into `into`, whose name, version and purl are kept.
pub fn merge_into(into: &mut Package, other: Package) {
    into.scope = merge_scope(into.scope, other.scope);
    into.direct = match (into.direct, other.direct) {
        (Some(a), Some(b)) => Some(a || b),
        (a, b) => a.or(b),
    };
    for l in other.locations {
        if !into.locations.contains(&l) {
            into.locations.push(l);
        }
    }
    for l in other.licenses {
        if !into.licenses.contains(&l) {
            into.licenses.push(l);
        }
    }
    into.dependencies.extend(other.dependencies);
    into.dependencies.sort();
    into.dependencies.dedup();
    if into.source.is_none() {
        into.source = other.source;
    }
    if into.arch.is_none() {
        into.arch = other.arch;
    }
    for (k, v) in other.metadata {
        into.metadata.entry(k).or_insert(v);
    }
}

/// Merge the entries of `packages` that are the same package, each into its primary entry, and sort the
/// result by (ecosystem, name, version, locations).
pub fn merge_packages(mut packages: Vec<Package>) -> Vec<Package> {
    // Primary first: by source rank, then by path, so the result does not depend on the walk order.
    packages.sort_by(|a, b| {
        (source_rank(&a.found_by), &a.locations, &a.found_by).cmp(&(
            source_rank(&b.found_by),
            &b.locations,
            &b.found_by,
        ))
    });
    let mut index: HashMap<Identity, usize> = HashMap::with_capacity(packages.len());
    let mut out: Vec<Package> = Vec::with_capacity(packages.len());
    for p in packages {
        let id = identity(&p);
        match index.get(&id).and_then(|&i| out.get_mut(i)) {
            Some(primary) => merge_into(primary, p),
            None => {
                index.insert(id, out.len());
                let mut p = p;
                p.dependencies.sort();
                p.dependencies.dedup();
                out.push(p);
            }
        }
    }
    out.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.locations).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.locations,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Location, Scope};

    fn pkg(eco: Ecosystem, name: &str, version: &str, path: &str, found_by: &str) -> Package {
        Package::new(eco, name, version, Location::new(path, Some(1)), found_by)
    }

    #[test]
    fn installed_metadata_is_primary_and_fields_merge() {
        let mut lock = pkg(Ecosystem::Npm, "lodash", "4.17.15", "app/package-lock.json", "npm-package-lock");
        lock.scope = Scope::Dev;
        lock.direct = Some(true);
        lock.dependencies = vec!["pkg:npm/b@1".into()];
        lock.metadata.insert("from".into(), "lock".into());
        lock.metadata.insert("only-lock".into(), "x".into());
        let mut installed = pkg(
            Ecosystem::Npm,
            "lodash",
            "4.17.15",
            "app/node_modules/lodash/package.json",
            "npm-package-json",
        );
        installed.licenses = vec!["MIT".into()];
        installed.metadata.insert("from".into(), "installed".into());
        let mut other_lock =
            pkg(Ecosystem::Npm, "lodash", "4.17.15", "b/package-lock.json", "npm-package-lock");
        other_lock.direct = Some(false);
        other_lock.scope = Scope::Optional;
        other_lock.licenses = vec!["MIT".into(), "CC0-1.0".into()];
        other_lock.dependencies = vec!["pkg:npm/a@1".into(), "pkg:npm/b@1".into()];
        // Input order must not matter: the lockfile comes first here.
        let out = merge_packages(vec![lock, other_lock, installed]);
        assert_eq!(out.len(), 1);
        let p = &out[0];
        let paths: Vec<&str> = p.locations.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(
            paths,
            ["app/node_modules/lodash/package.json", "app/package-lock.json", "b/package-lock.json"]
        );
        assert_eq!(p.found_by, "npm-package-json");
        // Dev in one project, optional in another, unknown (installed, so required) in the third: required.
        assert_eq!(p.scope, Scope::Required);
        assert_eq!(p.direct, Some(true));
        assert_eq!(p.licenses, ["MIT", "CC0-1.0"]);
        assert_eq!(p.dependencies, ["pkg:npm/a@1", "pkg:npm/b@1"]);
        assert_eq!(p.metadata["from"], "installed");
        assert_eq!(p.metadata["only-lock"], "x");
    }

    #[test]
    fn scope_and_direct_merge_without_a_required_entry() {
        let mut a = pkg(Ecosystem::Cargo, "syn", "2.0.0", "a/Cargo.lock", "cargo-lock");
        a.scope = Scope::Dev;
        a.direct = None;
        let mut b = pkg(Ecosystem::Cargo, "syn", "2.0.0", "b/Cargo.lock", "cargo-lock");
        b.scope = Scope::Optional;
        b.direct = Some(false);
        let out = merge_packages(vec![a, b]);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].scope, out[0].direct), (Scope::Optional, Some(false)));
        let mut c = pkg(Ecosystem::Cargo, "syn", "2.0.0", "a/Cargo.lock", "cargo-lock");
        c.scope = Scope::Dev;
        let mut d = c.clone();
        d.locations = vec![Location::new("usr/bin/tool", Some(2))];
        d.found_by = "cargo-auditable".into();
        let out = merge_packages(vec![c, d]);
        assert_eq!(out[0].scope, Scope::Dev);
        assert_eq!(out[0].locations[0].path, "usr/bin/tool", "a binary before a lockfile");
    }

    #[test]
    fn python_names_and_versions_compare_as_pep_440() {
        let installed = pkg(
            Ecosystem::PyPI,
            "Django",
            "2.2",
            "usr/lib/python3/site-packages/Django-2.2.dist-info/METADATA",
            "python-dist-info",
        );
        let pinned = pkg(Ecosystem::PyPI, "django", "2.2.0", "app/requirements.txt", "pip-requirements");
        let locked = pkg(Ecosystem::PyPI, "DJANGO", "v2.2.0", "app/poetry.lock", "poetry-lock");
        let other = pkg(Ecosystem::PyPI, "django", "2.2.1", "app/requirements-dev.txt", "pip-requirements");
        let out = merge_packages(vec![pinned, other, locked, installed]);
        assert_eq!(out.len(), 2);
        let p = out.iter().find(|p| p.version == "2.2").unwrap();
        assert_eq!(p.name, "Django", "the primary entry's spelling is kept");
        let paths: Vec<&str> = p.locations.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "usr/lib/python3/site-packages/Django-2.2.dist-info/METADATA",
                "app/poetry.lock",
                "app/requirements.txt"
            ],
            "installed, then lockfile, then requirements"
        );
        assert_eq!(pep440_key("2.0.0rc1"), "2rc1");
        assert_eq!(pep440_key("1.10.0"), "1.10");
        assert_eq!(pep440_key("0"), "0");
        assert_eq!(pep440_key("1.0.post1"), "1.post1");
        assert_ne!(pep440_key("1.01"), pep440_key("1.1"), "not unified: kept as written");
    }

    #[test]
    fn identity_per_ecosystem() {
        let id = |eco, name: &str, v: &str| identity(&pkg(eco, name, v, "x", "t"));
        assert_eq!(
            id(Ecosystem::Nuget, "Newtonsoft.Json", "13.0.1"),
            id(Ecosystem::Nuget, "newtonsoft.json", "13.0.1")
        );
        assert_eq!(
            id(Ecosystem::Composer, "Monolog/Monolog", "1.0"),
            id(Ecosystem::Composer, "monolog/monolog", "1.0")
        );
        assert_ne!(id(Ecosystem::Npm, "JSONStream", "1.0.0"), id(Ecosystem::Npm, "jsonstream", "1.0.0"));
        assert_ne!(
            id(Ecosystem::Golang, "github.com/Sirupsen/logrus", "v1.0.0"),
            id(Ecosystem::Golang, "github.com/sirupsen/logrus", "v1.0.0")
        );
        assert_ne!(
            id(Ecosystem::Npm, "a", "1.0.0"),
            id(Ecosystem::Cargo, "a", "1.0.0"),
            "ecosystems never merge"
        );
        assert_ne!(
            id(Ecosystem::Npm, "a", "1.0.0"),
            id(Ecosystem::Npm, "a", "1.0"),
            "only PyPI versions are normalised"
        );
    }

    #[test]
    fn os_packages_merge_only_on_the_whole_purl() {
        let mut amd = pkg(Ecosystem::Deb, "libc6", "2.36-9", "var/lib/dpkg/status", "dpkg-status");
        amd.purl = "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12".into();
        let mut i386 = amd.clone();
        i386.purl = "pkg:deb/debian/libc6@2.36-9?arch=i386&distro=debian-12".into();
        let mut again = amd.clone();
        again.locations = vec![Location::new("var/lib/dpkg/status.d/libc6", Some(1))];
        again.found_by = "dpkg-status-d".into();
        let out = merge_packages(vec![amd, i386, again]);
        assert_eq!(out.len(), 2);
        let merged = out.iter().find(|p| p.purl.contains("amd64")).unwrap();
        assert_eq!(merged.locations.len(), 2);
    }
}
