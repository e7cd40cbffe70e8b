//! Ecosystem names: OSV ecosystem strings, the keys the database stores, and the mapping from an inventoried
//! [`Package`] (plus the scanned [`OsInfo`]) to the key, name and version that advisories are written against.
//!
//! Keys are the OSV ecosystem names in lower case: `pypi`, `npm`, `crates.io`, `go`, `maven`, `rubygems`,
//! `packagist`, `nuget`, `debian:12`, `ubuntu:22.04:lts`, `alpine:v3.19`, `rocky linux:9`, ...

use crate::version::Scheme;
use palisade_core::{Ecosystem, OsInfo, Package, package::normalize_pypi};

/// The database key of an OSV ecosystem string (`Debian:12` → `debian:12`; Maven repository suffixes such as
/// `Maven:https://repo1.maven.org/maven2/` → `maven`). `None` for an empty string.
pub fn ecosystem_key(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("maven:") {
        return Some("maven".into());
    }
    Some(lower)
}

/// The version scheme of a database ecosystem key.
pub fn scheme_for(key: &str) -> Scheme {
    let base = key.split(':').next().unwrap_or(key);
    match base {
        "debian" | "ubuntu" => Scheme::Dpkg,
        "alpine" | "wolfi" | "chainguard" | "alpaquita" | "bellsoft hardened containers" => Scheme::Apk,
        "rocky linux" | "almalinux" | "red hat" | "opensuse" | "suse" | "mageia" | "openeuler"
        | "photon os" | "azure linux" | "fedora" => Scheme::Rpm,
        "pypi" => Scheme::Pep440,
        "npm" | "crates.io" | "hex" | "pub" | "swifturl" | "julia" => Scheme::Semver,
        "cran" => Scheme::Cran,
        "hackage" => Scheme::Hackage,
        "conancenter" => Scheme::Conan,
        "go" => Scheme::Go,
        "maven" => Scheme::Maven,
        "rubygems" => Scheme::RubyGems,
        "nuget" => Scheme::NuGet,
        "packagist" => Scheme::Composer,
        _ => Scheme::Generic,
    }
}

/// True for OS distribution ecosystems (advisories written against source packages, vendor severity first).
pub fn is_distro(key: &str) -> bool {
    matches!(scheme_for(key), Scheme::Dpkg | Scheme::Apk | Scheme::Rpm)
}

/// Package names as the database stores them: PyPI PEP 503-normalised; npm, NuGet, Packagist, Maven and
/// crates.io lower-cased (their registries treat names case-insensitively); others unchanged.
pub fn name_key(eco_key: &str, name: &str) -> String {
    let name = name.trim();
    match eco_key {
        "pypi" => normalize_pypi(name),
        "npm" | "nuget" | "packagist" | "maven" | "crates.io" => name.to_lowercase(),
        _ => name.to_string(),
    }
}

/// The ecosystem key for a language ecosystem.
pub fn language_key(eco: Ecosystem) -> Option<&'static str> {
    Some(match eco {
        Ecosystem::Cargo => "crates.io",
        Ecosystem::Npm => "npm",
        Ecosystem::PyPI => "pypi",
        Ecosystem::Golang => "go",
        Ecosystem::Maven => "maven",
        Ecosystem::Gem => "rubygems",
        Ecosystem::Composer => "packagist",
        Ecosystem::Nuget => "nuget",
        Ecosystem::Pub => "pub",
        Ecosystem::Hex => "hex",
        Ecosystem::Swift => "swifturl",
        Ecosystem::Cran => "cran",
        Ecosystem::Hackage => "hackage",
        Ecosystem::Julia => "julia",
        Ecosystem::Conan => "conancenter",
        // OSV has no CocoaPods ecosystem.
        Ecosystem::CocoaPods => return None,
        Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm => return None,
    })
}

fn debian_major(os: &OsInfo) -> Option<String> {
    let major = os.version_id.split('.').next().unwrap_or("").trim();
    if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) {
        return Some(major.to_string());
    }
    let code = os.codename.as_deref()?;
    let v = match code {
        "forky" => "14",
        "trixie" => "13",
        "bookworm" => "12",
        "bullseye" => "11",
        "buster" => "10",
        "stretch" => "9",
        "jessie" => "8",
        "wheezy" => "7",
        _ => return None,
    };
    Some(v.to_string())
}

/// The distro ecosystem key of a scanned OS: debian 12 → `debian:12`, ubuntu 22.04 → `ubuntu:22.04:lts`
/// (even year, April: LTS), alpine 3.19.1 → `alpine:v3.19`, rocky 9.3 → `rocky linux:9`. `None` for an OS
/// without advisories in OSV form.
pub fn distro_key(os: &OsInfo) -> Option<String> {
    let id = os.id.trim().to_ascii_lowercase();
    let ver = os.version_id.trim();
    let major_minor = || {
        let mut it = ver.split('.');
        match (it.next(), it.next()) {
            (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => Some(format!("{a}.{b}")),
            _ => None,
        }
    };
    let major = || ver.split('.').next().filter(|m| !m.is_empty()).map(str::to_string);
    match id.as_str() {
        "debian" => debian_major(os).map(|m| format!("debian:{m}")),
        "ubuntu" => {
            let mm = major_minor()?;
            let lts = mm.ends_with(".04") && mm.split('.').next()?.parse::<u32>().ok()? % 2 == 0;
            Some(if lts { format!("ubuntu:{mm}:lts") } else { format!("ubuntu:{mm}") })
        }
        "alpine" => major_minor().map(|mm| format!("alpine:v{mm}")),
        "rocky" => major().map(|m| format!("rocky linux:{m}")),
        "almalinux" => major().map(|m| format!("almalinux:{m}")),
        "mageia" => major().map(|m| format!("mageia:{m}")),
        "wolfi" => Some("wolfi".into()),
        "chainguard" => Some("chainguard".into()),
        _ => None,
    }
}

/// What a package is matched on: ecosystem key, name key, the version compared, and whether the name and
/// version are those of the source package.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchKey {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    pub via_source: bool,
}

/// The match key of a package: language packages by their own name, OS packages by their source package
/// (name and version) in the scanned release. `None` when the package cannot be matched (an OS package
/// without a known OS release, or an empty name).
pub fn match_key(os: Option<&OsInfo>, pkg: &Package) -> Option<MatchKey> {
    if pkg.name.trim().is_empty() || pkg.version.trim().is_empty() {
        return None;
    }
    if let Some(key) = language_key(pkg.ecosystem) {
        let version = pkg.version.trim().to_string();
        return Some(MatchKey {
            ecosystem: key.into(),
            name: name_key(key, &pkg.name),
            version,
            via_source: false,
        });
    }
    let eco = distro_key(os?)?;
    let wanted = match pkg.ecosystem {
        Ecosystem::Deb => Scheme::Dpkg,
        Ecosystem::Apk => Scheme::Apk,
        Ecosystem::Rpm => Scheme::Rpm,
        _ => return None,
    };
    if scheme_for(&eco) != wanted {
        return None;
    }
    let (name, version, via_source) = match &pkg.source {
        Some(src) if !src.name.trim().is_empty() => {
            let v = if src.version.trim().is_empty() { pkg.version.trim() } else { src.version.trim() };
            (src.name.trim().to_string(), v.to_string(), true)
        }
        _ => (pkg.name.trim().to_string(), pkg.version.trim().to_string(), false),
    };
    Some(MatchKey { name: name_key(&eco, &name), ecosystem: eco, version, via_source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(id: &str, ver: &str) -> OsInfo {
        OsInfo { id: id.into(), version_id: ver.into(), ..Default::default() }
    }

    #[test]
    fn distro_keys() {
        assert_eq!(distro_key(&os("debian", "12")).as_deref(), Some("debian:12"));
        assert_eq!(distro_key(&os("debian", "11.7")).as_deref(), Some("debian:11"));
        let mut sid = os("debian", "");
        sid.codename = Some("bookworm".into());
        assert_eq!(distro_key(&sid).as_deref(), Some("debian:12"));
        assert_eq!(distro_key(&os("ubuntu", "22.04")).as_deref(), Some("ubuntu:22.04:lts"));
        assert_eq!(distro_key(&os("ubuntu", "23.04")).as_deref(), Some("ubuntu:23.04"));
        assert_eq!(distro_key(&os("ubuntu", "23.10")).as_deref(), Some("ubuntu:23.10"));
        assert_eq!(distro_key(&os("alpine", "3.19.1")).as_deref(), Some("alpine:v3.19"));
        assert_eq!(distro_key(&os("rocky", "9.3")).as_deref(), Some("rocky linux:9"));
        assert_eq!(distro_key(&os("gentoo", "2.14")), None);
        assert_eq!(distro_key(&os("alpine", "")), None);
    }

    #[test]
    fn ecosystem_and_name_keys() {
        assert_eq!(ecosystem_key("Debian:12").as_deref(), Some("debian:12"));
        assert_eq!(ecosystem_key("Maven:https://repo1.maven.org/maven2/").as_deref(), Some("maven"));
        assert_eq!(ecosystem_key("  "), None);
        assert_eq!(name_key("pypi", "Django_Rest.Framework"), "django-rest-framework");
        assert_eq!(name_key("npm", "Axios"), "axios");
        assert_eq!(name_key("go", "github.com/BurntSushi/toml"), "github.com/BurntSushi/toml");
        assert_eq!(scheme_for("alpine:v3.19"), Scheme::Apk);
        assert_eq!(scheme_for("ubuntu:22.04:lts"), Scheme::Dpkg);
        assert_eq!(scheme_for("hackage"), Scheme::Hackage);
        assert_eq!(scheme_for("cran"), Scheme::Cran);
        assert_eq!(scheme_for("conancenter"), Scheme::Conan);
        assert_eq!(scheme_for("julia"), Scheme::Semver);
        assert_eq!(scheme_for("swifturl"), Scheme::Semver);
        assert_eq!(scheme_for("unknown-eco"), Scheme::Generic);
    }

    /// Issue 13: the new language ecosystems match under their OSV names; CocoaPods has no OSV ecosystem.
    #[test]
    fn new_language_ecosystems() {
        let loc = palisade_core::Location::new("x", None);
        for (eco, name, key) in [
            (Ecosystem::Pub, "http", "pub"),
            (Ecosystem::Hex, "plug", "hex"),
            (Ecosystem::Swift, "github.com/apple/swift-nio", "swifturl"),
            (Ecosystem::Cran, "rlang", "cran"),
            (Ecosystem::Hackage, "aeson", "hackage"),
            (Ecosystem::Julia, "JSON", "julia"),
            (Ecosystem::Conan, "openssl", "conancenter"),
        ] {
            let p = Package::new(eco, name, "1.0.0", loc.clone(), "t");
            let k = match_key(None, &p).unwrap();
            assert_eq!((k.ecosystem.as_str(), k.name.as_str()), (key, name));
        }
        let pod = Package::new(Ecosystem::CocoaPods, "Alamofire", "5.8.1", loc, "t");
        assert_eq!(match_key(None, &pod), None);
    }

    #[test]
    fn os_packages_match_on_source() {
        let mut p = Package::new(
            Ecosystem::Deb,
            "libssl3",
            "3.0.11-1~deb12u2",
            palisade_core::Location::new("var/lib/dpkg/status", Some(0)),
            "dpkg",
        );
        assert_eq!(match_key(None, &p), None, "no OS, no match");
        assert_eq!(match_key(Some(&os("alpine", "3.19")), &p), None, "deb on alpine");
        p.source =
            Some(palisade_core::SourcePackage { name: "openssl".into(), version: "3.0.11-1~deb12u2".into() });
        let k = match_key(Some(&os("debian", "12")), &p).unwrap();
        assert_eq!((k.ecosystem.as_str(), k.name.as_str(), k.via_source), ("debian:12", "openssl", true));
    }
}
