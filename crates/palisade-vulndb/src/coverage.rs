//! What a database cannot answer for an inventory: ecosystems of the scanned packages for which it holds no
//! advisories, and OS packages of a release no feed covers. Matching those packages finds nothing, which
//! must not read as "no vulnerabilities": each becomes a [`Gap`] in the report, and the gate fails on gaps
//! unless told to accept them.

use crate::db::DbInfo;
use crate::ecosystem::{distro_key, match_key};
use palisade_core::{Gap, OsInfo, Package};
use std::collections::BTreeMap;

/// Gap kinds (the `kind` of a [`Gap`]).
pub mod kind {
    /// No database file.
    pub const DB_MISSING: &str = "db-missing";
    /// The file could not be opened or read as a Palisade database.
    pub const DB_UNREADABLE: &str = "db-unreadable";
    /// The database holds no advisories at all.
    pub const DB_EMPTY: &str = "db-empty";
    /// The database holds no advisories for an ecosystem the target has packages of.
    pub const ECOSYSTEM: &str = "ecosystem-not-covered";
    /// OS packages of a release Palisade has no advisory feed for (or of an unknown release).
    pub const OS: &str = "os-not-supported";
}

/// A gap for the whole scanner (the DB is missing, unreadable or empty): every package is unchecked.
pub fn whole_db_gap(kind: &str, packages: usize, message: impl Into<String>) -> Gap {
    Gap { scanner: "vuln".into(), kind: kind.into(), ecosystem: None, packages, message: message.into() }
}

/// The ecosystems of `packages` the database described by `info` has no advisories for, one gap each, and
/// one gap for OS packages whose release no feed covers. Empty when everything can be matched.
pub fn coverage_gaps(info: &DbInfo, os: Option<&OsInfo>, packages: &[Package]) -> Vec<Gap> {
    if info.advisories == 0 {
        return vec![whole_db_gap(
            kind::DB_EMPTY,
            packages.len(),
            format!(
                "the vulnerability database {} holds no advisories: nothing was checked; rebuild it with \
                 `palisade db update` or `palisade db build --from ...`",
                info.path.display()
            ),
        )];
    }
    let mut uncovered: BTreeMap<String, usize> = BTreeMap::new();
    let mut unsupported_os = 0usize;
    for p in packages {
        match match_key(os, p) {
            Some(k) if info.ecosystems.get(&k.ecosystem).copied().unwrap_or(0) == 0 => {
                *uncovered.entry(k.ecosystem).or_default() += 1;
            }
            Some(_) => {}
            // An OS package that cannot be keyed: no os-release, or a release without a feed.
            None if p.ecosystem.is_os() => unsupported_os += 1,
            // A language package without a name or version cannot be matched by anyone.
            None => {}
        }
    }
    let mut gaps: Vec<Gap> = uncovered
        .into_iter()
        .map(|(eco, n)| Gap {
            scanner: "vuln".into(),
            kind: kind::ECOSYSTEM.into(),
            ecosystem: Some(eco.clone()),
            packages: n,
            message: format!(
                "{n} {eco} package{} not checked: the vulnerability database {} has no {eco} advisories \
                 (import a feed for it with `palisade db build --from ...` or `palisade db update`)",
                if n == 1 { "" } else { "s" },
                info.path.display()
            ),
        })
        .collect();
    if unsupported_os > 0 {
        let what = match os {
            None => "no os-release was found, so the distribution release is unknown".to_string(),
            Some(o) if distro_key(o).is_none() => {
                format!("Palisade has no advisory feed for {} {}", o.id, o.version_id).trim_end().to_string()
            }
            Some(o) => format!("their package type does not match the OS {} {}", o.id, o.version_id),
        };
        gaps.push(Gap {
            scanner: "vuln".into(),
            kind: kind::OS.into(),
            ecosystem: os.and_then(distro_key),
            packages: unsupported_os,
            message: format!("{unsupported_os} OS packages not checked: {what}"),
        });
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Ecosystem, Location, SourcePackage};
    use std::path::PathBuf;

    fn info(ecos: &[(&str, u64)]) -> DbInfo {
        DbInfo {
            path: PathBuf::from("/db/palisade.db"),
            schema_version: crate::SCHEMA_VERSION,
            built_at: String::new(),
            age: None,
            builder: String::new(),
            sources: vec![],
            feeds: Default::default(),
            advisories: ecos.iter().map(|(_, n)| n).sum(),
            affected: 0,
            ecosystems: ecos.iter().map(|(e, n)| (e.to_string(), *n)).collect(),
            exploits: 0,
        }
    }

    fn pkg(eco: Ecosystem, name: &str) -> Package {
        let mut p = Package::new(eco, name, "1.0-1", Location::new("x", None), "test");
        if eco.is_os() {
            p.source = Some(SourcePackage { name: name.into(), version: "1.0-1".into() });
        }
        p
    }

    fn os(id: &str, v: &str) -> OsInfo {
        OsInfo { id: id.into(), version_id: v.into(), ..Default::default() }
    }

    #[test]
    fn debian_11_image_against_a_pypi_only_db_is_a_gap_per_ecosystem() {
        let pkgs =
            [pkg(Ecosystem::Deb, "openssl"), pkg(Ecosystem::Deb, "zlib"), pkg(Ecosystem::PyPI, "django")];
        let gaps = coverage_gaps(&info(&[("pypi", 10)]), Some(&os("debian", "11")), &pkgs);
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].kind, kind::ECOSYSTEM);
        assert_eq!(gaps[0].ecosystem.as_deref(), Some("debian:11"));
        assert_eq!(gaps[0].packages, 2);
        assert!(gaps[0].message.contains("debian:11"), "{}", gaps[0].message);
        let full = coverage_gaps(&info(&[("pypi", 10), ("debian:11", 5)]), Some(&os("debian", "11")), &pkgs);
        assert!(full.is_empty(), "{full:?}");
    }

    #[test]
    fn empty_db_and_unknown_os_are_gaps() {
        let pkgs = [pkg(Ecosystem::Apk, "musl")];
        let empty = coverage_gaps(&info(&[]), Some(&os("alpine", "3.19")), &pkgs);
        assert_eq!(empty[0].kind, kind::DB_EMPTY);
        let gentoo = coverage_gaps(&info(&[("pypi", 1)]), Some(&os("gentoo", "2.14")), &pkgs);
        assert_eq!(gentoo.len(), 1);
        assert_eq!(gentoo[0].kind, kind::OS);
        assert!(gentoo[0].message.contains("gentoo 2.14"), "{}", gentoo[0].message);
        let no_os = coverage_gaps(&info(&[("pypi", 1)]), None, &pkgs);
        assert!(no_os[0].message.contains("no os-release"), "{}", no_os[0].message);
    }

    #[test]
    fn no_packages_no_gaps() {
        assert!(coverage_gaps(&info(&[("pypi", 1)]), None, &[]).is_empty());
    }
}
