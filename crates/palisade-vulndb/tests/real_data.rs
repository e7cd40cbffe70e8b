//! Imports every advisory set of the shared third-party corpus (`/work/shared/data/advisories`) into one
//! database and matches real packages against it. Skips with a message when the corpus is absent.

use palisade_core::findings::vuln::{Severity, VulnFinding, VulnStatus};
use palisade_core::{Ecosystem, Location, OsInfo, Package, SourcePackage};
use palisade_vulndb::{BuildOptions, Db, build, match_packages};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

fn advisories_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/advisories");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("SKIP: {} not present; real-advisory tests skipped", d.display());
        None
    }
}

struct Built {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

/// Build once per test binary.
fn db() -> Option<Db> {
    static BUILT: OnceLock<Option<Built>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let adv = advisories_dir()?;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("palisade.db");
        let sources = vec![
            adv.join("osv-go.tar.gz"),
            adv.join("osv-rustsec.tar.gz"),
            adv.join("osv-pypa.tar.gz"),
            adv.join("osv-ghsa-subset.tar.gz"),
            adv.join("alpine-secdb.tar.gz"),
            adv.join("debian/osv-debian.tar.gz"),
            adv.join("debian/debian12-security-derived.tar.gz"),
        ];
        let t = Instant::now();
        let stats =
            build(&BuildOptions { sources, output: path.clone(), progress: None, ..Default::default() })
                .expect("build");
        eprintln!(
            "built {} advisories, {} affected rows, {} aliases in {:?}; {} warnings",
            stats.advisories,
            stats.affected,
            stats.aliases,
            t.elapsed(),
            stats.warning_count
        );
        for (feed, s) in &stats.feeds {
            eprintln!("  {feed}: {s:?}");
        }
        for w in stats.warnings.iter().take(10) {
            eprintln!("  warning: {w}");
        }
        assert_eq!(stats.warning_count, 0, "every corpus document must import: {:?}", stats.warnings);
        // Counts from the corpus README; withdrawn advisories are dropped.
        for (feed, documents) in [
            ("osv-go", 4291),
            ("osv-rustsec", 1206),
            ("osv-pypa", 2661),
            ("osv-ghsa-subset", 47),
            ("osv-debian", 5381 + 3530),
            ("debian12-security-derived", 56),
            ("alpine-secdb", 18),
        ] {
            let s = &stats.feeds[feed];
            assert_eq!(s.documents, documents, "{feed}");
            if feed != "alpine-secdb" {
                assert_eq!(s.advisories + s.withdrawn, documents, "{feed}");
            }
        }
        assert!(stats.feeds["osv-go"].withdrawn > 0);
        Some(Built { _dir: dir, path })
    });
    let b = built.as_ref()?;
    let t = Instant::now();
    let db = Db::open(&b.path).expect("open");
    eprintln!("open took {:?}", t.elapsed());
    Some(db)
}

fn pkg(eco: Ecosystem, name: &str, version: &str) -> Package {
    Package::new(eco, name, version, Location::new("app/lockfile", Some(3)), "test")
}

fn ids(f: &[VulnFinding]) -> Vec<String> {
    f.iter().flat_map(|f| std::iter::once(f.id.clone()).chain(f.aliases.iter().cloned())).collect()
}

#[test]
fn info_reports_contents() {
    let Some(db) = db() else { return };
    let info = db.info().unwrap();
    assert!(info.advisories > 19_000, "{info:?}");
    assert!(info.ecosystems.contains_key("debian:11"));
    assert!(info.ecosystems.contains_key("alpine:v3.11"));
    assert!(info.ecosystems.contains_key("pypi"));
    assert!(info.age.is_some_and(|a| a.as_secs() < 3600));
    assert!(info.stale_warning(palisade_vulndb::DEFAULT_MAX_AGE).is_none());
    let mut old = info.clone();
    old.age = Some(std::time::Duration::from_secs(8 * 86_400));
    let w = old.stale_warning(palisade_vulndb::DEFAULT_MAX_AGE).expect("8 days is stale");
    assert!(w.contains("8 days old"), "{w}");
    old.age = None;
    assert!(old.is_stale(palisade_vulndb::DEFAULT_MAX_AGE));
    // Aliases are linked: the CVE finds the advisories of every feed that names it.
    let log4shell = db.advisories_by_id("CVE-2021-44228").unwrap();
    assert!(log4shell.iter().any(|a| a.id == "GHSA-jfh8-c2jp-5v3q"), "{log4shell:?}");
}

#[test]
fn django_pypi() {
    let Some(db) = db() else { return };
    let f = match_packages(&db, None, &[pkg(Ecosystem::PyPI, "Django", "2.2.0")]).unwrap();
    assert!(f.len() > 20, "django 2.2.0 has many advisories, got {}", f.len());
    let all = ids(&f);
    assert!(all.iter().any(|i| i.starts_with("PYSEC-")), "{all:?}");
    let sqli = f.iter().find(|x| x.aliases.iter().any(|a| a == "PYSEC-2021-9") || x.id == "PYSEC-2021-9");
    if let Some(x) = sqli {
        assert!(x.matched_by.iter().any(|m| m.contains("PYSEC-2021-9")), "{x:?}");
    }
    for x in &f {
        assert!(!x.matched_by.is_empty());
        assert_eq!(x.locations[0].path, "app/lockfile");
        assert!(x.advisory_sources.iter().any(|s| s.feed == "osv-pypa"));
        if x.status == VulnStatus::Fixed {
            assert!(x.fixed_version.is_some());
        }
    }
    // CVE is the canonical id when one is known.
    assert!(f.iter().filter(|x| x.id.starts_with("CVE-")).count() > 10);
    // A version after every fix matches nothing from old advisories like PYSEC-2007-1.
    let new = match_packages(&db, None, &[pkg(Ecosystem::PyPI, "django", "4.2.16")]).unwrap();
    assert!(!ids(&new).iter().any(|i| i == "PYSEC-2007-1"));
}

#[test]
fn lodash_npm() {
    let Some(db) = db() else { return };
    let f = match_packages(&db, None, &[pkg(Ecosystem::Npm, "lodash", "4.17.15")]).unwrap();
    let all = ids(&f);
    for ghsa in ["GHSA-p6mc-m468-83gw", "GHSA-35jh-r3h4-6jhm", "GHSA-29mw-wpgm-hmr9"] {
        assert!(all.iter().any(|i| i == ghsa), "{ghsa} missing from {all:?}");
    }
    let fixed = match_packages(&db, None, &[pkg(Ecosystem::Npm, "lodash", "4.17.21")]).unwrap();
    assert!(fixed.is_empty(), "{:?}", ids(&fixed));
}

#[test]
fn time_crate() {
    let Some(db) = db() else { return };
    let f = match_packages(&db, None, &[pkg(Ecosystem::Cargo, "time", "0.1.43")]).unwrap();
    let x =
        f.iter().find(|x| x.aliases.contains(&"RUSTSEC-2020-0071".to_string())).expect("RUSTSEC-2020-0071");
    assert_eq!(x.id, "CVE-2020-26235");
    assert!(x.aliases.contains(&"GHSA-wcg3-cvx6-7396".to_string()));
    assert_eq!(x.fixed_version.as_deref(), Some("0.2.0"));
    assert_eq!(x.severity, Severity::Medium, "CVSS 6.2");
    assert!(x.cvss.iter().any(|c| c.score == 6.2));
    let ok = match_packages(&db, None, &[pkg(Ecosystem::Cargo, "time", "0.2.23")]).unwrap();
    assert!(!ids(&ok).contains(&"RUSTSEC-2020-0071".to_string()));
}

#[test]
fn log4shell_maven() {
    let Some(db) = db() else { return };
    let f =
        match_packages(&db, None, &[pkg(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core", "2.14.1")])
            .unwrap();
    let x = f.iter().find(|x| x.id == "CVE-2021-44228").expect("Log4Shell");
    assert!(x.aliases.contains(&"GHSA-jfh8-c2jp-5v3q".to_string()));
    assert_eq!(x.severity, Severity::Critical);
    assert_eq!(x.status, VulnStatus::Fixed);
    assert!(x.matched_by[0].contains("GHSA-jfh8-c2jp-5v3q"), "{:?}", x.matched_by);
    assert_eq!(x.fixed_version.as_deref(), Some("2.15.0"));
    let ok =
        match_packages(&db, None, &[pkg(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core", "2.17.1")])
            .unwrap();
    assert!(ok.iter().all(|x| x.id != "CVE-2021-44228"));
}

#[test]
fn go_stdlib_and_module() {
    let Some(db) = db() else { return };
    let f = match_packages(
        &db,
        None,
        &[
            pkg(Ecosystem::Golang, "stdlib", "go1.20.1"),
            pkg(Ecosystem::Golang, "golang.org/x/net", "v0.0.0-20200202094626-16171245cfb2"),
        ],
    )
    .unwrap();
    assert!(f.iter().any(|x| x.package_name == "stdlib"));
    assert!(f.iter().any(|x| x.package_name == "golang.org/x/net"));
    assert!(ids(&f).iter().any(|i| i.starts_with("GO-")));
}

fn deb(name: &str, version: &str, src: &str, src_version: &str) -> Package {
    let mut p =
        Package::new(Ecosystem::Deb, name, version, Location::new("var/lib/dpkg/status", Some(0)), "dpkg");
    p.source = Some(SourcePackage { name: src.into(), version: src_version.into() });
    p
}

#[test]
fn debian_source_matching() {
    let Some(db) = db() else { return };
    let os = OsInfo { id: "debian".into(), version_id: "11".into(), ..Default::default() };
    let pkgs = [
        deb("libssl1.1", "1.1.1n-0+deb11u3", "openssl", "1.1.1n-0+deb11u3"),
        deb("openssl", "1.1.1n-0+deb11u3", "openssl", "1.1.1n-0+deb11u3"),
    ];
    let f = match_packages(&db, Some(&os), &pkgs).unwrap();
    for bin in ["libssl1.1", "openssl"] {
        let x = f
            .iter()
            .find(|x| x.package_name == bin && x.id == "CVE-2023-0286")
            .unwrap_or_else(|| panic!("{bin} lacks CVE-2023-0286"));
        assert!(x.aliases.contains(&"DSA-5343-1".to_string()));
        assert_eq!(x.fixed_version.as_deref(), Some("1.1.1n-0+deb11u4"));
        assert!(x.matched_by.iter().any(|m| m.contains("source package openssl")), "{:?}", x.matched_by);
        assert_eq!(x.locations[0].path, "var/lib/dpkg/status");
    }
    // Same packages on Debian 12 must not match Debian 11 advisories.
    let os12 = OsInfo { id: "debian".into(), version_id: "12".into(), ..Default::default() };
    let f12 = match_packages(&db, Some(&os12), &pkgs).unwrap();
    assert!(f12.iter().all(|x| !x.aliases.contains(&"DSA-5343-1".to_string())));
    // Without an OS nothing can be said about OS packages.
    assert!(match_packages(&db, None, &pkgs).unwrap().is_empty());
}

#[test]
fn alpine_secdb() {
    let Some(db) = db() else { return };
    let os = OsInfo { id: "alpine".into(), version_id: "3.11.6".into(), ..Default::default() };
    let mut p = Package::new(
        Ecosystem::Apk,
        "libcrypto1.1",
        "1.1.1d-r2",
        Location::new("lib/apk/db/installed", Some(0)),
        "apk",
    );
    p.source = Some(SourcePackage { name: "openssl".into(), version: "1.1.1d-r2".into() });
    let f = match_packages(&db, Some(&os), std::slice::from_ref(&p)).unwrap();
    let x = f.iter().find(|x| x.id == "CVE-2019-1551").expect("CVE-2019-1551");
    assert_eq!(x.fixed_version.as_deref(), Some("1.1.1d-r3"));
    assert!(x.advisory_sources.iter().any(|s| s.feed == "alpine-secdb"));
    assert!(f.iter().all(|x| x.id != "CVE-2019-1547"), "fixed in 1.1.1d-r1, installed is newer");
    p.source = Some(SourcePackage { name: "openssl".into(), version: "1.1.1g-r0".into() });
    assert!(match_packages(&db, Some(&os), &[p]).unwrap().iter().all(|x| x.id != "CVE-2019-1551"));
}

#[test]
fn thousand_packages_fast() {
    let Some(db) = db() else { return };
    let mut pkgs = Vec::new();
    for i in 0..250 {
        pkgs.push(pkg(Ecosystem::PyPI, &format!("nonexistent-{i}"), "1.0"));
        pkgs.push(pkg(Ecosystem::Npm, if i % 2 == 0 { "lodash" } else { "express" }, "4.17.15"));
        pkgs.push(pkg(Ecosystem::Golang, "golang.org/x/text", "v0.3.0"));
        pkgs.push(pkg(Ecosystem::Cargo, &format!("crate{i}"), "0.1.0"));
    }
    let _warm = match_packages(&db, None, &pkgs).unwrap();
    let t = Instant::now();
    let f = match_packages(&db, None, &pkgs).unwrap();
    let took = t.elapsed();
    eprintln!("matched {} packages in {took:?}: {} findings", pkgs.len(), f.len());
    assert!(!f.is_empty());
}
