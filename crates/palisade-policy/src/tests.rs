//! End-to-end tests of [`apply`] and [`gate`] over the fixtures in `tests/fixtures/`.

use super::*;
use palisade_core::findings::misconfig::Misconfiguration;
use palisade_core::findings::secret::SecretFinding;
use palisade_core::findings::vuln::VulnFinding;
use palisade_core::{ArtifactInfo, ArtifactKind};
use serde_json::json;
use time::macros::date;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

fn vuln(id: &str, aliases: &[&str], purl: &str, severity: &str, status: &str, path: &str) -> VulnFinding {
    let v = json!({
        "id": id, "aliases": aliases, "package_name": "p", "package_version": "1", "ecosystem": "npm",
        "purl": purl, "locations": [{"path": path}], "installed_version": "1", "status": status,
        "severity": severity, "matched_by": ["test"], "advisory_sources": [],
    });
    serde_json::from_value(v).unwrap_or_else(|e| panic!("vuln fixture: {e}"))
}

fn secret(rule: &str, path: &str, severity: &str, fingerprint: &str) -> SecretFinding {
    let v = json!({
        "rule_id": rule, "title": rule, "severity": severity, "path": path, "line": 1, "column": 1,
        "redacted": "AKIA*****", "fingerprint": fingerprint,
    });
    serde_json::from_value(v).unwrap_or_else(|e| panic!("secret fixture: {e}"))
}

fn misconfig(check: &str, file: &str, severity: &str) -> Misconfiguration {
    let v = json!({
        "check_id": check, "title": check, "severity": severity, "file": file, "line": 3, "column": 5,
        "message": "m", "remediation": "r",
    });
    serde_json::from_value(v).unwrap_or_else(|e| panic!("misconfig fixture: {e}"))
}

const FP: &str = "7f3c9a0d2b1e4f5a6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b";

fn report() -> ScanReport {
    let mut r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "."), "2026-11-22T00:00:00Z");
    r.vulnerabilities = vec![
        vuln(
            "CVE-2021-44228",
            &["GHSA-jfh8-c2jp-5v3q"],
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "critical",
            "fixed",
            "app/lib/log4j-core-2.14.1.jar",
        ),
        vuln("CVE-2021-23337", &[], "pkg:npm/lodash@4.17.20", "high", "fixed", "app/package-lock.json"),
        vuln("CVE-2021-23337", &[], "pkg:npm/lodash@4.17.15", "high", "fixed", "tools/package-lock.json"),
        vuln(
            "CVE-2023-4863",
            &[],
            "pkg:deb/debian/libwebp7@1.2.4-0.2?distro=debian-12",
            "critical",
            "affected",
            "var/lib/dpkg/status",
        ),
        vuln(
            "CVE-2022-0778",
            &[],
            "pkg:deb/debian/openssl@1.1.1k-1?distro=debian-11",
            "high",
            "fixed",
            "usr/lib/x86_64-linux-gnu/libssl.so.1.1",
        ),
        vuln(
            "CVE-2020-0001",
            &[],
            "pkg:deb/debian/zlib1g@1.2.11",
            "low",
            "will-not-fix",
            "var/lib/dpkg/status",
        ),
    ];
    r.secrets = vec![
        secret("aws-access-key-id", "tests/fixtures/creds.txt", "high", "aa"),
        secret("aws-access-key-id", "src/config.py", "high", "bb"),
        secret("private-key", "keys/id_rsa", "critical", FP),
        secret("generic-api-key", "src/app.js", "medium", "cc"),
    ];
    r.misconfigurations = vec![
        misconfig("PAL-K8S-014", "deploy/dev/app.yaml", "medium"),
        misconfig("PAL-K8S-014", "deploy/prod/app.yaml", "medium"),
        misconfig("PAL-DF-009", "Dockerfile", "low"),
    ];
    r
}

fn opts() -> PolicyOptions {
    PolicyOptions {
        severities: Vec::new(),
        ignore_unfixed: false,
        ignore_files: Vec::new(),
        vex: Vec::new(),
        today: date!(2026 - 11 - 22),
    }
}

/// `suppressed` of every finding, in report order: vulns, then secrets, then misconfigs.
fn states(r: &ScanReport) -> Vec<Option<String>> {
    r.vulnerabilities
        .iter()
        .map(|f| f.suppressed.clone())
        .chain(r.secrets.iter().map(|f| f.suppressed.clone()))
        .chain(r.misconfigurations.iter().map(|f| f.suppressed.clone()))
        .collect()
}

fn active_flags(r: &ScanReport) -> Vec<bool> {
    states(r).iter().map(Option::is_none).collect()
}

#[test]
fn no_policy_changes_nothing() {
    let mut r = report();
    let s = apply(&mut r, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s, PolicySummary::default());
    assert_eq!(r, report());
    assert_eq!(gate(&r, 1, None), 1);
}

#[test]
fn palisadeignore_suppresses_by_alias_purl_path_fingerprint_and_expiry() {
    let mut r = report();
    let mut o = opts();
    o.ignore_files = discover_ignore_files(&fixture("project"));
    assert_eq!(o.ignore_files, vec![fixture("project/.palisadeignore")]);
    let s = apply(&mut r, &o).unwrap_or_else(|e| panic!("{e}"));
    #[rustfmt::skip]
    let expect = [
        false, // log4j: GHSA alias + versionless purl scope
        false, // lodash 4.17.20: exact purl
        true,  // lodash 4.17.15: other version, out of scope
        true,  // libwebp: entry expired 2024-01-31
        false, // openssl: expires 2030
        true,  // zlib: no entry
        false, // aws key under tests/**
        true,  // aws key in src/
        false, // private key by fingerprint
        true,  // generic-api-key: no entry
        false, // PAL-K8S-014 in deploy/dev
        true,  // PAL-K8S-014 in deploy/prod
        true,  // PAL-DF-009
    ];
    assert_eq!(active_flags(&r), expect);
    assert_eq!(s.suppressed, 6);
    assert_eq!(s.filtered, 0);
    assert_eq!(s.expired_entries.len(), 1, "{:?}", s.expired_entries);
    assert!(s.expired_entries[0].contains("CVE-2023-4863") && s.expired_entries[0].contains("2024-01-31"));
    assert!(s.expired_entries[0].contains(".palisadeignore:12"), "{:?}", s.expired_entries);
    let reason = r.vulnerabilities[0].suppressed.clone().unwrap_or_default();
    assert!(reason.contains(".palisadeignore:4") && reason.contains("formatMsgNoLookups"), "{reason}");
    assert_eq!(gate(&r, 1, None), 1);
    assert_eq!(gate(&r, 3, Some(&[Severity::Critical][..])), 3, "libwebp is still active and critical");
}

#[test]
fn expiry_is_inclusive_of_the_last_day() {
    let mut o = opts();
    o.ignore_files = vec![fixture("project/.palisadeignore")];
    o.today = date!(2024 - 01 - 31);
    let mut r = report();
    let s = apply(&mut r, &o).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.expired_entries.is_empty(), "{:?}", s.expired_entries);
    assert!(r.vulnerabilities[3].suppressed.is_some(), "libwebp entry is still valid on its last day");
    o.today = date!(2031 - 01 - 01);
    let mut r = report();
    let s = apply(&mut r, &o).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.expired_entries.len(), 2, "{:?}", s.expired_entries);
    assert!(r.vulnerabilities[4].suppressed.is_none(), "openssl entry expired at the end of 2030");
}

#[test]
fn trivy_plain_file_applies_to_every_kind() {
    let mut r = report();
    let mut o = opts();
    o.ignore_files = vec![fixture("trivy/.trivyignore")];
    let s = apply(&mut r, &o).unwrap_or_else(|e| panic!("{e}"));
    #[rustfmt::skip]
    let expect = [true, false, false, true, true, true, true, true, true, false, false, false, true];
    assert_eq!(active_flags(&r), expect);
    assert_eq!(s.suppressed, 5);
    assert_eq!(s.expired_entries.len(), 1);
    assert!(s.expired_entries[0].starts_with(&format!("{}:3", fixture("trivy/.trivyignore").display())));
    let reason = r.vulnerabilities[1].suppressed.clone().unwrap_or_default();
    assert!(reason.ends_with(".trivyignore:2"), "{reason}");
}

#[test]
fn trivy_yaml_file_scopes_by_section_purl_and_path() {
    let mut r = report();
    let mut o = opts();
    o.ignore_files = vec![fixture("trivy/.trivyignore.yaml")];
    let s = apply(&mut r, &o).unwrap_or_else(|e| panic!("{e}"));
    #[rustfmt::skip]
    let expect = [
        false, // log4j by purl
        true, true, // lodash: only listed under `secrets`, which does not apply to vulns
        true,  // libwebp
        false, // openssl by path usr/lib/**
        true,
        false, true, true, true, // aws key in tests/ only
        false, true, true,       // PAL-K8S-014 in deploy/dev only
    ];
    assert_eq!(active_flags(&r), expect);
    assert_eq!(s.suppressed, 4);
    assert_eq!(
        r.vulnerabilities[0].suppressed.as_deref().map(|s| s.ends_with(": Mitigated by configuration")),
        Some(true)
    );
}

#[test]
fn discovery_finds_files_in_order() {
    assert_eq!(
        discover_ignore_files(&fixture("trivy")),
        vec![fixture("trivy/.trivyignore"), fixture("trivy/.trivyignore.yaml")]
    );
    assert!(discover_ignore_files(&fixture("vex")).is_empty());
    assert!(discover_ignore_files(&fixture("does-not-exist")).is_empty());
}

#[test]
fn severity_filter_removes_and_counts() {
    let mut r = report();
    let mut o = opts();
    o.severities = vec![Severity::Critical, Severity::High];
    let s = apply(&mut r, &o).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.vulnerabilities.len(), 5);
    assert_eq!(r.secrets.len(), 3);
    assert!(r.misconfigurations.is_empty());
    assert_eq!(s.filtered, 1 + 1 + 3);
    assert_eq!(s.suppressed, 0);
}

#[test]
fn ignore_unfixed_removes_vulns_without_fix() {
    let mut r = report();
    let mut o = opts();
    o.ignore_unfixed = true;
    let s = apply(&mut r, &o).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.filtered, 2);
    assert!(r.vulnerabilities.iter().all(|f| f.status == palisade_core::findings::vuln::VulnStatus::Fixed));
    assert_eq!(r.secrets.len(), 4);
}

#[test]
fn openvex_suppresses_by_product_subcomponent_alias_and_latest_statement() {
    let mut r = report();
    r.vulnerabilities.push(vuln(
        "CVE-2014-123456",
        &[],
        "pkg:apk/distro/libcurl@7.87.0-r0",
        "medium",
        "fixed",
        "lib/apk/db/installed",
    ));
    r.vulnerabilities.push(vuln(
        "CVE-2099-0001",
        &["GHSA-aaaa-bbbb-cccc"],
        "pkg:apk/distro/git@2.39.0-r1?arch=x86_64",
        "high",
        "fixed",
        "lib/apk/db/installed",
    ));
    r.vulnerabilities.push(vuln(
        "CVE-2014-123456",
        &[],
        "pkg:apk/distro/git@2.39.0-r1?arch=aarch64",
        "high",
        "fixed",
        "lib/apk/db/installed",
    ));
    let mut o = opts();
    o.vex = vec![fixture("vex/openvex.json")];
    let s = apply(&mut r, &o).unwrap_or_else(|e| panic!("{e}"));
    let active = active_flags(&r);
    #[rustfmt::skip]
    let expect_vulns = [
        true,  // log4j: no statement
        false, false, // lodash: fixed, subcomponent without version covers both versions
        true,  // libwebp: under_investigation
        true,  // openssl: newer `affected` statement overrides the older not_affected
        true,  // zlib: statement is for other CVEs
        false, // libcurl: subcomponent of the armv7 git product
        false, // git x86_64 via GHSA alias
        true,  // git aarch64: product purl qualifier arch=armv7/x86_64 does not cover it
    ];
    assert_eq!(&active[..9], &expect_vulns);
    assert_eq!(s.suppressed, 4);
    assert_eq!(
        r.vulnerabilities[6].suppressed.as_deref(),
        Some(
            "VEX https://openvex.dev/docs/example/vex-9fb3463de1b57: not_affected (vulnerable_code_not_present)"
        )
    );
    assert_eq!(
        r.vulnerabilities[1].suppressed.as_deref(),
        Some("VEX https://openvex.dev/docs/example/vex-9fb3463de1b57: fixed")
    );
    // The not_affected without justification and the unknown status are reported, not applied.
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    assert!(s.warnings.iter().any(|w| w.contains("without justification")));
    assert!(s.warnings.iter().any(|w| w.contains("\"maybe\"")));
}

#[test]
fn ignore_entries_win_over_vex_and_existing_reasons_are_kept() {
    let mut r = report();
    r.secrets[1].suppressed = Some("inline palisade:allow-secret".into());
    let mut o = opts();
    o.ignore_files = vec![fixture("project/.palisadeignore")];
    o.vex = vec![fixture("vex/openvex.json")];
    let s = apply(&mut r, &o).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.vulnerabilities[1].suppressed.as_deref().is_some_and(|x| x.contains(".palisadeignore")));
    assert!(r.vulnerabilities[2].suppressed.as_deref().is_some_and(|x| x.starts_with("VEX ")));
    assert_eq!(r.secrets[1].suppressed.as_deref(), Some("inline palisade:allow-secret"));
    assert_eq!(s.suppressed, 7);
}

#[test]
fn malformed_inputs_are_errors_naming_file_and_line_and_leave_report_alone() {
    let cases = [
        (vec![fixture("bad/.palisadeignore")], vec![], ":4:", "reason"),
        (vec![fixture("bad/malformed.palisadeignore")], vec![], "malformed.palisadeignore:", "invalid YAML"),
        (vec![], vec![fixture("vex/malformed.json")], "malformed.json:4:", "OpenVEX"),
        (vec![], vec![fixture("vex/wrong-shape.json")], "wrong-shape.json:", "OpenVEX"),
        (vec![fixture("nope/.trivyignore")], vec![], "nope/.trivyignore", "cannot read"),
    ];
    for (ignore_files, vex, place, needle) in cases {
        let mut r = report();
        let mut o = opts();
        o.ignore_files = ignore_files;
        o.vex = vex;
        // Any valid ignore file next to a broken one must not have been applied either.
        o.ignore_files.insert(0, fixture("project/.palisadeignore"));
        let msg = apply(&mut r, &o).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains(place) && msg.contains(needle), "{place} -> {msg}");
        assert_eq!(r, report());
    }
    let msg = apply(
        &mut report(),
        &PolicyOptions { ignore_files: vec![fixture("bad/malformed.palisadeignore")], ..opts() },
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    let line: usize = msg.split(':').nth(1).and_then(|l| l.parse().ok()).unwrap_or(0);
    assert!(line >= 3, "malformed YAML must name a real line: {msg}");
}

#[test]
fn gate_counts_only_active_findings_in_threshold() {
    let mut r = report();
    assert_eq!(gate(&r, 0, None), 0, "exit code 0 never fails");
    assert_eq!(gate(&r, 2, Some(&[])), 2, "empty threshold counts everything");
    for f in &mut r.vulnerabilities {
        f.suppressed = Some("x".into());
    }
    for f in &mut r.secrets {
        f.suppressed = Some("x".into());
    }
    assert_eq!(gate(&r, 1, None), 1, "misconfigurations still active");
    assert_eq!(gate(&r, 1, Some(&[Severity::Critical, Severity::High][..])), 0, "only medium/low remain");
    assert_eq!(gate(&r, 1, Some(&[Severity::Low][..])), 1);
    for f in &mut r.misconfigurations {
        f.suppressed = Some("x".into());
    }
    assert_eq!(gate(&r, 1, None), 0);
    assert_eq!(gate(&ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "."), ""), 1, None), 0);
}
