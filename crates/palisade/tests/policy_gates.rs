//! `--policy BUNDLE` on the real binary: the bundle's gates run on the finished report, their decisions are in
//! every format, `deny` decisions and policy files that do not load fail the gate, waivers audit, expired
//! waivers warn, and `convert --policy` re-gates a saved report.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn palisade(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).current_dir(cwd).output().unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy/gates")
}

/// A project with a vulnerable npm package (demo-lib 2.3.0, HIGH in the vulndb test feed) and a privileged
/// Pod, and a DB built from that feed.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("project");
    std::fs::create_dir_all(p.join("k8s")).unwrap();
    std::fs::write(
        p.join("package-lock.json"),
        r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"packages":{
            "":{"name":"app","version":"1.0.0","dependencies":{"demo-lib":"2.3.0"}},
            "node_modules/demo-lib":{"version":"2.3.0"}}}"#,
    )
    .unwrap();
    std::fs::write(
        p.join("k8s/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: web\n      \
         image: nginx:1.25\n      securityContext: {privileged: true}\n",
    )
    .unwrap();
    let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-vulndb/tests/fixtures/feed/osv");
    let db = dir.path().join("vuln.db");
    let out = palisade(
        &["db", "build", "--db", db.to_str().unwrap(), "--from", feed.to_str().unwrap()],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

fn scan(dir: &Path, bundle: &Path, format: &str) -> (Output, String) {
    let out_file = dir.join(format!("out.{format}"));
    let out = palisade(
        &[
            "scan",
            "fs",
            "project",
            "--db",
            "vuln.db",
            "--scanners",
            "vuln,misconfig",
            "--policy",
            bundle.to_str().unwrap(),
            "--format",
            format,
            "--output",
            out_file.to_str().unwrap(),
        ],
        dir,
    );
    let text = std::fs::read_to_string(&out_file).unwrap_or_default();
    (out, text)
}

fn decisions(json: &str) -> Vec<(String, String, String)> {
    let v: Value = serde_json::from_str(json).unwrap();
    v["policy"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["policy"].as_str().unwrap().into(),
                d["rule"].as_str().unwrap().into(),
                d["action"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn deny_fails_warn_reports_and_every_format_carries_decisions() {
    let dir = project();
    let (out, json) = scan(dir.path(), &fixtures(), "json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // No --exit-code: asking for a policy is asking for a gate, so a deny exits 1.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["policy"]["bundle"], "ci-gates");
    assert_eq!(v["policy"]["version"], "1.0.0");
    let d = decisions(&json);
    assert!(
        d.contains(&("no-high-vulnerabilities".into(), "vulnerabilities".into(), "deny".into())),
        "{d:?}"
    );
    assert!(
        d.iter().any(|(p, r, a)| p == "pod-security-baseline" && r == "misconfigurations" && a == "warn"),
        "{d:?}"
    );
    // Published in 2099: never 30 days old.
    assert!(!d.iter().any(|(p, ..)| p == "old-vulnerabilities"), "{d:?}");
    let msg = v["policy"]["decisions"][0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("see https://wiki.example/security-gates: ") && msg.contains(" in demo-lib 2.3.0"),
        "{msg}"
    );
    assert!(
        v["policy"]["decisions"][0]["source"]["path"]
            .as_str()
            .unwrap()
            .ends_with("gates/vulnerabilities.yaml")
    );

    let (out, table) = scan(dir.path(), &fixtures(), "table");
    assert_eq!(out.status.code(), Some(1));
    assert!(table.contains("Policy ci-gates 1.0.0:"), "{table}");
    assert!(table.contains("no-high-vulnerabilities"), "{table}");
    let (_, sarif) = scan(dir.path(), &fixtures(), "sarif");
    assert!(sarif.contains("policy/no-high-vulnerabilities/vulnerabilities"), "{sarif}");
    let (_, junit) = scan(dir.path(), &fixtures(), "junit");
    assert!(junit.contains("<testsuite name=\"policy\""), "{junit}");
}

/// A copy of the fixture bundle with a waiver for demo-lib added to the deny gate.
fn waived_bundle(dir: &Path, expires: &str) -> PathBuf {
    let b = dir.join(format!("bundle-{expires}"));
    std::fs::create_dir_all(b.join("gates")).unwrap();
    std::fs::copy(fixtures().join("palisade-policy.yaml"), b.join("palisade-policy.yaml")).unwrap();
    std::fs::copy(fixtures().join("gates/workloads.yaml"), b.join("gates/workloads.yaml")).unwrap();
    std::fs::write(
        b.join("gates/vulnerabilities.yaml"),
        format!(
            "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {{name: no-high-vulnerabilities}}\nspec:\n  \
             vulnerabilities: {{severities: [CRITICAL, HIGH]}}\n  waivers:\n    - {{package: demo-lib, owner: web-team, \
             reason: not reachable from user input, expires: {expires}}}\n"
        ),
    )
    .unwrap();
    b
}

#[test]
fn live_waiver_passes_with_an_audit_and_an_expired_one_fails_and_warns() {
    let dir = project();
    let (out, json) = scan(dir.path(), &waived_bundle(dir.path(), "2999-12-31"), "json");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let d = decisions(&json);
    assert!(d.contains(&("no-high-vulnerabilities".into(), "waived".into(), "audit".into())), "{d:?}");

    let (out, json) = scan(dir.path(), &waived_bundle(dir.path(), "2020-01-01"), "json");
    assert_eq!(out.status.code(), Some(1));
    let d = decisions(&json);
    assert!(
        d.contains(&("no-high-vulnerabilities".into(), "vulnerabilities".into(), "deny".into())),
        "{d:?}"
    );
    assert!(d.contains(&("no-high-vulnerabilities".into(), "waiver-expired".into(), "warn".into())), "{d:?}");
}

#[test]
fn broken_policy_file_fails_the_gate_but_the_rest_runs_and_a_missing_bundle_is_an_error() {
    let dir = project();
    let b = waived_bundle(dir.path(), "2999-12-31");
    std::fs::write(
        b.join("gates/broken.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: typo}\nspec:\n  vulnerabilities: {severity: [HIGH]}\n",
    )
    .unwrap();
    let (out, json) = scan(dir.path(), &b, "json");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_str(&json).unwrap();
    let errors = v["policy"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = errors[0].as_str().unwrap();
    assert!(e.contains("broken.yaml:5:21") && e.contains("unknown field `severity`"), "{e}");
    // The other gates still ran.
    assert!(decisions(&json).iter().any(|(p, ..)| p == "pod-security-baseline"));

    let (out, _) = scan(dir.path(), &dir.path().join("no-such-bundle"), "json");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no-such-bundle") && stderr.contains("cannot read the policy bundle"),
        "{stderr}"
    );
}

#[test]
fn convert_regates_a_saved_report() {
    let dir = project();
    let out = palisade(
        &["scan", "fs", "project", "--db", "vuln.db", "--format", "json", "--output", "plain.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = palisade(
        &[
            "convert",
            "plain.json",
            "--policy",
            fixtures().to_str().unwrap(),
            "--format",
            "json",
            "--output",
            "gated.json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let d = decisions(&std::fs::read_to_string(dir.path().join("gated.json")).unwrap());
    assert!(d.iter().any(|(p, ..)| p == "no-high-vulnerabilities"), "{d:?}");
}

/// Exploit data: a DB built with a KEV catalog and a gzipped EPSS CSV among its sources gives the finding
/// its `exploit` object, and `kev`/`epss` gates select on it.
#[test]
fn kev_and_epss_from_the_db_reach_findings_and_gates() {
    use std::io::Write;
    let dir = project();
    let exploits = dir.path().join("exploits");
    std::fs::create_dir_all(&exploits).unwrap();
    std::fs::write(
        exploits.join("known_exploited_vulnerabilities.json"),
        r#"{"catalogVersion": "2099.01.05", "count": 1, "vulnerabilities": [
            {"cveID": "CVE-2099-0001", "vendorProject": "demo", "product": "demo-lib",
             "dateAdded": "2099-01-05", "dueDate": "2099-01-26", "knownRansomwareCampaignUse": "Unknown"}]}"#,
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(exploits.join("epss_scores-2099-01-05.csv.gz")).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(b"#model_version:v2025.03.14,score_date:2099-01-05T00:00:00+0000\ncve,epss,percentile\nCVE-2099-0001,0.71234,0.98765\n")
        .unwrap();
    gz.finish().unwrap();
    let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-vulndb/tests/fixtures/feed/osv");
    let out = palisade(
        &[
            "db",
            "build",
            "--db",
            "vuln.db",
            "--force",
            "--from",
            feed.to_str().unwrap(),
            "--from",
            "exploits",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let info = palisade(&["db", "info", "--db", "vuln.db"], dir.path());
    assert!(String::from_utf8_lossy(&info.stdout).contains("Exploit data: 1 CVEs"), "{info:?}");

    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("palisade-policy.yaml"),
        "apiVersion: palisade.dev/v1\nkind: PolicyBundle\nmetadata: {name: b, version: 1.0.0}\n",
    )
    .unwrap();
    std::fs::write(
        bundle.join("exploited.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: exploited}\nspec:\n  vulnerabilities: {kev: true, epss: {min: 0.5}}\n",
    )
    .unwrap();
    let (out, json) = scan(dir.path(), &bundle, "json");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&json).unwrap();
    let finding = report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["package_name"] == "demo-lib")
        .unwrap();
    assert_eq!(finding["exploit"]["kev_added"], "2099-01-05");
    assert_eq!(finding["exploit"]["epss"], 0.71234);
    let denied = report["policy"]["decisions"].as_array().unwrap();
    assert!(
        denied.iter().any(|d| d["policy"].as_str().is_some_and(|p| p.contains("exploited"))
            && d["action"] == "deny"
            && d["message"]
                .as_str()
                .is_some_and(|m| m.contains("in CISA KEV since 2099-01-05, EPSS 0.712, percentile 99"))),
        "{denied:#?}"
    );
}
