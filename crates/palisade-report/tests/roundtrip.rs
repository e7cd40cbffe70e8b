//! Render a report as CycloneDX and SPDX with palisade-report, read it back with palisade-inventory's SBOM
//! reader, and get the same packages (vulnerabilities in the SBOM do not disturb that). Render it as JSON,
//! read it back with `palisade_report::json::read`, and get the same report.

mod common;
#[path = "common/findings.rs"]
mod fixtures;

use common::{fs_project_report, fs_report, image_projects_report, image_report, render};
use palisade_core::{Package, ScanReport, Scope};
use palisade_inventory::sbom::{self, SbomFormat};
use palisade_report::Format;
use std::collections::BTreeSet;

type Key = (String, String, String, String);

fn key(p: &Package) -> Key {
    (p.ecosystem.to_string(), p.name.clone(), p.version.clone(), p.purl.clone())
}

fn keys(ps: &[Package]) -> Vec<Key> {
    let mut v: Vec<Key> = ps.iter().map(key).collect();
    v.sort();
    v
}

fn read_back(r: &ScanReport, f: Format) -> sbom::SbomInput {
    let bytes = render(r, f);
    let detected = sbom::detect(&bytes).expect("format detected");
    assert_eq!(detected, if f == Format::CycloneDx { SbomFormat::CycloneDx } else { SbomFormat::Spdx });
    sbom::read(&bytes, "sbom.json").expect("reads back")
}

fn find<'a>(ps: &'a [Package], name: &str, path: &str) -> &'a Package {
    ps.iter()
        .find(|p| p.name == name && p.location().is_some_and(|l| l.path == path))
        .unwrap_or_else(|| panic!("no {name} at {path}"))
}

#[test]
fn same_packages_through_both_formats() {
    for r in [image_report(), fs_report()] {
        for f in [Format::CycloneDx, Format::SpdxJson] {
            let back = read_back(&r, f);
            assert_eq!(keys(&back.packages), keys(&r.packages), "{f} of {}", r.artifact.name);
            assert_eq!(back.os, r.os, "{f}");
            assert!(back.warnings.is_empty(), "{f}: {:?}", back.warnings);
        }
    }
}

#[test]
fn palisade_facts_round_trip() {
    let r = image_report();
    for f in [Format::CycloneDx, Format::SpdxJson] {
        let back = read_back(&r, f).packages;
        for orig in &r.packages {
            let path = &orig.locations[0].path;
            let p = find(&back, &orig.name, path);
            assert_eq!(p.locations, orig.locations, "{f} {}", orig.name);
            assert_eq!(p.found_by, orig.found_by, "{f} {}", orig.name);
            assert_eq!(p.source, orig.source, "{f} {}", orig.name);
            assert_eq!(p.arch, orig.arch, "{f} {}", orig.name);
            assert_eq!(p.direct, orig.direct, "{f} {}", orig.name);
            assert_eq!(p.scope, orig.scope, "{f} {}", orig.name);
            assert_eq!(p.metadata, orig.metadata, "{f} {}", orig.name);
            // Dependencies come back resolved: the ones pointing outside the report are dropped.
            let known: BTreeSet<&str> = r.packages.iter().map(|p| p.purl.as_str()).collect();
            let want: BTreeSet<&str> =
                orig.dependencies.iter().map(String::as_str).filter(|d| known.contains(d)).collect();
            let got: BTreeSet<&str> = p.dependencies.iter().map(String::as_str).collect();
            assert_eq!(got, want, "{f} {}", orig.name);
        }
        assert_eq!(find(&back, "@types/node", "app/package-lock.json").scope, Scope::Dev);
    }
}

#[test]
fn root_projects_round_trip_as_projects() {
    for r in [fs_project_report(), image_projects_report()] {
        for f in [Format::CycloneDx, Format::SpdxJson] {
            let back = read_back(&r, f);
            let what = format!("{f} of {}", r.artifact.name);
            assert_eq!(keys(&back.projects), keys(&r.projects), "{what}");
            assert_eq!(keys(&back.packages), keys(&r.packages), "{what}: projects are not packages");
            for orig in &r.projects {
                let p = back.projects.iter().find(|p| p.purl == orig.purl).unwrap();
                assert_eq!(p.locations, orig.locations, "{what}");
                assert_eq!(p.metadata, orig.metadata, "{what}");
                // Each listed dependency comes back (the subject also gains the packages nothing else
                // depends on).
                for d in &orig.dependencies {
                    assert!(p.dependencies.contains(d), "{what}: {d} missing from {:?}", p.dependencies);
                }
            }
        }
    }
}

#[test]
fn licences_round_trip() {
    let r = image_report();
    let cdx = read_back(&r, Format::CycloneDx).packages;
    let spdx = read_back(&r, Format::SpdxJson).packages;
    for (name, path, want) in [
        ("express", "app/package-lock.json", vec!["MIT"]),
        ("serde", "app/Cargo.lock", vec!["MIT OR Apache-2.0"]),
        (
            "org.apache.logging.log4j:log4j-core",
            "app/lib/log4j-core-2.14.1.jar",
            // Normalised on the way out: `Apache License, Version 2.0` is SPDX `Apache-2.0`.
            vec!["Apache-2.0"],
        ),
    ] {
        assert_eq!(find(&cdx, name, path).licenses, want, "CycloneDX {name}");
        assert_eq!(find(&spdx, name, path).licenses, want, "SPDX {name}");
    }
    // `BSD License` (a trove classifier) is normalised to BSD-3-Clause; with a LicenseRef beside it CycloneDX
    // writes one expression, SPDX splits it at the top-level AND.
    assert_eq!(
        find(&cdx, "Django", "app/requirements.txt").licenses,
        ["BSD-3-Clause AND LicenseRef-django-extra"]
    );
    assert_eq!(
        find(&spdx, "Django", "app/requirements.txt").licenses,
        ["BSD-3-Clause", "LicenseRef-django-extra"]
    );
    // CycloneDX carries several licences with an expression as one expression.
    assert_eq!(find(&cdx, "ring", "app/Cargo.lock").licenses, ["(MIT AND ISC) AND OpenSSL"]);
    // SPDX splits at the top-level AND.
    assert_eq!(find(&spdx, "ring", "app/Cargo.lock").licenses, ["MIT AND ISC", "OpenSSL"]);
}

/// [`image_report`] with findings of every kind on its packages.
fn image_report_with_findings() -> ScanReport {
    let mut r = image_report();
    let f = fixtures::findings_report();
    let mut v = f.vulnerabilities[0].clone();
    let express = r.packages.iter().find(|p| p.name == "express").unwrap();
    v.purl = express.purl.clone();
    v.package_name = express.name.clone();
    v.locations = express.locations.clone();
    let mut suppressed = v.clone();
    suppressed.id = "CVE-2099-2".into();
    suppressed.suppressed = Some("VEX https://example.com/vex: not_affected (component_not_present)".into());
    r.vulnerabilities = vec![v, suppressed];
    r.secrets = f.secrets;
    r.misconfigurations = f.misconfigurations;
    r
}

#[test]
fn vulnerabilities_in_the_sbom_leave_the_packages_alone() {
    let r = image_report_with_findings();
    for f in [Format::CycloneDx, Format::SpdxJson] {
        let back = read_back(&r, f);
        assert_eq!(keys(&back.packages), keys(&r.packages), "{f}");
        assert!(back.warnings.is_empty(), "{f}: {:?}", back.warnings);
        let express = find(&back.packages, "express", "app/package-lock.json");
        let orig = find(&r.packages, "express", "app/package-lock.json");
        assert_eq!(express.metadata, orig.metadata, "{f}: the review annotations are not package facts");
    }
}

#[test]
fn json_reports_read_back_equal() {
    let mut with_warnings = fixtures::findings_report();
    with_warnings.warnings = image_report().warnings;
    for r in [image_report_with_findings(), fs_report(), with_warnings, fixtures::hostile_report()] {
        let bytes = render(&r, Format::Json);
        let back = palisade_report::json::read(bytes.as_slice()).expect("reads back");
        assert_eq!(back, r, "{}", r.artifact.name);
        // Rendering what was read gives the same bytes in every format that has no random ids.
        for f in [Format::Json, Format::Sarif, Format::Junit, Format::Table] {
            assert_eq!(render(&back, f), render(&r, f), "{f}");
        }
    }
}

#[test]
fn reading_back_explains_what_is_wrong() {
    let r = image_report_with_findings();
    let json = render(&r, Format::Json);
    let read = |bytes: &[u8]| palisade_report::json::read(bytes).unwrap_err().to_string();

    let e = read(&json[..json.len() / 2]);
    assert!(e.contains("truncated?"), "{e}");
    let e = read(&render(&r, Format::CycloneDx));
    assert!(e.contains("not a Palisade JSON report: this is a CycloneDX 1.6 SBOM"), "{e}");
    let e = read(&render(&r, Format::SpdxJson));
    assert!(e.contains("an SPDX document (SPDX-2.3)"), "{e}");
    let e = read(&render(&r, Format::Sarif));
    assert!(e.contains("a SARIF log"), "{e}");
    let e = read(b"<?xml version=\"1.0\"?><testsuites/>");
    assert!(e.starts_with("not valid JSON"), "{e}");
    let e = read(&common::inventory_fixture("trivy-rootfs.cdx.json"));
    assert!(e.contains("CycloneDX"), "{e}");

    let mut future: serde_json::Value = serde_json::from_slice(&json).unwrap();
    future["schema_version"] = serde_json::json!(palisade_core::report::REPORT_SCHEMA_VERSION + 1);
    let e = read(future.to_string().as_bytes());
    assert!(e.contains("written by a newer Palisade"), "{e}");
}
