//! `palisade convert REPORT.json --format F [-o FILE]`: a report saved with `--format json` rendered in
//! another format without rescanning. The converted document must equal what the scan renders directly:
//! byte for byte for JSON, the same content (findings, packages, vulnerabilities) for the other formats,
//! once the scan time and the random document ids are set aside.
//!
//! The scan is real: a small project (npm lockfile, pinned requirements, a leaked key, a Dockerfile) against
//! a vulnerability DB built by `palisade db build --from` from `palisade-vulndb`'s synthetic OSV fixtures,
//! with an ignore file suppressing one vulnerability, so every finding kind and a suppression are converted.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A synthetic AWS secret key (not a real credential).
const FAKE_AWS_SECRET: &str = "AWS_SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ9xk3pLm2\n";

/// Every format `convert` must write, as `--format` spells them.
const FORMATS: [&str; 6] = ["json", "table", "sarif", "junit", "cyclonedx", "spdx-json"];

fn palisade(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).current_dir(cwd).output().expect("run palisade")
}

fn ok(args: &[&str], cwd: &Path) -> Vec<u8> {
    let out = palisade(args, cwd);
    assert!(
        out.status.success(),
        "palisade {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

struct Fixture {
    dir: tempfile::TempDir,
    project: PathBuf,
    db: PathBuf,
    ignore: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let project = dir.path().join("project");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(
            project.join("package-lock.json"),
            r#"{
  "name": "proj",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": { "name": "proj", "version": "1.0.0", "dependencies": { "demo-lib": "^2.2.0" } },
    "node_modules/demo-lib": {
      "version": "2.2.0",
      "resolved": "https://registry.npmjs.org/demo-lib/-/demo-lib-2.2.0.tgz",
      "license": "MIT"
    }
  }
}
"#,
        )
        .unwrap();
        std::fs::write(project.join("requirements.txt"), "demo-py==0.9\n").unwrap();
        std::fs::write(project.join("settings.env"), FAKE_AWS_SECRET).unwrap();
        std::fs::write(
            project.join("Dockerfile"),
            "FROM ubuntu:latest\nRUN curl -k https://example.com/i.sh | sh\n",
        )
        .unwrap();
        let ignore = dir.path().join(".palisadeignore");
        std::fs::write(&ignore, "ignore:\n  - id: CVE-2099-0007\n    reason: demo-py only runs in tests\n")
            .unwrap();

        let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-vulndb/tests/fixtures/feed/osv");
        let db = dir.path().join("palisade.db");
        ok(
            &["db", "build", "--db", db.to_str().unwrap(), "--from", feed.to_str().unwrap(), "-q"],
            dir.path(),
        );
        Fixture { dir, project, db, ignore }
    }

    /// `palisade scan fs` of the project with every scanner, in `format`, on stdout.
    fn scan(&self, format: &str) -> Vec<u8> {
        ok(
            &[
                "scan",
                "fs",
                self.project.to_str().unwrap(),
                "--scanners",
                "package,vuln,secret,misconfig",
                "--db",
                self.db.to_str().unwrap(),
                "--ignorefile",
                self.ignore.to_str().unwrap(),
                "--format",
                format,
                "-q",
            ],
            self.dir.path(),
        )
    }

    /// The saved JSON report, written with `-o`.
    fn saved_report(&self) -> PathBuf {
        let path = self.dir.path().join("report.json");
        let bytes = self.scan("json");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn convert(&self, report: &Path, format: &str) -> Vec<u8> {
        ok(&["convert", report.to_str().unwrap(), "--format", format], self.dir.path())
    }
}

/// A JSON document without what differs between two renders of the same findings: the scan time, the
/// document timestamps and the random serial number / namespace.
fn normalized_json(bytes: &[u8], what: &str) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in ["created", "timestamp", "serialNumber", "documentNamespace", "annotationDate"] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{what} is not JSON: {e}"));
    strip(&mut v);
    v
}

/// JUnit XML without the scan time property.
fn normalized_junit(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.contains("<property name=\"created\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifiers of a report's findings and packages: what a table of it must mention.
fn finding_keys(report: &Value) -> Vec<String> {
    let list = |section: &str, field: &str| -> Vec<String> {
        report[section]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f[field].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let mut keys = list("vulnerabilities", "id");
    keys.extend(list("secrets", "rule_id"));
    keys.extend(list("misconfigurations", "check_id"));
    keys.extend(list("packages", "name"));
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn a_saved_report_converts_to_every_format_like_the_scan_renders_it() {
    let fx = Fixture::new();
    let saved = fx.saved_report();
    let saved_bytes = std::fs::read(&saved).unwrap();
    let report: Value = serde_json::from_slice(&saved_bytes).unwrap();

    // The scan found something of every kind, and the ignore file suppressed a vulnerability.
    let vulns = report["vulnerabilities"].as_array().expect("vulnerabilities");
    assert!(vulns.iter().any(|v| v["package_name"] == "demo-lib" && v["suppressed"].is_null()), "{vulns:?}");
    assert!(vulns.iter().any(|v| v["suppressed"].as_str().is_some_and(|s| s.contains("only runs in tests"))));
    assert!(!report["secrets"].as_array().expect("secrets").is_empty());
    assert!(!report["misconfigurations"].as_array().expect("misconfigurations").is_empty());

    let direct: Vec<Vec<u8>> = FORMATS.iter().map(|f| fx.scan(f)).collect();
    // Without rescanning: the project and the DB are gone.
    std::fs::remove_dir_all(&fx.project).unwrap();
    std::fs::remove_file(&fx.db).unwrap();

    for (format, direct) in FORMATS.into_iter().zip(direct) {
        let converted = fx.convert(&saved, format);
        match format {
            // Reading and writing the report changes nothing.
            "json" => {
                assert_eq!(String::from_utf8_lossy(&converted), String::from_utf8_lossy(&saved_bytes));
                assert_eq!(normalized_json(&converted, "converted"), normalized_json(&direct, "direct"));
            }
            "junit" => assert_eq!(normalized_junit(&converted), normalized_junit(&direct), "junit"),
            "table" => {
                let (c, d) = (String::from_utf8_lossy(&converted), String::from_utf8_lossy(&direct));
                for key in finding_keys(&report) {
                    let count = |text: &str| text.lines().filter(|l| l.contains(&key)).count();
                    assert!(count(&c) > 0, "the converted table mentions {key}:\n{c}");
                    assert_eq!(count(&c), count(&d), "lines mentioning {key}:\n{c}\n---\n{d}");
                }
            }
            _ => assert_eq!(
                normalized_json(&converted, format),
                normalized_json(&direct, format),
                "{format}: converted and direct render differ"
            ),
        }
    }
}

#[test]
fn converted_sboms_say_why_the_build_failed() {
    let fx = Fixture::new();
    let saved = fx.saved_report();
    let bom: Value = serde_json::from_slice(&fx.convert(&saved, "cyclonedx")).unwrap();
    let vulns = bom["vulnerabilities"].as_array().expect("CycloneDX vulnerabilities");
    let refs: Vec<&Value> = bom["components"].as_array().unwrap().iter().map(|c| &c["bom-ref"]).collect();
    for v in vulns {
        assert!(refs.contains(&&v["affects"][0]["ref"]), "linked to a component: {v}");
    }
    let suppressed =
        vulns.iter().find(|v| v["id"] == "CVE-2099-0007").expect("the ignored finding is listed");
    assert_eq!(suppressed["analysis"]["state"], "exploitable");
    assert!(suppressed["analysis"]["detail"].as_str().unwrap().contains("only runs in tests"));
    assert!(vulns.iter().any(|v| v.get("analysis").is_none()), "the active finding has no analysis");

    let spdx: Value = serde_json::from_slice(&fx.convert(&saved, "spdx-json")).unwrap();
    let reviews: Vec<&str> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["annotations"].as_array().into_iter().flatten())
        .filter(|a| a["annotationType"] == "REVIEW")
        .filter_map(|a| a["comment"].as_str())
        .collect();
    assert!(reviews.iter().any(|r| r.contains("CVE-2099-0007") && r.contains("suppressed:")), "{reviews:?}");
}

#[test]
fn convert_writes_to_a_file_with_o() {
    let fx = Fixture::new();
    let saved = fx.saved_report();
    let out = fx.dir.path().join("out.sarif");
    let stdout = ok(
        &["convert", saved.to_str().unwrap(), "--format", "sarif", "-o", out.to_str().unwrap()],
        fx.dir.path(),
    );
    assert!(stdout.is_empty(), "the report goes to the file only");
    let written = std::fs::read(&out).expect("-o FILE written");
    assert_eq!(normalized_json(&written, "file"), normalized_json(&fx.convert(&saved, "sarif"), "stdout"));
}

#[test]
fn convert_refuses_what_is_not_a_palisade_report() {
    let dir = tempfile::tempdir().unwrap();
    let bom = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-inventory/tests/fixtures/sbom/trivy-fs-npm.cdx.json");
    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, "{\n  \"schema_version\": 1,\n  \"tool\": { \"name\": \"palisade\",").unwrap();
    let future = dir.path().join("future.json");
    std::fs::write(
        &future,
        r#"{"schema_version": 99, "tool": {"name": "palisade", "version": "9.0.0"}, "created": "2030-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let absent = dir.path().join("absent.json");
    for (input, says) in [
        (bom.as_path(), "CycloneDX"),
        (truncated.as_path(), "truncated"),
        (future.as_path(), "schema_version 99"),
        (absent.as_path(), "absent.json"),
    ] {
        let out = palisade(&["convert", input.to_str().unwrap(), "--format", "table"], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", input.display());
        assert!(stderr.contains(says), "{}: the error says {says:?}: {stderr}", input.display());
        assert!(out.stdout.is_empty(), "nothing on stdout");
    }
}
