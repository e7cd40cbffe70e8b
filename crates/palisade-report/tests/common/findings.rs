//! Scan reports with findings, shared by the unit tests of the findings renderers (included with `#[path]`)
//! and the integration tests: one ordinary report with every kind of finding (active and suppressed), and one
//! full of hostile strings (markup, control characters, quotes, non-ASCII, path tricks).

#![allow(dead_code)]

use palisade_core::findings::misconfig::{Misconfiguration, ResourceRef};
use palisade_core::findings::secret::{CommitInfo, SecretFinding};
use palisade_core::findings::vuln::{AdvisorySource, CvssScore, VulnFinding, VulnStatus};
use palisade_core::{ArtifactInfo, ArtifactKind, Ecosystem, LayerInfo, Location, ScanReport, Severity};

/// A credential the tests pretend was found. No finding type can hold it; the tests check that no output
/// ever contains it or a long part of it.
pub const RAW_SECRET: &str = "ghp_R4wS3cr3tV4lu3ThatMustNeverAppear0123";
/// The part of [`RAW_SECRET`] after the redacted preview.
pub const RAW_SECRET_TAIL: &str = "S3cr3tV4lu3ThatMustNeverAppear";

/// What the secret scanner keeps of [`RAW_SECRET`].
pub fn redact(secret: &str) -> String {
    let head: String = secret.chars().take(6).collect();
    format!("{head}*****")
}

pub fn vuln(
    id: &str,
    pkg: &str,
    eco: Ecosystem,
    path: &str,
    sev: Severity,
    fixed: Option<&str>,
) -> VulnFinding {
    VulnFinding {
        id: id.into(),
        aliases: vec![],
        package_name: pkg.into(),
        package_version: "1.0.0".into(),
        ecosystem: eco,
        purl: format!("pkg:{}/{pkg}@1.0.0", eco.purl_type()),
        locations: vec![Location::new(path, Some(1))],
        installed_version: "1.0.0".into(),
        fixed_version: fixed.map(str::to_string),
        fixed_versions: fixed.map(|f| vec![f.to_string()]).unwrap_or_default(),
        status: if fixed.is_some() { VulnStatus::Fixed } else { VulnStatus::Affected },
        severity: sev,
        severity_source: None,
        cvss: vec![],
        title: Some(format!("Problem in {pkg}")),
        description: None,
        references: vec![],
        matched_by: vec![format!("introduced 0, fixed {} in {id}", fixed.unwrap_or("-"))],
        advisory_sources: vec![AdvisorySource { feed: "osv".into(), id: id.into(), file: None }],
        published: None,
        modified: None,
        exploit: None,
        suppressed: None,
    }
}

pub fn secret(rule: &str, path: &str, line: u32, sev: &str) -> SecretFinding {
    SecretFinding {
        rule_id: rule.into(),
        title: "GitHub personal access token".into(),
        severity: sev.parse().expect("severity name"),
        path: path.into(),
        line,
        column: 7,
        layer: Some(1),
        deleted_in_layer: Some(2),
        commit: None,
        redacted: redact(RAW_SECRET),
        fingerprint: "5f2c".repeat(16),
        suppressed: None,
    }
}

pub fn misconfig(check: &str, file: &str, line: u32, sev: &str) -> Misconfiguration {
    Misconfiguration {
        check_id: check.into(),
        title: "Container runs as root".into(),
        severity: palisade_core::findings::misconfig::Severity::parse(sev).expect("severity name"),
        file: file.into(),
        line,
        column: 5,
        resource: Some(ResourceRef {
            kind: "Deployment".into(),
            namespace: Some("prod".into()),
            name: "web".into(),
        }),
        container: Some("app".into()),
        message: "securityContext.runAsNonRoot is not true".into(),
        remediation: "Set securityContext.runAsNonRoot: true".into(),
        references: vec![
            "checkov:CKV_K8S_23".into(),
            "https://kubernetes.io/docs/concepts/security/pod-security-standards/".into(),
        ],
        layer: None,
        suppressed: None,
    }
}

/// An image report with two vulnerabilities of one CVE in two packages, a suppressed vulnerability, two
/// secrets (one suppressed) and two misconfigurations (one suppressed, one without file position).
pub fn findings_report() -> ScanReport {
    let mut a = ArtifactInfo::new(ArtifactKind::Image, "registry.example/team/app:1.2");
    a.layers = (0..3)
        .map(|i| LayerInfo {
            index: i,
            digest: None,
            diff_id: Some(format!("sha256:{i}")),
            created_by: None,
            size: None,
        })
        .collect();
    let mut r = ScanReport::new(a, "2026-05-06T07:08:09Z");

    let mut log4j = vuln(
        "CVE-2021-44228",
        "org.apache.logging.log4j:log4j-core",
        Ecosystem::Maven,
        "app/lib/log4j-core-2.14.1.jar",
        Severity::Critical,
        Some("2.15.0"),
    );
    log4j.cvss = vec![CvssScore {
        version: "3.1".into(),
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into(),
        score: 10.0,
        source: None,
    }];
    log4j.references = vec!["not a url".into(), "https://logging.apache.org/log4j/2.x/security.html".into()];
    log4j.aliases = vec!["GHSA-jfh8-c2jp-5v3q".into()];
    let mut log4j_api = log4j.clone();
    log4j_api.package_name = "org.apache.logging.log4j:log4j-api".into();
    log4j_api.purl = "pkg:maven/org.apache.logging.log4j/log4j-api@1.0.0".into();
    log4j_api.locations = vec![Location::new("app/lib/log4j-api-2.14.1.jar", Some(1))];
    log4j_api.severity = Severity::High;
    log4j_api.cvss = vec![];

    let mut openssl =
        vuln("CVE-2023-0464", "libssl3", Ecosystem::Deb, "var/lib/dpkg/status", Severity::Low, None);
    openssl.installed_version = "3.0.11-1~deb12u2".into();
    openssl.package_version = "3.0.11-1~deb12u2".into();
    // NVD says 7.5, Debian says low: the SARIF score must follow the reported severity.
    openssl.cvss =
        vec![CvssScore { version: "3.1".into(), vector: "CVSS:3.1/x".into(), score: 7.5, source: None }];
    let mut zlib = vuln(
        "CVE-2022-37434",
        "zlib1g",
        Ecosystem::Deb,
        "var/lib/dpkg/status",
        Severity::Medium,
        Some("1:1.2.13"),
    );
    zlib.suppressed = Some("not reachable: inflateGetHeader unused (VEX)".into());
    r.vulnerabilities = vec![log4j, log4j_api, zlib, openssl];

    let mut s2 = secret("github-pat", "home/dev/.git-credentials", 3, "critical");
    s2.suppressed = Some("test fixture credential".into());
    s2.fingerprint = "7a1b".repeat(16);
    s2.layer = Some(2);
    s2.deleted_in_layer = None;
    s2.commit = Some(CommitInfo {
        id: "0123456789abcdef0123456789abcdef01234567".into(),
        author: "Dev <dev@example.com>".into(),
        date: "2026-01-01T00:00:00Z".into(),
    });
    r.secrets = vec![secret("github-pat", "app/config/settings.env", 12, "critical"), s2];

    let mut m2 = misconfig("PAL-IMG-001", "", 0, "medium");
    m2.title = "Image runs as root".into();
    m2.message = "config.User is empty".into();
    m2.resource = Some(ResourceRef { kind: "ImageConfig".into(), namespace: None, name: String::new() });
    m2.container = None;
    m2.references = vec![];
    let mut m3 = misconfig("PAL-K8S-014", "deploy/web.yaml", 30, "high");
    m3.suppressed = Some("accepted risk, ticket SEC-12".into());
    r.misconfigurations = vec![misconfig("PAL-K8S-014", "deploy/web.yaml", 21, "high"), m2, m3];
    r
}

/// Strings meant to break out of XML, JSON, terminals and URIs.
pub const HOSTILE: &str = "evil\"'<tag attr='x'>&amp;]]></failure>\x1b[31m\x07\0\r\n\u{FFFE}é💥 %20#?";

/// A fs report whose every free-text field is [`HOSTILE`].
pub fn hostile_report() -> ScanReport {
    let mut r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, HOSTILE), HOSTILE);
    let mut v = vuln(
        HOSTILE,
        HOSTILE,
        Ecosystem::Npm,
        &format!("/{HOSTILE}/package-lock.json"),
        Severity::High,
        Some(HOSTILE),
    );
    v.title = Some(HOSTILE.into());
    v.description = Some(HOSTILE.into());
    v.references = vec![HOSTILE.into(), format!("https://example.com/{HOSTILE}")];
    v.matched_by = vec![HOSTILE.into()];
    v.suppressed = None;
    let mut v2 = v.clone();
    v2.suppressed = Some(HOSTILE.into());
    v2.locations = vec![];
    r.vulnerabilities = vec![v, v2];
    let mut s = secret(HOSTILE, HOSTILE, 0, "high");
    s.title = HOSTILE.into();
    s.fingerprint = String::new();
    let mut s2 = s.clone();
    s2.suppressed = Some(HOSTILE.into());
    r.secrets = vec![s, s2];
    let mut m = misconfig(HOSTILE, HOSTILE, 1, "low");
    m.title = HOSTILE.into();
    m.message = HOSTILE.into();
    m.remediation = HOSTILE.into();
    m.container = Some(HOSTILE.into());
    m.resource =
        Some(ResourceRef { kind: HOSTILE.into(), namespace: Some(HOSTILE.into()), name: HOSTILE.into() });
    m.references = vec![HOSTILE.into()];
    r.misconfigurations = vec![m];
    r
}
