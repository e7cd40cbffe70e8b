//! Packages: what the inventory finds and what the matchers match.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A package ecosystem. The names follow the package-url `type` where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Debian/Ubuntu `.deb` packages (dpkg).
    Deb,
    /// Alpine `.apk` packages.
    Apk,
    /// RPM packages (RHEL family, SUSE, Fedora, Amazon Linux).
    Rpm,
    Cargo,
    Npm,
    #[serde(rename = "pypi")]
    PyPI,
    /// Go modules; the toolchain itself is the module `stdlib`.
    Golang,
    Maven,
    /// Ruby gems.
    Gem,
    Composer,
    Nuget,
    /// Dart and Flutter packages (pub.dev).
    Pub,
    /// Elixir and Erlang packages (hex.pm).
    Hex,
    /// Swift packages, named by repository URL (`github.com/apple/swift-nio`).
    Swift,
    CocoaPods,
    /// R packages (CRAN).
    Cran,
    /// Haskell packages.
    Hackage,
    Julia,
    /// C/C++ packages (Conan Center).
    Conan,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 19] = [
        Ecosystem::Deb,
        Ecosystem::Apk,
        Ecosystem::Rpm,
        Ecosystem::Cargo,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::Golang,
        Ecosystem::Maven,
        Ecosystem::Gem,
        Ecosystem::Composer,
        Ecosystem::Nuget,
        Ecosystem::Pub,
        Ecosystem::Hex,
        Ecosystem::Swift,
        Ecosystem::CocoaPods,
        Ecosystem::Cran,
        Ecosystem::Hackage,
        Ecosystem::Julia,
        Ecosystem::Conan,
    ];

    /// The package-url type (`pkg:<type>/...`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Cargo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Golang => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::Gem => "gem",
            Ecosystem::Composer => "composer",
            Ecosystem::Nuget => "nuget",
            Ecosystem::Pub => "pub",
            Ecosystem::Hex => "hex",
            Ecosystem::Swift => "swift",
            Ecosystem::CocoaPods => "cocoapods",
            Ecosystem::Cran => "cran",
            Ecosystem::Hackage => "hackage",
            Ecosystem::Julia => "julia",
            Ecosystem::Conan => "conan",
        }
    }

    /// The ecosystem for a package-url type, if Palisade knows it.
    pub fn from_purl_type(t: &str) -> Option<Self> {
        Ecosystem::ALL.into_iter().find(|e| e.purl_type() == t)
    }

    /// True for operating-system package managers.
    pub fn is_os(self) -> bool {
        matches!(self, Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm)
    }
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.purl_type())
    }
}

/// How a package is used by the project that declares it, where the source says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Needed at run time (the default when the source does not say).
    #[default]
    Required,
    /// Only for development or tests.
    Dev,
    /// Optional (npm `optional`, Python extras, Cargo optional features the lockfile records).
    Optional,
}

/// Where a package was found: a file inside the scanned artifact and, for images, the layer that added it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Path relative to the artifact root, `/`-separated, no leading slash.
    pub path: String,
    /// Index into [`crate::ArtifactInfo::layers`], for images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
}

impl Location {
    pub fn new(path: impl Into<String>, layer: Option<u32>) -> Self {
        Location { path: path.into(), layer }
    }
}

/// The source package an OS binary package was built from (dpkg `Source:`, apk `origin`, rpm source RPM).
/// Distro advisories are written against source packages.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourcePackage {
    pub name: String,
    pub version: String,
}

/// One installed or declared package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    /// Name as the ecosystem spells it (Maven: `group:artifact`; Go: module path; Composer: `vendor/name`).
    pub name: String,
    pub version: String,
    /// Package URL (<https://github.com/package-url/purl-spec>).
    pub purl: String,
    /// Source package for OS packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    /// CPU architecture for OS packages (`amd64`, `x86_64`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Declared licences, as the package metadata states them (SPDX expression when the source gives one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    #[serde(default)]
    pub scope: Scope,
    /// `Some(true)` for a direct dependency of the project, `Some(false)` for a transitive one, `None` when the
    /// source does not say (installed packages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct: Option<bool>,
    /// Where it was found, one entry per file that names this package. The first is the primary location:
    /// installed metadata or a binary before a lockfile, a lockfile before a requirements file (see
    /// `palisade-inventory`'s `merge` module).
    pub locations: Vec<Location>,
    /// purls of the packages this one depends on, where the source records the graph.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Which parser found it at the primary location (e.g. `dpkg-status`, `npm-package-lock`).
    pub found_by: String,
    /// Extra facts that do not fit above (e.g. Go toolchain version, Java manifest fields).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl Package {
    /// A package with the required fields; the purl is built from ecosystem, name and version.
    pub fn new(
        ecosystem: Ecosystem,
        name: impl Into<String>,
        version: impl Into<String>,
        location: Location,
        found_by: impl Into<String>,
    ) -> Self {
        let name = name.into();
        let version = version.into();
        let purl = build_purl(ecosystem, &name, &version, &[]);
        Package {
            ecosystem,
            name,
            version,
            purl,
            source: None,
            arch: None,
            licenses: Vec::new(),
            scope: Scope::Required,
            direct: None,
            locations: vec![location],
            dependencies: Vec::new(),
            found_by: found_by.into(),
            metadata: BTreeMap::new(),
        }
    }

    /// The primary location.
    pub fn location(&self) -> Option<&Location> {
        self.locations.first()
    }

    /// True for a root project that is the module a binary was built from (metadata `main = "true"`, set by
    /// the Go build-info and `cargo auditable` parsers): the binary ships that version of it.
    pub fn is_binary_main(&self) -> bool {
        self.metadata.get("main").is_some_and(|v| v == "true")
    }
}

/// Build a package URL. Name splitting follows the purl spec per type: Maven `group:artifact` becomes
/// namespace/name, npm `@scope/name`, Go, Composer and Swift paths split at the last `/`. OS package types want a
/// `distro` namespace, which [`build_os_purl`] adds.
pub fn build_purl(ecosystem: Ecosystem, name: &str, version: &str, qualifiers: &[(&str, &str)]) -> String {
    let (namespace, short) = match ecosystem {
        Ecosystem::Maven => match name.split_once(':') {
            Some((g, a)) => (Some(g), a),
            None => (None, name),
        },
        Ecosystem::Npm | Ecosystem::Golang | Ecosystem::Composer | Ecosystem::Swift => {
            match name.rsplit_once('/') {
                Some((ns, n)) => (Some(ns), n),
                None => (None, name),
            }
        }
        _ => (None, name),
    };
    let short = if ecosystem == Ecosystem::PyPI { normalize_pypi(short) } else { short.to_string() };
    purl_string(ecosystem.purl_type(), namespace, &short, version, qualifiers)
}

/// Build a package URL for an OS package: `pkg:deb/debian/openssl@3.0.11-1?arch=amd64&distro=debian-12`.
pub fn build_os_purl(
    ecosystem: Ecosystem,
    vendor: &str,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> String {
    purl_string(ecosystem.purl_type(), Some(vendor), name, version, qualifiers)
}

fn purl_string(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> String {
    match packageurl::PackageUrl::new(ty, name) {
        Ok(mut p) => {
            if let Some(ns) = namespace.filter(|n| !n.is_empty())
                && p.with_namespace(ns).is_err()
            {
                return fallback_purl(ty, namespace, name, version);
            }
            if !version.is_empty() && p.with_version(version).is_err() {
                return fallback_purl(ty, namespace, name, version);
            }
            let mut qs: Vec<_> = qualifiers.iter().filter(|(_, v)| !v.is_empty()).collect();
            qs.sort();
            for (k, v) in qs {
                // Keys are our own constants and always valid; a failure would only drop the qualifier.
                let _ = p.add_qualifier(*k, *v);
            }
            p.to_string()
        }
        Err(_) => fallback_purl(ty, namespace, name, version),
    }
}

/// Only an empty name or an invalid type makes the purl builder fail; keep something recognisable instead of
/// panicking on hostile metadata.
fn fallback_purl(ty: &str, namespace: Option<&str>, name: &str, version: &str) -> String {
    match namespace {
        Some(ns) => format!("pkg:{ty}/{ns}/{name}@{version}"),
        None => format!("pkg:{ty}/{name}@{version}"),
    }
}

/// PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The operating system of a scanned root, from `etc/os-release` (or `usr/lib/os-release`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OsInfo {
    /// `ID`: `debian`, `ubuntu`, `alpine`, `rhel`, `rocky`, `almalinux`, `centos`, `fedora`, `amzn`, ...
    pub id: String,
    /// `VERSION_ID`: `12`, `22.04`, `3.19.1`.
    #[serde(default)]
    pub version_id: String,
    /// `VERSION_CODENAME`: `bookworm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    /// `PRETTY_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    /// `ID_LIKE`, split.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    /// True for distroless images (dpkg `status.d` and no package manager).
    #[serde(default)]
    pub distroless: bool,
    /// When the release stops getting security updates, where Palisade knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<EndOfLife>,
}

/// The end of security support of an OS release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndOfLife {
    /// Last day of security support (`YYYY-MM-DD`), including long-term support where the distribution
    /// itself publishes advisories for it.
    pub date: String,
    /// True when `date` has passed: the release gets no more security fixes.
    pub ended: bool,
    /// Where the date comes from.
    pub source: String,
}

impl OsInfo {
    /// The purl `distro` qualifier: `debian-12`, `alpine-3.19.1`.
    pub fn distro_qualifier(&self) -> String {
        if self.version_id.is_empty() { self.id.clone() } else { format!("{}-{}", self.id, self.version_id) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_per_type() {
        assert_eq!(build_purl(Ecosystem::Npm, "@babel/core", "7.0.0", &[]), "pkg:npm/%40babel/core@7.0.0");
        assert_eq!(build_purl(Ecosystem::Npm, "lodash", "4.17.15", &[]), "pkg:npm/lodash@4.17.15");
        assert_eq!(
            build_purl(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core", "2.14.1", &[]),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
        assert_eq!(
            build_purl(Ecosystem::Golang, "golang.org/x/net", "v0.1.0", &[]),
            "pkg:golang/golang.org/x/net@v0.1.0"
        );
        assert_eq!(
            build_purl(Ecosystem::PyPI, "Django_Rest.framework", "1.0", &[]),
            "pkg:pypi/django-rest-framework@1.0"
        );
        assert_eq!(
            build_os_purl(
                Ecosystem::Deb,
                "debian",
                "libssl3",
                "3.0.11-1~deb12u2",
                &[("arch", "amd64"), ("distro", "debian-12")]
            ),
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn pypi_normalisation() {
        assert_eq!(normalize_pypi("Foo__Bar.baz"), "foo-bar-baz");
        assert_eq!(normalize_pypi("requests"), "requests");
    }
}
